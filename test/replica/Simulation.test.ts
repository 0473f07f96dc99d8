/**
 * Deterministic simulation of a read-only replica: the production follower (`replicaLayer`) over
 * its own SQLite files, following the production core of three nodes on the simulated network under
 * TestClock. It is given one node's address only, so it must discover the others to fail over.
 */
import { assert, describe } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Random, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { replicaLayer } from "../../src/app/ReplicaCore.ts"
import { defaults, NodeConfig } from "../../src/config/NodeConfig.ts"
import { PeerClientProtocol } from "../../src/network/PeerNetwork.ts"
import { SimNetwork } from "../../src/network/SimNetwork.ts"
import { ProcessBus } from "../../src/process/ProcessBus.ts"
import { Follower } from "../../src/replica/Follower.ts"
import { CursorStore } from "../../src/replication/CursorStore.ts"
import { Storage } from "../../src/storage/Storage.ts"
import { eventually, whileAdvancing } from "../membership/SimCluster.ts"
import { scenario as run } from "../membership/Scenario.ts"
import { addressOf, allAlive, appSchema, makeReplicationCluster, type ReplicationCluster, upsert } from "../replication/SimReplication.ts"

const file = "test/replica/Simulation.test.ts"
const scenario = <E>(name: string, body: (seed: string) => Effect.Effect<void, E, Scope.Scope>) =>
  run(file, name, (seed) => Effect.orDie(body(seed)))

const replicaAddress = "10.0.9.1:7000"

/** A data dir for a replica, removed with the scenario. */
const replicaDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "marmot-sim-replica-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/**
 * A replica following node 0's address (cursors saved in its data dir, as in production), running
 * until `scope` closes; its follower, storage and a query on its copy.
 */
const startReplica = (
  cluster: ReplicationCluster,
  seed: string,
  options: { readonly secret?: string; readonly dataDir?: string; readonly scope?: Scope.Scope } = {}
) =>
  Effect.gen(function*() {
    const dataDir = options.dataDir ?? (yield* replicaDir)
    const settings = {
      ...defaults,
      nodeId: 100,
      dataDir,
      replica: {
        ...defaults.replica,
        enabled: true,
        followAddresses: [addressOf(0)],
        replicateDatabases: [],
        secret: options.secret ?? "sim-secret",
        pollIntervalMs: 100,
        discoveryIntervalMs: 500
      }
    }
    const layer = replicaLayer(settings).pipe(
      Layer.provide(PeerClientProtocol.layerSim(replicaAddress)),
      Layer.provide(CursorStore.layerFile(dataDir)),
      Layer.provideMerge(Storage.layer),
      Layer.provide(NodeConfig.layer(settings)),
      Layer.provide(ProcessBus.layerSingle),
      Layer.provide(Layer.succeed(SimNetwork, cluster.network))
    )
    const scope = options.scope ?? (yield* Effect.scope)
    const context = yield* Layer.buildWithScope(layer, scope).pipe(Effect.withRandom(Random.make(`${seed}/replica`)))
    const storage = Context.get(context, Storage)
    const rows = (database: string, sql: string) =>
      Effect.sync(() => {
        const handle = storage.get(database)
        if (handle === undefined) return []
        try {
          return handle.reader.db.prepare(sql).raw().all() as Array<Array<unknown>>
        } catch {
          return []
        }
      })
    return { follower: Context.get(context, Follower), storage, rows }
  })

type Replica = Effect.Effect.Success<ReturnType<typeof startReplica>>

const text = (rows: ReadonlyArray<ReadonlyArray<unknown>>) => JSON.stringify(rows, (_, v) => typeof v === "bigint" ? `${v}n` : v)
const tableOf = "SELECT id, v FROM t ORDER BY id"

/** The replica's copy of app.t equals node i's. */
const sameAs = (cluster: ReplicationCluster, replica: Replica, i: number) =>
  Effect.gen(function*() {
    const theirs = yield* cluster.rows(i, "app", tableOf)
    return theirs.length > 0 && text(yield* replica.rows("app", tableOf)) === text(theirs)
  })

describe("read-only replica simulation", () => {
  scenario("follows one node, fails over when it crashes, ends identical to the survivors", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      for (const i of cluster.indexes) yield* whileAdvancing(cluster.write(i, upsert(BigInt(i + 1), BigInt(10 * (i + 1)))))
      const replica = yield* startReplica(cluster, seed)
      yield* eventually("the replica has the 3 rows", sameAs(cluster, replica, 0), 5000)
      const before = yield* replica.follower.status
      assert.isDefined(before.caughtUpAtMs)
      const followed = before.source!.nodeId
      const victim = cluster.indexes.find((i) => i + 1 === followed)!
      yield* cluster.crash(victim)
      const survivors = cluster.indexes.filter((i) => i !== victim)
      // writes on both survivors, new rows and updates of rows the replica already has
      for (const [n, i] of survivors.entries()) {
        yield* whileAdvancing(cluster.write(i, upsert(BigInt(10 + n), BigInt(100 + n))))
        yield* whileAdvancing(cluster.write(i, upsert(1n, BigInt(1000 + n), { before: n === 0 ? 10n : 1000n })))
      }
      yield* eventually("the replica holds exactly what the survivors hold", sameAs(cluster, replica, survivors[0]!), 10_000)
      assert.deepStrictEqual(yield* cluster.rows(survivors[1]!, "app", tableOf), yield* replica.rows("app", tableOf))
      assert.strictEqual((yield* replica.rows("app", "SELECT count(*) FROM t"))[0]![0], 5n)
      const after = yield* replica.follower.status
      assert.notStrictEqual(after.source?.nodeId, followed)
      assert.isAtLeast(after.failovers, 1)
    }))

  scenario("a replica with another secret is refused by every node and gets nothing", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* whileAdvancing(cluster.write(1, upsert(1n, 1n)))
      const replica = yield* startReplica(cluster, seed, { secret: "not-the-cluster-secret" })
      yield* eventually("the refusal is reported", Effect.map(replica.follower.status, (s) => /unauthorized|secret/i.test(s.lastError ?? "")), 5000)
      const status = yield* replica.follower.status
      assert.isUndefined(status.caughtUpAtMs)
      assert.isUndefined(status.source)
      assert.isUndefined(replica.storage.get("app"))
    }))

  scenario("a restarted replica resumes from its saved positions instead of replaying the logs", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      for (let id = 1n; id <= 20n; id++) yield* whileAdvancing(cluster.write(Number(id % 3n), upsert(id, id)))
      const dataDir = yield* replicaDir
      const first = yield* Scope.make()
      const replica = yield* startReplica(cluster, seed, { dataDir, scope: first })
      yield* eventually("the replica has the 20 rows", sameAs(cluster, replica, 0), 5000)
      yield* whileAdvancing(Scope.close(first, Exit.void))
      yield* whileAdvancing(cluster.write(1, upsert(21n, 21n)))
      yield* whileAdvancing(cluster.write(2, upsert(22n, 22n)))
      const again = yield* startReplica(cluster, seed, { dataDir })
      yield* eventually("the restarted replica has the 2 new rows", sameAs(cluster, again, 0), 5000)
      // it read only the 2 new entries of its source's log (a replay from the start would read 23)
      assert.strictEqual((yield* again.follower.status).entriesPulled, 2)
      assert.strictEqual((yield* again.rows("app", "SELECT count(*) FROM t"))[0]![0], 22n)
    }))

  scenario("a database dropped on the cluster is dropped on the replica; one created again comes back", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* whileAdvancing(cluster.write(1, upsert(1n, 1n)))
      const replica = yield* startReplica(cluster, seed)
      yield* eventually("the replica has the row", sameAs(cluster, replica, 0), 5000)
      yield* whileAdvancing(cluster.write(2, { database: "app", changes: [], databaseOp: "drop", consistency: "QUORUM" }))
      yield* eventually("the replica dropped app", Effect.sync(() => replica.storage.get("app") === undefined), 5000)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* whileAdvancing(cluster.write(0, upsert(7n, 70n)))
      yield* eventually("the new app reached the replica", sameAs(cluster, replica, 1), 5000)
      assert.deepStrictEqual(yield* replica.rows("app", tableOf), [[7n, 70n]])
    }))
})
