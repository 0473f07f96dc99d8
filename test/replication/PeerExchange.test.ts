import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber } from "effect"
import { PeerUnavailable } from "../../proto-schemas/src/Errors.ts"
import { AbortStep, Acked, type ExchangeRequest, ExchangeResponse } from "../../proto-schemas/src/Exchange.ts"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { AbortRequest } from "../../proto-schemas/src/Transaction.ts"
import type { PeerLane } from "../../src/network/PeerLane.ts"
import { decodeRequest, encodeResponse } from "../../src/replication/ExchangeCodec.ts"
import { makePeerExchange } from "../../src/replication/PeerExchange.ts"

const peer = { nodeId: nodeId(2), address: "10.0.0.2:7000" }
const abort = (i: number) => new AbortStep({ request: new AbortRequest({ txnId: `00000000000000${String(i).padStart(2, "0")}-00000001` }) })

/** A peer whose exchanges wait for `release` and then acknowledge each step with logical = its index. */
const fakePeer = (release: Deferred.Deferred<void>, fail = false) => {
  const sent: Array<ExchangeRequest> = []
  const lane: PeerLane["Type"] = {
    call: (_peer, frame) =>
      Effect.gen(function*() {
        const request = decodeRequest(frame)
        sent.push(request)
        yield* Deferred.await(release)
        if (fail) return yield* Effect.fail(new PeerUnavailable({ nodeId: peer.nodeId }))
        return encodeResponse(
          new ExchangeResponse({ outcomes: request.steps.map((s) => new Acked({ hlc: Hlc.make(1, Number(s.request.txnId.slice(14, 16)), 2) })) })
        )
      }),
    serve: () => Effect.void
  }
  return { lane, sent }
}

describe("PeerExchange", () => {
  it.scoped("steps queued while exchanges are in flight leave together, and each gets its own outcome", () =>
    Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const { lane, sent } = fakePeer(release)
      const exchange = yield* makePeerExchange(lane, { timeout: Duration.seconds(5), maxInFlight: 2 })
      const fibers = yield* Effect.forEach(Array.from({ length: 10 }, (_, i) => i), (i) => Effect.fork(exchange.send(peer, abort(i))))
      for (let i = 0; i < 100 && sent.length < 2; i++) yield* Effect.yieldNow()
      yield* Effect.yieldNow()
      // the first two went out alone, one exchange each; the other eight wait for a free slot
      assert.deepStrictEqual(sent.map((r) => r.steps.length), [1, 1])
      yield* Deferred.succeed(release, undefined)
      const outcomes = yield* Effect.forEach(fibers, Fiber.join)
      assert.deepStrictEqual(outcomes.map((o) => o._tag === "Acked" ? o.hlc.logical : -1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      assert.deepStrictEqual(sent.map((r) => r.steps.length), [1, 1, 8])
    }))

  it.scoped("an exchange that gets no answer fails every step it carries with PeerUnavailable, and the line goes on", () =>
    Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const { lane } = fakePeer(release, true)
      const exchange = yield* makePeerExchange(lane, { timeout: Duration.seconds(5), maxInFlight: 1 })
      const fibers = yield* Effect.forEach([0, 1, 2], (i) => Effect.fork(exchange.send(peer, abort(i))))
      yield* Deferred.succeed(release, undefined)
      for (const f of fibers) assert.deepStrictEqual(yield* Effect.exit(Fiber.join(f)), Exit.fail(new PeerUnavailable({ nodeId: peer.nodeId })))
    }))
})
