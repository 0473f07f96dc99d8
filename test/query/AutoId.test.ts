import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { AutoIdGenerator, type AutoIdMode, COMPACT_EPOCH_MS, decodeAutoId } from "../../src/query/AutoId.ts"

/** A clock that a test moves: each call returns the next scripted value (the last one repeats). */
const scripted = (times: ReadonlyArray<number>) => {
  let i = 0
  return () => times[Math.min(i++, times.length - 1)]!
}

const modes: ReadonlyArray<AutoIdMode> = ["compact", "extended"]
const T0 = Date.UTC(2026, 10, 25, 3, 0, 0)

describe("AutoIdGenerator", () => {
  it("lays ids out as marmot.md §10 says", () => {
    const compact = new AutoIdGenerator({ mode: "compact", nodeId: 5, workerIndex: 0, workerCount: 1 }, () => T0).next()
    expect(compact).toBe((BigInt(T0 - COMPACT_EPOCH_MS) << 12n) | (5n << 6n))
    expect(compact < 2n ** 53n).toBe(true)
    expect((compact >> 6n) & 63n).toBe(5n)
    const extended = new AutoIdGenerator({ mode: "extended", nodeId: 69, workerIndex: 0, workerCount: 1 }, () => T0).next()
    expect(extended).toBe((BigInt(T0) << 22n) | (5n << 16n))
    expect(decodeAutoId("extended", extended)).toEqual({ unixMs: T0, node: 5, seq: 0 })
    // before the compact epoch the time field is 0, not negative
    expect(new AutoIdGenerator({ mode: "compact", nodeId: 1, workerIndex: 0, workerCount: 1 }, () => 0).next()).toBe(1n << 6n)
  })

  it("ids of one generator strictly ascend whatever the clock does (backwards, stalls, bursts)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...modes),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 400 }),
        (mode, workers, steps) => {
          let t = T0
          const times = steps.map((d) => (t += d))
          const g = new AutoIdGenerator({ mode, nodeId: 3, workerIndex: workers - 1, workerCount: workers }, scripted(times))
          let last = -1n
          for (let i = 0; i < times.length; i++) {
            const id = g.next()
            if (id <= last) return false
            last = id
          }
          return true
        }
      ),
      { numRuns: 300 }
    )
  })

  it("nodes and the worker processes of a node never hand out the same id", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...modes),
        fc.integer({ min: 1, max: 4 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 300 }),
        (mode, workers, nodes, steps) => {
          // every generator sees the same clock, which sometimes stalls so sequences overflow
          let t = T0
          const times = steps.map((d) => (t += d))
          const seen = new Set<bigint>()
          for (const nodeId of nodes) {
            for (let w = 0; w < workers; w++) {
              const g = new AutoIdGenerator({ mode, nodeId, workerIndex: w, workerCount: workers }, scripted(times))
              for (let i = 0; i < times.length; i++) {
                const id = g.next()
                if (seen.has(id)) return false
                seen.add(id)
                const d = decodeAutoId(mode, id)
                if (d.node !== nodeId || d.seq % workers !== w) return false
              }
            }
          }
          return true
        }
      ),
      { numRuns: 200 }
    )
  })

  it("moves to the next millisecond when one millisecond's sequence is used up", () => {
    const g = new AutoIdGenerator({ mode: "compact", nodeId: 1, workerIndex: 1, workerCount: 2 }, () => T0)
    const ids = Array.from({ length: 33 }, () => g.next())
    const decoded = ids.map((id) => decodeAutoId("compact", id))
    expect(decoded.slice(0, 32).every((d) => d.unixMs === T0)).toBe(true)
    expect(decoded.slice(0, 32).map((d) => d.seq)).toEqual(Array.from({ length: 32 }, (_, k) => 1 + 2 * k))
    expect(decoded[32]).toEqual({ unixMs: T0 + 1, node: 1, seq: 1 })
  })

  it("refuses a layout it cannot keep unique", () => {
    expect(() => new AutoIdGenerator({ mode: "compact", nodeId: 1, workerIndex: 0, workerCount: 65 })).toThrow(/at most 64/)
    expect(() => new AutoIdGenerator({ mode: "compact", nodeId: 1, workerIndex: 2, workerCount: 2 })).toThrow(RangeError)
  })
})

describe("AutoIdGenerator.observe", () => {
  it("moves later ids past an explicit id near the clock, and ignores ids far ahead or behind", () => {
    const g = new AutoIdGenerator({ mode: "compact", nodeId: 1, workerIndex: 0, workerCount: 1 }, () => T0)
    const first = g.next()
    g.observe(first + 10n)
    expect(g.next()).toBeGreaterThan(first + 10n)
    const ahead = (BigInt(T0 - COMPACT_EPOCH_MS + 3_600_000) << 12n)
    const before = g.next()
    g.observe(ahead)
    const after = g.next()
    expect(after).toBeGreaterThan(before)
    expect(after).toBeLessThan(ahead)
    g.observe(1n)
    expect(g.next()).toBeGreaterThan(after)
  })
})
