import { describe, expect, it } from "vitest"
import { LockDeadlock, type LockOwner, LockWaitTimeout, WriteLock } from "../../src/storage/WriteLock.ts"

const owner = (id: number): LockOwner => ({ id, waitingFor: undefined })

describe("WriteLock", () => {
  it("is taken synchronously when free and is re-entrant for its holder", () => {
    const lock = new WriteLock("db")
    const a = owner(1)
    expect(lock.tryAcquire(a)).toBe(true)
    expect(lock.tryAcquire(a)).toBe(true)
    expect(lock.tryAcquire(owner(2))).toBe(false)
  })

  it("hands the lock to waiters in arrival order", async () => {
    const lock = new WriteLock("db")
    const [a, b, c] = [owner(1), owner(2), owner(3)]
    lock.tryAcquire(a)
    const order: Array<number> = []
    const pb = lock.acquire(b, 1000).then(() => order.push(2))
    const pc = lock.acquire(c, 1000).then(() => order.push(3))
    lock.release(a)
    await pb
    expect(lock.owner).toBe(b)
    lock.release(b)
    await pc
    expect(order).toEqual([2, 3])
  })

  it("times out a wait", async () => {
    const lock = new WriteLock("db")
    lock.tryAcquire(owner(1))
    const b = owner(2)
    await expect(lock.acquire(b, 20)).rejects.toBeInstanceOf(LockWaitTimeout)
    expect(b.waitingFor).toBeUndefined()
  })

  it("refuses a wait that closes a cycle", async () => {
    const x = new WriteLock("x")
    const y = new WriteLock("y")
    const [a, b] = [owner(1), owner(2)]
    x.tryAcquire(a)
    y.tryAcquire(b)
    const bWaits = x.acquire(b, 1000)
    await expect(y.acquire(a, 1000)).rejects.toBeInstanceOf(LockDeadlock)
    x.release(a)
    await bWaits
    expect(x.owner).toBe(b)
  })
})
