import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, FastCheck as fc, Schema, TestClock } from "effect"
import { ClockSkewError } from "../../proto-schemas/src/Errors.ts"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { nodeId as toNodeId } from "../../proto-schemas/src/NodeId.ts"
import { HlcClock } from "../../src/clock/HlcClock.ts"

// Schema.is of a Class trusts its instances: check the fields themselves.
const valid = Schema.is(Schema.Struct(Hlc.Hlc.fields))
const fields = (h: Hlc.Hlc) => [h.wallMs, h.logical, h.nodeId]

/** HLCs whose wall stays clear of the 2^47 ceiling, so overflow by a few ms is representable. */
const hlc = fc.record({
  wallMs: fc.integer({ min: 0, max: 2 ** 46 }),
  logical: fc.oneof(fc.integer({ min: 0, max: Hlc.maxLogical }), fc.integer({ min: Hlc.maxLogical - 3, max: Hlc.maxLogical })),
  nodeId: fc.integer({ min: 0, max: 0xffff_ffff })
}).map(({ logical, nodeId, wallMs }) => Hlc.make(wallMs, logical, nodeId))

/** Few distinct values, so ties on every field are common. */
const tiedHlc = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
  .map(([w, l, n]) => Hlc.make(w, l, n))

describe("Hlc (pure)", () => {
  it.prop("compare is a total order", [tiedHlc, tiedHlc, tiedHlc], ([a, b, c]) => {
    assert.strictEqual(Hlc.compare(a, a), 0)
    assert.strictEqual(Hlc.compare(a, b), -Hlc.compare(b, a) || 0)
    assert.strictEqual(Hlc.compare(a, b) === 0, fields(a).join() === fields(b).join())
    if (Hlc.compare(a, b) <= 0 && Hlc.compare(b, c) <= 0) assert.isTrue(Hlc.compare(a, c) <= 0)
  })

  it("compare orders by wall, then logical, then the higher node id", () => {
    assert.strictEqual(Hlc.compare(Hlc.make(2, 0, 0), Hlc.make(1, 9, 9)), 1)
    assert.strictEqual(Hlc.compare(Hlc.make(1, 2, 0), Hlc.make(1, 1, 9)), 1)
    assert.strictEqual(Hlc.compare(Hlc.make(1, 1, 7), Hlc.make(1, 1, 3)), 1)
    assert.deepStrictEqual(fields(Hlc.max(Hlc.make(1, 1, 3), Hlc.make(1, 1, 7))), [1, 1, 7])
  })

  it.prop("max is the later of the two", [tiedHlc, tiedHlc], ([a, b]) => {
    const m = Hlc.max(a, b)
    assert.isTrue(Hlc.compare(m, a) >= 0 && Hlc.compare(m, b) >= 0)
    assert.isTrue(m === a || m === b)
  })

  it.prop(
    "tick is strictly increasing for any physical times, going back included",
    [hlc, fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 200 })],
    ([start, steps]) => {
      let prev = start
      let physical = start.wallMs
      for (const step of steps) {
        physical = Math.max(0, physical + step)
        const next = Hlc.tick(prev, physical, start.nodeId)
        assert.strictEqual(Hlc.compare(next, prev), 1)
        assert.isTrue(valid(next))
        assert.isTrue(next.wallMs >= physical)
        assert.isTrue(next.wallMs <= Math.max(prev.wallMs, physical) + 1)
        assert.strictEqual(next.nodeId, start.nodeId)
        prev = next
      }
    }
  )

  it("tick restarts the counter when the wall moves and counts on otherwise", () => {
    assert.deepStrictEqual(fields(Hlc.tick(Hlc.make(100, 7, 1), 150, 1)), [150, 0, 1])
    assert.deepStrictEqual(fields(Hlc.tick(Hlc.make(100, 7, 1), 100, 1)), [100, 8, 1])
    assert.deepStrictEqual(fields(Hlc.tick(Hlc.make(100, 7, 1), 40, 1)), [100, 8, 1])
  })

  it("logical overflow advances the wall by 1 ms instead of waiting", () => {
    assert.deepStrictEqual(fields(Hlc.tick(Hlc.make(100, Hlc.maxLogical, 1), 100, 1)), [101, 0, 1])
    assert.deepStrictEqual(fields(Hlc.tick(Hlc.make(100, Hlc.maxLogical, 1), 90, 1)), [101, 0, 1])
    const local = Hlc.make(100, Hlc.maxLogical, 1)
    const remote = Hlc.make(100, 3, 2)
    assert.deepStrictEqual(fields(Either.getOrThrow(Hlc.receive(local, remote, 100, 1000))), [101, 0, 1])
    assert.deepStrictEqual(fields(Either.getOrThrow(Hlc.receive(remote, local, 100, 1000))), [101, 0, 2])
    // 65,536 ticks in one ms move the wall once; the next physical ms catches up.
    let h = Hlc.make(100, 0, 1)
    for (let i = 0; i < 65_536; i++) h = Hlc.tick(h, 100, 1)
    assert.deepStrictEqual(fields(h), [101, 0, 1])
    assert.deepStrictEqual(fields(Hlc.tick(h, 101, 1)), [101, 1, 1])
    assert.deepStrictEqual(fields(Hlc.tick(h, 102, 1)), [102, 0, 1])
  })

  it.prop(
    "receive is later than both clocks, or refuses a remote too far ahead",
    [hlc, fc.integer({ min: -3, max: 3 }), hlc, fc.integer({ min: -2000, max: 2000 }), fc.integer({ min: 0, max: 1000 })],
    ([local, remoteWallDelta, other, offset, maxDriftMs]) => {
      // A remote wall near the local one (ties are where the counters matter), or anywhere.
      const remote = remoteWallDelta === 3 ? other : Hlc.make(Math.max(0, local.wallMs + remoteWallDelta), other.logical, other.nodeId)
      // Physical time around either clock, so every branch is reached.
      const physical = Math.max(0, (offset % 2 === 0 ? local.wallMs : remote.wallMs) + offset)
      const result = Hlc.receive(local, remote, physical, maxDriftMs)
      if (remote.wallMs - Math.max(physical, local.wallMs) > maxDriftMs) {
        assert.isTrue(Either.isLeft(result))
        if (Either.isLeft(result)) {
          assert.instanceOf(result.left, ClockSkewError)
          assert.strictEqual(result.left.driftMs, remote.wallMs - Math.max(physical, local.wallMs))
          assert.strictEqual(result.left.nodeId, remote.nodeId)
        }
      } else {
        const merged = Either.getOrThrow(result)
        assert.strictEqual(Hlc.compare(merged, local), 1)
        assert.strictEqual(Hlc.compare(merged, remote), 1)
        assert.isTrue(valid(merged))
        assert.isTrue(merged.wallMs >= physical)
        assert.isTrue(merged.wallMs <= Math.max(local.wallMs, remote.wallMs, physical) + 1)
        assert.strictEqual(merged.nodeId, local.nodeId)
      }
    },
    { fastCheck: { numRuns: 1000 } }
  )

  it("receive follows Marmot's cases", () => {
    const r = (local: Hlc.Hlc, remote: Hlc.Hlc, physical: number) => fields(Either.getOrThrow(Hlc.receive(local, remote, physical, 10_000)))
    assert.deepStrictEqual(r(Hlc.make(100, 5, 1), Hlc.make(100, 9, 2), 50), [100, 10, 1]) // same wall: max + 1
    assert.deepStrictEqual(r(Hlc.make(100, 5, 1), Hlc.make(200, 9, 2), 50), [200, 10, 1]) // remote ahead
    assert.deepStrictEqual(r(Hlc.make(300, 5, 1), Hlc.make(200, 9, 2), 50), [300, 6, 1]) // local ahead
    assert.deepStrictEqual(r(Hlc.make(100, 5, 1), Hlc.make(200, 9, 2), 400), [400, 0, 1]) // physical ahead
    assert.deepStrictEqual(r(Hlc.make(400, 5, 1), Hlc.make(200, 9, 2), 400), [400, 6, 1]) // same ms as local
  })

  it.prop("stamps order like compare (node id kept apart)", [tiedHlc, tiedHlc, hlc, hlc], ([a, b, c, d]) => {
    for (const [x, y] of [[a, b], [c, d]] as const) {
      assert.strictEqual(Hlc.compareStamps(Hlc.toStamp(x), x.nodeId, Hlc.toStamp(y), y.nodeId), Hlc.compare(x, y))
      if (x.nodeId === y.nodeId) {
        const sx = Hlc.toStamp(x)
        const sy = Hlc.toStamp(y)
        assert.strictEqual(sx < sy ? -1 : sx > sy ? 1 : 0, Hlc.compare(x, y))
      }
    }
  })

  it.prop("fromStamp inverts toStamp and stamps fit a signed 64-bit INTEGER", [Hlc.Hlc], ([h]) => {
    const stamp = Hlc.toStamp(h)
    assert.isTrue(stamp >= 0n && stamp < 2n ** 63n)
    assert.deepStrictEqual(fields(Hlc.fromStamp(stamp, h.nodeId)), fields(h))
  })

  it("toStamp and txnId lay the bits out as documented", () => {
    const h = Hlc.make(1_700_000_000_000, 7, 65)
    assert.strictEqual(Hlc.toStamp(h), (1_700_000_000_000n << 16n) | 7n)
    assert.strictEqual(Hlc.txnId(h), (1_700_000_000_000n << 22n) | (1n << 16n) | 7n)
    // node ids 1 and 65 agree in their low 6 bits: Marmot's txn id cannot tell them apart.
    assert.strictEqual(Hlc.txnId(Hlc.make(5, 7, 1)), Hlc.txnId(Hlc.make(5, 7, 65)))
  })

  it("the schema refuses out-of-range fields", () => {
    const decode = Schema.decodeUnknownEither(Hlc.Hlc)
    assert.isTrue(Either.isRight(decode({ wallMs: 1, logical: Hlc.maxLogical, nodeId: 0xffff_ffff })))
    assert.isTrue(Either.isLeft(decode({ wallMs: 1, logical: Hlc.maxLogical + 1, nodeId: 0 })))
    assert.isTrue(Either.isLeft(decode({ wallMs: 1.5, logical: 0, nodeId: 0 })))
    assert.isTrue(Either.isLeft(decode({ wallMs: 1, logical: 0, nodeId: -1 })))
    assert.isTrue(Either.isLeft(decode({ wallMs: 2 ** 47, logical: 0, nodeId: 0 })))
  })
})

describe("HlcClock", () => {
  const nodeId = 3
  const layer = HlcClock.layer({ nodeId, maxDriftMs: 500 })

  it.effect("follows TestClock", () =>
    Effect.gen(function*() {
      const clock = yield* HlcClock
      yield* TestClock.adjust(1000)
      assert.deepStrictEqual(fields(yield* clock.now), [1000, 0, nodeId])
      assert.deepStrictEqual(fields(yield* clock.now), [1000, 1, nodeId])
      assert.deepStrictEqual(fields(yield* clock.current), [1000, 1, nodeId])
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(fields(yield* clock.now), [1001, 0, nodeId])
    }).pipe(Effect.provide(layer)))

  it.effect("never goes back when the physical clock does", () =>
    Effect.gen(function*() {
      const clock = yield* HlcClock
      yield* TestClock.setTime(5000)
      const before = yield* clock.now
      yield* TestClock.setTime(4000)
      const after = yield* clock.now
      assert.strictEqual(Hlc.compare(after, before), 1)
      assert.deepStrictEqual(fields(after), [5000, 1, nodeId])
    }).pipe(Effect.provide(layer)))

  it.effect("observe moves past a peer within the drift limit", () =>
    Effect.gen(function*() {
      const clock = yield* HlcClock
      yield* TestClock.adjust(1000)
      const remote = Hlc.make(1400, 9, 7)
      const merged = yield* clock.observe(remote)
      assert.deepStrictEqual(fields(merged), [1400, 10, nodeId])
      assert.strictEqual(Hlc.compare(yield* clock.now, remote), 1)
    }).pipe(Effect.provide(layer)))

  it.effect("observe refuses a peer too far ahead and leaves the clock alone", () =>
    Effect.gen(function*() {
      const clock = yield* HlcClock
      yield* TestClock.adjust(1000)
      const issued = yield* clock.now
      const exit = yield* Effect.exit(clock.observe(Hlc.make(1501, 0, 7)))
      assert.deepStrictEqual(exit, Exit.fail(new ClockSkewError({ driftMs: 501, maxDriftMs: 500, nodeId: toNodeId(7) })))
      assert.deepStrictEqual(fields(yield* clock.current), fields(issued))
      const error = yield* Effect.flip(clock.observe(Hlc.make(5000, 0, 7)))
      assert.strictEqual(error._tag, "ClockSkewError")
      assert.strictEqual(error.driftMs, 4000)
      // Once physical time catches up, the same message is accepted.
      yield* TestClock.adjust(4000)
      assert.deepStrictEqual(fields(yield* clock.observe(Hlc.make(5000, 0, 7))), [5000, 1, nodeId])
    }).pipe(Effect.provide(layer)))

  it.effect("after the wall clock steps back, a peer near the time already reached is accepted", () =>
    Effect.gen(function*() {
      const clock = yield* HlcClock
      yield* TestClock.adjust(10_000)
      yield* clock.now
      yield* TestClock.adjust(-8_000) // the machine's clock goes back 8 s (more than the 500 ms limit)
      const peer = Hlc.make(10_100, 0, 7) // a peer whose clock kept running
      assert.deepStrictEqual(fields(yield* clock.observe(peer)), [10_100, 1, nodeId])
      assert.strictEqual(Hlc.compare(yield* clock.now, peer), 1)
      // ahead of both the time reached and the physical clock by more than the limit: refused
      const error = yield* Effect.flip(clock.observe(Hlc.make(10_700, 0, 7)))
      assert.strictEqual(error.driftMs, 600) // measured from 10_100, the time reached
    }).pipe(Effect.provide(layer)))

  it.effect("starts after the initial timestamp", () =>
    Effect.gen(function*() {
      const clock = yield* HlcClock
      assert.deepStrictEqual(fields(yield* clock.current), [9000, 4, nodeId])
      assert.deepStrictEqual(fields(yield* clock.now), [9000, 5, nodeId])
    }).pipe(Effect.provide(HlcClock.layer({ nodeId, maxDriftMs: 500, initial: Hlc.make(9000, 4, 1) }))))

  it.effect("concurrent fibers get distinct, increasing timestamps", () =>
    Effect.gen(function*() {
      const clock = yield* HlcClock
      const stamps = yield* Effect.all(
        Array.from({ length: 200 }, (_, i) => Effect.zipRight(TestClock.adjust(i % 3), clock.now)),
        { concurrency: "unbounded" }
      )
      const sorted = [...stamps].sort(Hlc.compare)
      for (let i = 1; i < sorted.length; i++) assert.strictEqual(Hlc.compare(sorted[i]!, sorted[i - 1]!), 1)
    }).pipe(Effect.provide(layer)))
})
