/**
 * The peer transport over real TCP on 127.0.0.1 (ephemeral ports): the gossip RPCs, cluster
 * authentication, unreachable peers, and two membership nodes finding each other.
 */
import { SocketServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Layer, Logger, Option, Redacted, Schedule, Scope } from "effect"
import {
  GossipRequest,
  GossipResponse,
  JoinResponse,
  MemberState,
  nodeId,
  PingRequest,
  PingResponse
} from "../../proto-schemas/src/Gossip.ts"
import { GossipRpcs } from "../../src/membership/GossipRpcs.ts"
import { Membership, MembershipConfig } from "../../src/membership/Membership.ts"
import { MembershipStore } from "../../src/membership/MembershipStore.ts"
import * as ClusterAuth from "../../src/network/ClusterAuth.ts"
import { makePeerClient, PeerClientProtocol, PeerUnavailable } from "../../src/network/PeerNetwork.ts"
import * as PeerServer from "../../src/network/PeerServer.ts"

const SECRET = "correct horse battery staple"
const secret = (s: string | undefined) => s === undefined ? Option.none() : Option.some(Redacted.make(s))

const alice = new MemberState({ nodeId: nodeId(7), address: "127.0.0.1:1", status: "ALIVE", incarnation: 3, heartbeat: 9, meta: { db: "2" } })

const echoHandlers = GossipRpcs.toLayer({
  Gossip: (request) => Effect.succeed(new GossipResponse({ members: request.members })),
  Join: (request) => Effect.succeed(new JoinResponse({ members: [request.member] })),
  Ping: () => Effect.succeed(new PingResponse({ nodeId: nodeId(42), status: "ALIVE", incarnation: 1 }))
})

const tcpAddress = (context: Context.Context<SocketServer.SocketServer>) => {
  const address = Context.get(context, SocketServer.SocketServer).address
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return `127.0.0.1:${address.port}`
}

/** Starts an echo peer server on a free port; returns its address and the scope that stops it. */
const startServer = Effect.gen(function*() {
  const scope = yield* Scope.make()
  const context = yield* Layer.buildWithScope(
    PeerServer.layer(GossipRpcs).pipe(
      Layer.provide(echoHandlers),
      Layer.provide(ClusterAuth.layerServer(secret(SECRET))),
      Layer.provideMerge(PeerServer.layerProtocolSocket({ host: "127.0.0.1", port: 0 }))
    ),
    scope
  )
  return { address: tcpAddress(context), stop: Scope.close(scope, Exit.void) }
})

const clientWith = (presented: string | undefined) =>
  makePeerClient(GossipRpcs, { timeout: Duration.seconds(5) }).pipe(
    Effect.provide(PeerClientProtocol.layerSocket()),
    Effect.provide(ClusterAuth.layerClient(secret(presented)))
  )

/** Collects every log line (message and annotations) written while `effect` runs. */
const capturingLogs = <A, E, R>(effect: (lines: ReadonlyArray<string>) => Effect.Effect<A, E, R>) => {
  const lines: Array<string> = []
  const capture = Logger.make(({ annotations, message }) => {
    lines.push(`${JSON.stringify(message)} ${JSON.stringify(Object.fromEntries(annotations))}`)
  })
  return effect(lines).pipe(Effect.provide(Logger.add(capture)))
}

describe("peer transport over TCP", () => {
  it.scopedLive("Gossip, Join and Ping round-trip through Schema and msgpack with the cluster secret", () =>
    Effect.gen(function*() {
      const server = yield* startServer
      const peers = yield* clientWith(SECRET)
      const gossip = yield* peers.callAddress(server.address, (c) => c.Gossip(new GossipRequest({ from: nodeId(7), members: [alice] })))
      assert.deepStrictEqual(gossip.members, [alice])
      assert.instanceOf(gossip.members[0], MemberState)
      const join = yield* peers.callAddress(server.address, (c) => c.Join({ member: alice }))
      assert.deepStrictEqual(join.members, [alice])
      const ping = yield* peers.callAddress(server.address, (c) => c.Ping(new PingRequest({ from: nodeId(7) })))
      assert.deepStrictEqual([ping.nodeId, ping.status], [42, "ALIVE"])
      yield* server.stop
    }))

  it.scopedLive("a wrong secret and a missing secret are refused with Unauthorized, and no log shows a secret", () =>
    capturingLogs((lines) =>
      Effect.gen(function*() {
        const server = yield* startServer
        const wrong = yield* clientWith("tr0ub4dor&3")
        const wrongExit = yield* Effect.exit(wrong.callAddress(server.address, (c) => c.Ping(new PingRequest({ from: nodeId(7) }))))
        assert.deepStrictEqual(wrongExit, Exit.fail(new ClusterAuth.Unauthorized()))

        const anonymous = yield* clientWith(undefined)
        const anonymousExit = yield* Effect.exit(
          anonymous.callAddress(server.address, (c) => c.Gossip(new GossipRequest({ from: nodeId(7), members: [alice] })))
        )
        assert.deepStrictEqual(anonymousExit, Exit.fail(new ClusterAuth.Unauthorized()))
        yield* server.stop

        const refusals = lines.filter((l) => l.includes("peer request refused"))
        assert.strictEqual(refusals.length, 2)
        assert.isTrue(refusals.some((l) => l.includes("invalid cluster secret")))
        assert.isTrue(refusals.some((l) => l.includes("missing cluster secret")))
        for (const line of lines) {
          assert.notInclude(line, SECRET)
          assert.notInclude(line, "tr0ub4dor&3")
        }
      })
    ))

  it.scopedLive("a stopped or absent server is PeerUnavailable, and the next call reconnects", () =>
    Effect.gen(function*() {
      const server = yield* startServer
      const peers = yield* clientWith(SECRET)
      const ping = (address: string) => peers.callAddress(address, (c) => c.Ping(new PingRequest({ from: nodeId(7) })))
      yield* ping(server.address)
      yield* server.stop

      const afterStop = yield* Effect.flip(ping(server.address))
      assert.strictEqual(afterStop._tag, "PeerConnectionError")
      const nowhere = yield* Effect.flip(ping("127.0.0.1:1"))
      assert.deepStrictEqual(nowhere._tag === "PeerConnectionError" ? nowhere.reason : nowhere._tag, "Transport")
      const garbage = yield* Effect.flip(ping("no port here"))
      assert.strictEqual(garbage._tag, "PeerConnectionError")
      // The same failure for a known member is the wire error PeerUnavailable, with its node id.
      const member = yield* Effect.flip(peers.call({ nodeId: nodeId(5), address: "127.0.0.1:1" }, (c) => c.Ping(new PingRequest({ from: nodeId(7) }))))
      assert.deepStrictEqual(member, new PeerUnavailable({ nodeId: nodeId(5) }))

      const again = yield* startServer
      assert.strictEqual((yield* ping(again.address)).nodeId, 42)
      yield* again.stop
    }))

  it.scopedLive("two membership nodes over TCP see each other ALIVE, then LEAVING when one stops", () =>
    Effect.gen(function*() {
      const node = (id: number, seeds: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const protocol = yield* Layer.buildWithScope(PeerServer.layerProtocolSocket({ host: "127.0.0.1", port: 0 }), scope)
          const address = tcpAddress(protocol)
          const context = yield* Layer.buildWithScope(
            PeerServer.layer(GossipRpcs).pipe(
              Layer.provideMerge(Membership.layer),
              Layer.provide(Layer.succeedContext(protocol)),
              Layer.provide(PeerClientProtocol.layerSocket()),
              Layer.provide(ClusterAuth.layer(secret(SECRET))),
              Layer.provide(MembershipConfig.layer({
                nodeId: nodeId(id),
                advertiseAddress: address,
                seedNodes: seeds,
                gossipIntervalMs: 50,
                suspectTimeoutMs: 1000,
                deadTimeoutMs: 2000,
                gossipTimeoutMs: 500,
                joinTimeoutMs: 500
              })),
              Layer.provide(MembershipStore.layerMemory)
            ),
            scope
          )
          return { address, membership: Context.get(context, Membership), stop: Scope.close(scope, Exit.void) }
        })
      const statusOf = (m: Membership["Type"], id: number) =>
        Effect.map(m.members, (members) => members.find((x) => x.nodeId === id)?.status)
      const waitFor = (what: string, check: Effect.Effect<boolean>) =>
        check.pipe(
          Effect.repeat({ schedule: Schedule.spaced(Duration.millis(20)), until: (ok) => ok }),
          Effect.timeoutFail({ duration: Duration.seconds(5), onTimeout: () => new Error(`timed out: ${what}`) })
        )

      const a = yield* node(1, [])
      const b = yield* node(2, [a.address])
      yield* waitFor("a sees b ALIVE", Effect.map(statusOf(a.membership, 2), (s) => s === "ALIVE"))
      yield* waitFor("b sees a ALIVE", Effect.map(statusOf(b.membership, 1), (s) => s === "ALIVE"))
      yield* b.stop
      yield* waitFor("a sees b LEAVING", Effect.map(statusOf(a.membership, 2), (s) => s === "LEAVING"))
      yield* a.stop
    }), 20_000)
})
