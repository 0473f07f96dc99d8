/**
 * Commit-log GC and snapshots in simulation: the production core of three nodes over real SQLite
 * files on the simulated network under TestClock, with retention in seconds.
 */
import { assert, describe } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { eventually, whileAdvancing } from "../membership/SimCluster.ts"
import { scenario as run } from "../membership/Scenario.ts"
import { checksumDatabase } from "../../src/admin/Checksums.ts"
import type { GcSettings } from "../../src/config/GcSettings.ts"
import { RowChange } from "../../proto-schemas/src/RowChange.ts"
import { dmlKey } from "../../src/replication/IntentKey.ts"
import type { WriteRequest } from "../../src/replication/WriteCoordinator.ts"
import { addressOf, allAlive, appSchema, makeReplicationCluster, type ReplicationCluster, upsert } from "./SimReplication.ts"

const file = "test/replication/Healing.test.ts"
const scenario = <E>(name: string, body: (seed: string) => Effect.Effect<void, E, Scope.Scope>) =>
  run(file, name, (seed) => Effect.orDie(body(seed)))

const gc = (minRetentionMs: number, maxRetentionMs: number): GcSettings => ({ intervalMs: 1000, minRetentionMs, maxRetentionMs })

/** Per-table row counts and SHA-256 of node i's `app` (Checksums.ts, what the admin API compares). */
const checksums = (cluster: ReplicationCluster, i: number) =>
  Effect.map(cluster.node(i), (n) => {
    const handle = n.storage.get("app")
    return handle === undefined ? "absent" : JSON.stringify(checksumDatabase(handle.reader.db))
  })

const identical = (cluster: ReplicationCluster, nodes: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const first = yield* checksums(cluster, nodes[0]!)
    for (const i of nodes.slice(1)) if ((yield* checksums(cluster, i)) !== first) return false
    return first !== "absent"
  })

const horizon = (cluster: ReplicationCluster, i: number) =>
  Effect.map(cluster.rows(i, "app", "SELECT seq FROM __marmot_log_horizon"), (r) => (r[0]?.[0] as bigint | undefined) ?? 0n)

const count = (cluster: ReplicationCluster, i: number, sql: string) =>
  Effect.map(cluster.rows(i, "app", sql), (r) => Number(r[0]?.[0] ?? 0))

const remove = (id: bigint, v: bigint): WriteRequest => ({
  database: "app",
  consistency: "QUORUM",
  changes: [new RowChange({ database: "app", table: "t", op: "D", key: dmlKey("t", [id]), columns: ["id", "v"], before: [id, v] })]
})

const writeRows = (cluster: ReplicationCluster, coordinator: number, from: number, to: number) =>
  Effect.forEach(
    Array.from({ length: to - from + 1 }, (_, k) => BigInt(from + k)),
    (id) => whileAdvancing(cluster.write(coordinator, upsert(id, id * 10n))),
    { discard: true }
  )

/** 3 nodes with this GC, table `t` holding rows 1..rows on every node. */
const clusterWithRows = (seed: string, settings: GcSettings, rows: number) =>
  Effect.gen(function*() {
    const cluster = yield* makeReplicationCluster({ size: 3, seed, core: { gc: settings } })
    yield* allAlive(cluster, cluster.indexes, 10_000)
    yield* whileAdvancing(cluster.write(0, appSchema))
    yield* writeRows(cluster, 0, 1, rows)
    yield* eventually("every node holds the first rows", identical(cluster, cluster.indexes), 10_000)
    return cluster
  })

describe("commit-log GC and snapshots (simulation)", () => {
  scenario("a node stopped past gc_max catches up by snapshot, keeps its own writes, and ends identical", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* clusterWithRows(seed, gc(2000, 5000), 5)
      // a write only node 2 has (alone, at ONE) when it stops: the snapshot must not erase it
      yield* cluster.network.partition([addressOf(0), addressOf(1)], [addressOf(2)])
      yield* whileAdvancing(cluster.write(2, upsert(999n, 1n, { consistency: "ONE" })))
      yield* cluster.crash(2)
      yield* cluster.network.heal
      yield* writeRows(cluster, 1, 6, 30)
      yield* whileAdvancing(cluster.write(0, remove(3n, 30n)))
      // past gc_max: the two live nodes drop what node 2 never pulled
      yield* eventually(
        "nodes 0 and 1 collected their logs past node 2's position",
        Effect.map(Effect.all([horizon(cluster, 0), horizon(cluster, 1)]), ([a, b]) => a > 10n && b > 10n),
        20_000
      )
      yield* cluster.restart(2)
      yield* eventually("node 2 restored from a snapshot and is identical", identical(cluster, cluster.indexes), 30_000)
      assert.strictEqual(yield* count(cluster, 2, "SELECT count(*) FROM t"), 30)
      assert.strictEqual(yield* count(cluster, 0, "SELECT v FROM t WHERE id = 999"), 1)
      // node 2's own writes after the restore reach everyone
      yield* writeRows(cluster, 2, 100, 102)
      yield* eventually("identical after node 2 writes", identical(cluster, cluster.indexes), 10_000)
      assert.strictEqual(yield* count(cluster, 0, "SELECT count(*) FROM t"), 33)
    }))

  scenario("GC keeps what a partitioned member has not pulled (no gc_max), then collects once it has", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* clusterWithRows(seed, gc(2000, 0), 3)
      yield* cluster.network.partition([addressOf(0), addressOf(1)], [addressOf(2)])
      yield* writeRows(cluster, 0, 4, 12)
      const before = yield* count(cluster, 0, "SELECT max(seq) FROM __marmot_commit_log")
      for (let t = 0; t < 40; t++) {
        yield* whileAdvancing(Effect.sleep("250 millis"))
        // node 2 pulled at most the entries up to the partition: nothing after them may go
        assert.isAtMost(Number(yield* horizon(cluster, 0)), before - 9, "node 0 kept what node 2 has not pulled")
        assert.isAtMost(Number(yield* horizon(cluster, 1)), before - 9, "node 1 kept what node 2 has not pulled")
      }
      yield* cluster.network.heal
      yield* eventually("node 2 caught up by the log", identical(cluster, cluster.indexes), 20_000)
      yield* eventually(
        "once node 2 pulled them, old entries go",
        Effect.map(horizon(cluster, 0), (h) => Number(h) >= before),
        20_000
      )
    }))

  scenario("a restarted node still knows what members pulled of its log (saved positions), and collects only that", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* clusterWithRows(seed, gc(8000, 0), 10)
      const pulled = BigInt(yield* count(cluster, 0, "SELECT max(seq) FROM __marmot_commit_log"))
      yield* whileAdvancing(Effect.sleep("1500 millis")) // every member pulled it, and node 0 saved that
      assert.strictEqual(yield* horizon(cluster, 0), 0n, "nothing is old enough yet: the restart comes first")
      yield* cluster.network.partition([addressOf(0), addressOf(1)], [addressOf(2)])
      yield* cluster.crash(0)
      yield* cluster.restart(0)
      yield* allAlive(cluster, [0, 1], 10_000)
      yield* writeRows(cluster, 0, 11, 15)
      // node 2 cannot pull from node 0 since its restart: only the saved position says what it has
      yield* eventually("node 0 collects what node 2 pulled before the restart", Effect.map(horizon(cluster, 0), (h) => h >= pulled), 20_000)
      for (let t = 0; t < 10; t++) {
        yield* whileAdvancing(Effect.sleep("500 millis"))
        assert.strictEqual(yield* horizon(cluster, 0), pulled, "node 0 keeps what node 2 has not pulled")
      }
      yield* cluster.network.heal
      yield* eventually("node 2 catches up by the log", identical(cluster, cluster.indexes), 20_000)
    }))

  scenario("a brand-new node joining a cluster that holds data gets it by snapshot and ends identical", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, started: 2, seed })
      yield* allAlive(cluster, [0, 1], 10_000)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* writeRows(cluster, 1, 1, 20)
      yield* cluster.start(2)
      yield* eventually("the new node is identical", identical(cluster, cluster.indexes), 30_000)
      // installed, not replayed: a replay would have logged every transaction; the snapshot keeps
      // the new node's own (empty) log
      assert.strictEqual(yield* count(cluster, 2, "SELECT count(*) FROM __marmot_commit_log"), 0)
      assert.isAbove(yield* count(cluster, 2, "SELECT count(*) FROM __marmot_applied_txn"), 20)
      yield* writeRows(cluster, 2, 21, 22)
      yield* eventually("identical after the new node writes", identical(cluster, cluster.indexes), 10_000)
      assert.strictEqual(yield* count(cluster, 1, "SELECT count(*) FROM t"), 22)
    }))
})
