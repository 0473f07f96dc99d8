import { describe, expect, it } from "vitest"
import { Lru } from "../../src/sql/Cache.ts"

describe("Lru", () => {
  it("is bounded and keeps recently used entries", () => {
    const c = new Lru<number>(10)
    for (let i = 0; i < 5; i++) c.set(`k${i}`, i)
    for (let i = 5; i < 100; i++) {
      expect(c.get("k0")).toBe(0) // used all the time: survives every turnover
      c.set(`k${i}`, i)
      expect(c.size).toBeLessThanOrEqual(10)
    }
    expect(c.get("k1")).toBeUndefined()
    expect(c.get("k99")).toBe(99)
    c.clear()
    expect(c.get("k99")).toBeUndefined()
  })
})
