/**
 * A replicating cluster in one process: every node is the production core (`coreLayer`: membership,
 * participant, write coordinator, anti-entropy, peer server) over real SQLite files in a temp dir,
 * on the simulated network under TestClock. Node `i` has node id `i + 1` and joins through node 0.
 */
import { Clock, Context, Effect, Exit, Layer, Option, Random, Redacted, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { RowChange, type RowVersion } from "../../proto-schemas/src/RowChange.ts"
import type { ConsistencyLevel } from "../../proto-schemas/src/Transaction.ts"
import { coreLayer, type CoreOptions } from "../../src/app/CoreLayer.ts"
import { defaults, NodeConfig } from "../../src/config/NodeConfig.ts"
import { Membership } from "../../src/membership/Membership.ts"
import { MembershipStore } from "../../src/membership/MembershipStore.ts"
import * as PeerLane from "../../src/network/PeerLane.ts"
import { PeerClientProtocol } from "../../src/network/PeerNetwork.ts"
import * as PeerServer from "../../src/network/PeerServer.ts"
import { type SimConditions, SimNetwork } from "../../src/network/SimNetwork.ts"
import { ProcessBus } from "../../src/process/ProcessBus.ts"
import { AntiEntropy } from "../../src/replication/AntiEntropy.ts"
import { dmlKey } from "../../src/replication/IntentKey.ts"
import { CursorStore } from "../../src/replication/CursorStore.ts"
import { Participant } from "../../src/replication/Participant.ts"
import { WriteCoordinator, type WriteRequest } from "../../src/replication/WriteCoordinator.ts"
import { Storage } from "../../src/storage/Storage.ts"
import { eventually, tearDownAtOnce, whileAdvancing } from "../membership/SimCluster.ts"

export const addressOf = (i: number) => `10.0.1.${i + 1}:7000`

export interface ReplicationClusterOptions {
  readonly size: number
  /** Nodes started at once (the first ones); the others join later with `start` (brand-new nodes). Default: all. */
  readonly started?: number
  readonly seed: string
  readonly network?: Partial<SimConditions>
  readonly core?: Partial<CoreOptions>
}

interface Running {
  readonly scope: Scope.CloseableScope
  readonly coordinator: WriteCoordinator["Type"]
  readonly storage: Storage["Type"]
  readonly membership: Membership["Type"]
  readonly antiEntropy: AntiEntropy["Type"]
  readonly participant: Participant["Type"]
}

export const makeReplicationCluster = (options: ReplicationClusterOptions) =>
  Effect.gen(function*() {
    const network = yield* SimNetwork.make({ seed: options.seed, ...options.network })
    const root = mkdtempSync(join(tmpdir(), "marmot-sim-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(root, { recursive: true, force: true })))
    const indexes = Array.from({ length: options.size }, (_, i) => i)
    const stores = yield* Effect.forEach(indexes, () => MembershipStore.makeMemory)
    const running = new Map<number, Running>()
    let generation = 0
    // Each node reads the shared TestClock through its own offset (`skew`), as machines whose wall
    // clocks disagree; sleeping still follows the TestClock.
    const offsets = indexes.map(() => 0)
    const testClock = yield* Effect.clock
    const clockOf = (i: number): Clock.Clock => ({
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: () => testClock.unsafeCurrentTimeMillis() + offsets[i]!,
      currentTimeMillis: Effect.sync(() => testClock.unsafeCurrentTimeMillis() + offsets[i]!),
      unsafeCurrentTimeNanos: () => testClock.unsafeCurrentTimeNanos() + BigInt(offsets[i]!) * 1_000_000n,
      currentTimeNanos: Effect.sync(() => testClock.unsafeCurrentTimeNanos() + BigInt(offsets[i]!) * 1_000_000n),
      sleep: (duration) => testClock.sleep(duration)
    })
    /** Node i's wall clock steps to `ms` away from the others' (negative: behind). */
    const skew = (i: number, ms: number) => Effect.sync(() => void (offsets[i] = ms))

    const start = (i: number) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const address = addressOf(i)
        const core: CoreOptions = {
          nodeId: nodeId(i + 1),
          advertiseAddress: address,
          seedNodes: [addressOf(0)],
          secret: "sim-secret",
          gossip: { gossipIntervalMs: 200, gossipFanout: 3, suspectTimeoutMs: 1000, deadTimeoutMs: 2000 },
          heartbeatTimeoutMs: 3000,
          writeTimeoutMs: 1000,
          antiEntropyIntervalMs: 500,
          maxClockDriftMs: 60_000,
          ...options.core
        }
        const layer = coreLayer(core).pipe(
          Layer.provide(PeerServer.layerProtocolSim(address)),
          Layer.provide(PeerClientProtocol.layerSim(address)),
          Layer.provide(PeerLane.layerSim(address, core.secret === undefined ? Option.none() : Option.some(Redacted.make(core.secret)))),
          Layer.provide(Layer.succeed(MembershipStore, stores[i]!)),
          Layer.provide(CursorStore.layerFile(join(root, `node-${i}`))),
          Layer.provideMerge(Storage.layer),
          Layer.provide(NodeConfig.layer({ ...defaults, nodeId: i + 1, dataDir: join(root, `node-${i}`) })),
          Layer.provide(ProcessBus.layerSingle),
          Layer.provide(Layer.succeed(SimNetwork, network))
        )
        const context = yield* Layer.buildWithScope(layer, scope).pipe(
          Effect.withRandom(Random.make(`${options.seed}/${i}/${generation++}`)),
          Effect.withClock(clockOf(i)),
          Effect.orDie
        )
        running.set(i, {
          scope,
          coordinator: Context.get(context, WriteCoordinator),
          storage: Context.get(context, Storage),
          membership: Context.get(context, Membership),
          antiEntropy: Context.get(context, AntiEntropy),
          participant: Context.get(context, Participant)
        })
      })

    const node = (i: number) => {
      const n = running.get(i)
      return n === undefined ? Effect.dieMessage(`node ${i} is not running`) : Effect.succeed(n)
    }

    /** The machine dies: silent at once, then its layers are released. */
    const crash = (i: number) =>
      Effect.gen(function*() {
        yield* network.crash(addressOf(i))
        const n = running.get(i)
        running.delete(i)
        if (n !== undefined) yield* whileAdvancing(Scope.close(n.scope, Exit.void))
      })

    const restart = (i: number) => Effect.zipRight(network.restart(addressOf(i)), start(i))

    /** A write coordinated by node i (runs while the caller advances the clock). */
    const write = (i: number, request: WriteRequest) => Effect.flatMap(node(i), (n) => n.coordinator.write(request))

    /** Rows of `sql` on node i's copy of `database` (empty when it has no such database or table). */
    const rows = (i: number, database: string, sql: string) =>
      Effect.map(node(i), (n) => {
        const handle = n.storage.get(database)
        if (handle === undefined) return []
        try {
          return handle.reader.db.prepare(sql).raw().all() as Array<Array<unknown>>
        } catch {
          return []
        }
      })

    yield* tearDownAtOnce(network, running, addressOf)
    yield* Effect.forEach(indexes.slice(0, options.started ?? options.size), start, { discard: true })
    return { network, indexes, node, start, crash, restart, write, rows, running, skew } as const
  })

export type ReplicationCluster = Effect.Effect.Success<ReturnType<typeof makeReplicationCluster>>

/** Waits until each of `nodes` (all by default) sees exactly `nodes` ALIVE. */
export const allAlive = (cluster: ReplicationCluster, nodes: ReadonlyArray<number> = cluster.indexes, withinMs = 5000) =>
  eventually(
    "everyone ALIVE",
    Effect.map(
      Effect.forEach(nodes, (i) => Effect.flatMap(cluster.node(i), (n) => n.membership.alive)),
      (views) => views.every((alive) => alive.length === nodes.length)
    ),
    withinMs
  )

// ---------------------------------------------------------------------------------------------
// requests

export const createDatabase = (database: string, ...ddl: Array<string>): WriteRequest => ({
  database,
  changes: [],
  ddl,
  databaseOp: "create",
  consistency: "QUORUM"
})

const columns = ["id", "v"]

export const upsert = (
  id: bigint,
  v: bigint,
  options?: { readonly before?: bigint | undefined; readonly base?: RowVersion; readonly consistency?: ConsistencyLevel }
): WriteRequest => ({
  database: "app",
  consistency: options?.consistency ?? "QUORUM",
  changes: [
    new RowChange({
      database: "app",
      table: "t",
      op: options?.before === undefined ? "I" : "U",
      key: dmlKey("t", [id]),
      columns,
      ...(options?.before === undefined ? {} : { before: [id, options.before] }),
      after: [id, v],
      ...(options?.base === undefined ? {} : { baseStamp: options.base })
    })
  ]
})

export const appSchema = createDatabase("app", `CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "v" INTEGER)`)
