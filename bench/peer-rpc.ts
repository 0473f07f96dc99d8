/**
 * Micro-bench of the peer hop of a write: PREPAREs of a one-row insert over real TCP on loopback,
 * through the production peer client, server, cluster auth and the coordinator's `Exchange` line
 * (src/replication/PeerExchange.ts), answered at once by handlers that do no work. Prints steps/s
 * and this process's CPU time per step (client and server share the process), one step at a time
 * (one exchange each) and with N in flight (batched).
 *
 *   node --import tsx bench/peer-rpc.ts [steps=3000] [inFlight=16]
 */
import { NodeContext } from "@effect/platform-node"
import { SocketServer } from "@effect/platform"
import { Duration, Effect, FiberSet, Layer, Option, Redacted } from "effect"
import { performance } from "node:perf_hooks"
import { PrepareStep } from "../proto-schemas/src/Exchange.ts"
import * as Hlc from "../proto-schemas/src/Hlc.ts"
import { nodeId } from "../proto-schemas/src/NodeId.ts"
import { RowChange } from "../proto-schemas/src/RowChange.ts"
import { Ack, PrepareRequest, Prepared, txnIdOf } from "../proto-schemas/src/Transaction.ts"
import * as ClusterAuth from "../src/network/ClusterAuth.ts"
import { makePeerClient, PeerClientProtocol } from "../src/network/PeerNetwork.ts"
import * as PeerServer from "../src/network/PeerServer.ts"
import { dmlKey } from "../src/replication/IntentKey.ts"
import { makePeerExchange } from "../src/replication/PeerExchange.ts"
import { answerExchange } from "../src/replication/ReplicationHandlers.ts"
import { ReplicationRpcs } from "../src/replication/ReplicationRpcs.ts"

const steps = Number(process.argv[2] ?? 3000)
const inFlight = Number(process.argv[3] ?? 16)
const auth = ClusterAuth.layer(Option.some(Redacted.make("bench-secret")))

const hlc = () => Hlc.make(Date.now(), 0, 2)
const answer = {
  prepare: () => Effect.succeed(new Prepared({ hlc: hlc() }, true)),
  commit: () => Effect.succeed(new Ack({ hlc: hlc() }, true)),
  abort: () => Effect.succeed(new Ack({ hlc: hlc() }, true))
}
const handlers = ReplicationRpcs.toLayer({
  Exchange: answerExchange(answer),
  PullLog: () => Effect.dieMessage("not in this bench"),
  SnapshotOpen: () => Effect.dieMessage("not in this bench"),
  SnapshotRead: () => Effect.dieMessage("not in this bench"),
  SnapshotClose: () => Effect.dieMessage("not in this bench")
})

const request = (i: number) =>
  new PrepareRequest({
    txnId: txnIdOf(Hlc.make(Date.now(), i & 0xffff, 1)),
    coordinator: nodeId(1),
    startHlc: Hlc.make(Date.now(), 0, 1),
    database: "sbtest",
    schemaVersion: 0,
    changes: [
      new RowChange({
        database: "sbtest",
        table: "sbtest1",
        op: "I",
        key: dmlKey("sbtest1", [BigInt(i)]),
        columns: ["id", "k", "c", "pad"],
        after: [BigInt(i), 4242n, "68487932199-96439406143-93774651418-41631865787-96406072701", "22195207048-70116052123-74140395089"]
      })
    ],
    consistency: "QUORUM"
  })

const program = Effect.gen(function*() {
  const address = yield* Effect.map(SocketServer.SocketServer, (s) => s.address)
  const port = address._tag === "TcpAddress" ? address.port : 0
  const peers = yield* makePeerClient(ReplicationRpcs)
  const exchange = makePeerExchange(peers, yield* FiberSet.make(), { timeout: Duration.seconds(10) })
  const peer = { nodeId: nodeId(2), address: `127.0.0.1:${port}` }
  const requests = Array.from({ length: steps }, (_, i) => request(i))
  const one = (i: number) => exchange.send(peer, new PrepareStep({ request: requests[i]! }, true))
  yield* Effect.forEach(requests.slice(0, 300), (_, i) => one(i), { concurrency: 4, discard: true }) // warm up
  for (const concurrency of [1, inFlight]) {
    const cpu = process.cpuUsage()
    const t0 = performance.now()
    yield* Effect.forEach(requests, (_, i) => one(i), { concurrency, discard: true })
    const ms = performance.now() - t0
    const used = process.cpuUsage(cpu)
    console.log(
      `in flight ${String(concurrency).padStart(3)}: ${(steps / (ms / 1000)).toFixed(0).padStart(6)} steps/s, ` +
        `${((used.user + used.system) / steps).toFixed(0).padStart(5)} µs CPU per step`
    )
  }
})

const server = PeerServer.layer(ReplicationRpcs).pipe(
  Layer.provide([handlers, auth]),
  Layer.provideMerge(PeerServer.layerProtocolSocket({ host: "127.0.0.1", port: 0 }))
)

Effect.runPromise(
  program.pipe(Effect.scoped, Effect.provide(Layer.mergeAll(server, auth, PeerClientProtocol.layerSocket(), NodeContext.layer)))
).catch((e) => {
  console.error(e)
  process.exit(1)
})
