/**
 * The simulated network on its own: order, loss, partitions, crashes and stopped servers, with an
 * echo server and TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Scope, TestClock } from "effect"
import { GossipResponse, JoinResponse, nodeId, PingRequest, PingResponse } from "../../proto-schemas/src/Gossip.ts"
import { GossipRpcs } from "../../src/membership/GossipRpcs.ts"
import * as ClusterAuth from "../../src/network/ClusterAuth.ts"
import { makePeerClient, PeerClientProtocol } from "../../src/network/PeerNetwork.ts"
import * as PeerServer from "../../src/network/PeerServer.ts"
import { type SimConditions, SimNetwork } from "../../src/network/SimNetwork.ts"

const secret = Option.some(Redacted.make("sim"))

/** A network with an echo server at "b" that records the `from` of every Ping, and a client at "a". */
const setup = (conditions: Partial<SimConditions>) =>
  Effect.gen(function*() {
    const network = yield* SimNetwork.make({ seed: "sim-test", ...conditions })
    const arrivals: Array<number> = []
    const handlers = GossipRpcs.toLayer({
      Gossip: (request) => Effect.succeed(new GossipResponse({ members: request.members })),
      Join: (request) => Effect.succeed(new JoinResponse({ members: [request.member] })),
      Ping: (request) =>
        Effect.sync(() => {
          arrivals.push(request.from)
          return new PingResponse({ nodeId: nodeId(2), status: "ALIVE", incarnation: 0 })
        })
    })
    const serverScope = yield* Scope.make()
    yield* Layer.buildWithScope(
      PeerServer.layer(GossipRpcs).pipe(
        Layer.provide([handlers, ClusterAuth.layerServer(secret)]),
        Layer.provide(PeerServer.layerProtocolSim("b")),
        Layer.provide(Layer.succeed(SimNetwork, network))
      ),
      serverScope
    )
    const peers = yield* makePeerClient(GossipRpcs, { timeout: Duration.seconds(2) }).pipe(
      Effect.provide(PeerClientProtocol.layerSim("a")),
      Effect.provide(ClusterAuth.layerClient(secret)),
      Effect.provide(Layer.succeed(SimNetwork, network))
    )
    const ping = (n: number) => peers.callAddress("b", (c) => c.Ping(new PingRequest({ from: nodeId(n) })))
    return { network, arrivals, ping, stopServer: Scope.close(serverScope, Exit.void) }
  })

/** Runs `effect` in a fiber while the test clock moves `ms` forward in `stepMs` steps. */
const withTime = <A, E>(effect: Effect.Effect<A, E>, ms: number, stepMs = 10) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let t = 0; t < ms; t += stepMs) yield* TestClock.adjust(Duration.millis(stepMs))
    return yield* Fiber.await(fiber)
  })

describe("SimNetwork", () => {
  it.scoped("one connection delivers in order, once, whatever the random delays", () =>
    Effect.gen(function*() {
      const sim = yield* setup({ minDelayMs: 1, maxDelayMs: 50 })
      const exit = yield* withTime(Effect.forEach([1, 2, 3, 4, 5, 6, 7, 8], sim.ping, { concurrency: "unbounded" }), 500)
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(sim.arrivals, [1, 2, 3, 4, 5, 6, 7, 8])
      const stats = yield* sim.network.stats
      assert.deepStrictEqual([stats.sent, stats.delivered, stats.dropped], [16, 16, 0])
    }))

  it.scoped("loses about dropRate of the messages", () =>
    Effect.gen(function*() {
      const sim = yield* setup({ dropRate: 0.3, minDelayMs: 1, maxDelayMs: 1 })
      yield* withTime(Effect.forEach(Array.from({ length: 60 }, (_, i) => i), (i) => Effect.exit(sim.ping(i)), { concurrency: "unbounded" }), 2500, 500)
      const stats = yield* sim.network.stats
      const rate = stats.dropped / stats.sent
      assert.isAbove(rate, 0.2)
      assert.isBelow(rate, 0.4)
    }))

  it.scoped("a partition is a black hole until healed", () =>
    Effect.gen(function*() {
      const sim = yield* setup({})
      yield* sim.network.partition(["a"], ["b"])
      const cut = yield* withTime(Effect.flip(sim.ping(1)), 2100, 100)
      assert.isTrue(Exit.isSuccess(cut) && cut.value._tag === "PeerConnectionError" && cut.value.reason === "Timeout")
      yield* sim.network.heal
      assert.isTrue(Exit.isSuccess(yield* withTime(sim.ping(2), 100)))
      assert.deepStrictEqual(sim.arrivals, [2])
    }))

  it.scoped("a crashed node cannot send; a stopped server refuses", () =>
    Effect.gen(function*() {
      const sim = yield* setup({})
      yield* sim.network.crash("a")
      const crashed = yield* Effect.flip(sim.ping(1))
      assert.deepStrictEqual(crashed._tag === "PeerConnectionError" && crashed.reason, "Transport")
      yield* sim.network.restart("a")
      assert.isTrue(Exit.isSuccess(yield* withTime(sim.ping(2), 100)))
      yield* sim.stopServer
      const refused = yield* Effect.flip(sim.ping(3))
      assert.deepStrictEqual(refused._tag === "PeerConnectionError" && refused.reason, "Transport")
    }))
})
