/**
 * A bounded LRU map (insertion order of a Map = recency order). A hit moves the entry to the
 * most-recent end; an insert past capacity evicts the least recent.
 */
export class Lru<V> {
  private readonly map = new Map<string, V>()

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size
  }

  get(key: string): V | undefined {
    const v = this.map.get(key)
    if (v !== undefined) {
      this.map.delete(key)
      this.map.set(key, v)
    }
    return v
  }

  set(key: string, value: V): void {
    if (this.map.has(key)) this.map.delete(key)
    else if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next()
      if (oldest.done !== true) this.map.delete(oldest.value)
    }
    this.map.set(key, value)
  }

  clear(): void {
    this.map.clear()
  }
}
