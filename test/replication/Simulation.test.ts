/**
 * Deterministic simulation of replicated writes: the production core of three or five nodes over
 * real SQLite files, on the simulated network under TestClock. Seeds and replay: Scenario.ts.
 */
import { assert, describe } from "@effect/vitest"
import { Clock, Effect, Either, Exit, Fiber, type Scope } from "effect"
import { noVersion } from "../../proto-schemas/src/RowChange.ts"
import { advance, eventually, whileAdvancing } from "../membership/SimCluster.ts"
import { scenario as run } from "../membership/Scenario.ts"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { PrepareRequest, txnIdOf } from "../../proto-schemas/src/Transaction.ts"
import { addressOf, allAlive, appSchema, makeReplicationCluster, type ReplicationCluster, upsert } from "./SimReplication.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"

const file = "test/replication/Simulation.test.ts"
const scenario = <E>(name: string, body: (seed: string) => Effect.Effect<void, E, Scope.Scope>) =>
  run(file, name, (seed) => Effect.orDie(body(seed)))

const table = (cluster: ReplicationCluster, i: number) => cluster.rows(i, "app", "SELECT id, v FROM t ORDER BY id")

const identical = (cluster: ReplicationCluster, nodes: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const first = JSON.stringify(yield* table(cluster, nodes[0]!), (_, v) => typeof v === "bigint" ? `${v}n` : v)
    for (const i of nodes.slice(1)) {
      if (JSON.stringify(yield* table(cluster, i), (_, v) => typeof v === "bigint" ? `${v}n` : v) !== first) return false
    }
    return true
  })

/** The stored version of the only row of `t` on node i. */
const versionOn = (cluster: ReplicationCluster, i: number) =>
  Effect.map(cluster.rows(i, "app", "SELECT stamp, node FROM __marmot_row_version"), (rows) => {
    const [stamp, node] = rows[0] as [bigint, bigint]
    return { stamp, nodeId: nodeId(Number(node)) }
  })

/** 3 nodes with the production drift limit (5 s), table `t` holding row (1, 1). */
const oneRowCluster = (seed: string) =>
  Effect.gen(function*() {
    const cluster = yield* makeReplicationCluster({ size: 3, seed, core: { maxClockDriftMs: 5000 } })
    yield* allAlive(cluster)
    yield* whileAdvancing(cluster.write(0, appSchema))
    yield* whileAdvancing(cluster.write(0, upsert(1n, 1n)))
    return cluster
  })

describe("replication simulation", () => {
  scenario("a write on any of 3 nodes reaches every node, schema included", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      const created = yield* whileAdvancing(cluster.write(0, appSchema))
      assert.isAtLeast(created.acks, 2)
      for (const i of cluster.indexes) {
        const done = yield* whileAdvancing(cluster.write(i, upsert(BigInt(i + 1), BigInt(10 * (i + 1)))))
        assert.isAtLeast(done.acks, 2, "QUORUM answered after a majority applied")
      }
      yield* eventually("every node holds the 3 rows", Effect.map(table(cluster, 2), (r) => r.length === 3), 3000)
      yield* eventually("identical", identical(cluster, cluster.indexes), 3000)
      assert.deepStrictEqual(yield* table(cluster, 1), [[1n, 10n], [2n, 20n], [3n, 30n]])
    }))

  scenario("concurrent writes to the same row from two nodes: at most one commits, the other gets a conflict", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* whileAdvancing(cluster.write(0, upsert(1n, 0n)))
      yield* eventually("row everywhere", Effect.map(table(cluster, 2), (r) => r.length === 1), 3000)
      const a = yield* Effect.fork(Effect.either(cluster.write(0, upsert(1n, 100n, { before: 0n }))))
      const b = yield* Effect.fork(Effect.either(cluster.write(1, upsert(1n, 200n, { before: 0n }))))
      const results = yield* whileAdvancing(Effect.all([Fiber.join(a), Fiber.join(b)]))
      const ok = results.filter(Either.isRight)
      const failed = results.filter(Either.isLeft)
      assert.isAtMost(ok.length, 1, "two writers on one row never both commit")
      for (const f of failed) assert.strictEqual(f.left._tag, "WriteConflict")
      yield* eventually("identical", identical(cluster, cluster.indexes), 5000)
    }))

  scenario("a write built on a stale read of a row is refused (1213) instead of overwriting", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      // Both clients read the row before it existed (no version); node 0 commits first.
      yield* whileAdvancing(cluster.write(0, upsert(7n, 1n, { base: noVersion })))
      const second = yield* whileAdvancing(Effect.either(cluster.write(1, upsert(7n, 1n, { base: noVersion }))))
      assert.isTrue(Either.isLeft(second))
      if (Either.isLeft(second)) assert.deepInclude(second.left, { _tag: "WriteConflict", reason: "stale" })
      // A write based on the current version goes through.
      const rows = yield* cluster.rows(1, "app", "SELECT stamp, node FROM __marmot_row_version")
      const [stamp, node] = rows[0] as [bigint, bigint]
      const third = yield* whileAdvancing(Effect.either(
        cluster.write(1, upsert(7n, 2n, { before: 1n, base: { stamp, nodeId: nodeId(Number(node)) } }))
      ))
      assert.isTrue(Either.isRight(third), "a write on the current version commits")
    }))

  // chaos seed 1896407472: a node whose wall clock stepped back 8 s could not observe its voters'
  // clocks (judged against its physical clock), committed under a stamp older than the row version
  // it had read, and last-write-wins dropped the acknowledged write on every node.
  scenario("a node whose wall clock stepped back still commits after the versions it read (no acknowledged write lost)", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* oneRowCluster(seed)
      yield* cluster.skew(0, -8000)
      // read-modify-write increments alternating between the skewed node and a healthy one
      let v = 1n
      for (let round = 0; round < 4; round++) {
        const i = round % 2 === 0 ? 1 : 0
        yield* eventually(`node ${i} holds v = ${v}`, Effect.map(table(cluster, i), (r) => r[0]?.[1] === v), 5000)
        const base = yield* versionOn(cluster, i)
        yield* whileAdvancing(cluster.write(i, upsert(1n, v + 1n, { before: v, base })))
        v++
        const after = yield* versionOn(cluster, i)
        assert.strictEqual(Hlc.compareStamps(after.stamp, after.nodeId, base.stamp, base.nodeId), 1, "the commit is later than the version read")
        assert.deepStrictEqual(yield* table(cluster, i), [[1n, v]], `node ${i} applied its own acknowledged write`)
      }
      yield* eventually("identical", identical(cluster, cluster.indexes), 5000)
      assert.deepStrictEqual(yield* table(cluster, 2), [[1n, 5n]])
    }))

  scenario("a write built on a row stamped beyond max_clock_drift_ms ahead fails whole instead of committing under an older stamp", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* oneRowCluster(seed)
      yield* eventually("row everywhere", Effect.map(table(cluster, 2), (r) => r.length === 1), 3000)
      const future = { stamp: Hlc.toStamp(Hlc.make((yield* Clock.currentTimeMillis) + 60_000, 0, 3)), nodeId: nodeId(3) }
      const refused = yield* whileAdvancing(Effect.either(cluster.write(1, upsert(1n, 2n, { before: 1n, base: future }))))
      assert.isTrue(Either.isLeft(refused))
      if (Either.isLeft(refused)) {
        assert.strictEqual(refused.left._tag, "WriteRejected")
        assert.match(refused.left.message, /clock skew: .*nothing was written/)
      }
      yield* advance(4000)
      for (const i of cluster.indexes) assert.deepStrictEqual(yield* table(cluster, i), [[1n, 1n]], `nothing written on node ${i}`)
      // the intents were released: the row takes a normal write at once
      const base = yield* versionOn(cluster, 1)
      yield* whileAdvancing(cluster.write(1, upsert(1n, 2n, { before: 1n, base })))
    }))

  scenario("a partitioned minority refuses QUORUM writes, the majority goes on, healing converges", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* cluster.network.partition([addressOf(0), addressOf(1)], [addressOf(2)])
      const minority = yield* whileAdvancing(Effect.exit(cluster.write(2, upsert(1n, 1n))))
      assert.isTrue(Exit.isFailure(minority), "the minority side cannot reach a quorum")
      if (Exit.isFailure(minority)) assert.include(String(minority.cause), "QuorumNotReached")
      assert.deepStrictEqual(yield* table(cluster, 2), [], "nothing was written on the minority")
      for (let k = 1n; k <= 5n; k++) yield* whileAdvancing(cluster.write(Number(k % 2n), upsert(k, k * 10n)))
      assert.strictEqual((yield* table(cluster, 0)).length, 5)
      yield* cluster.network.heal
      yield* eventually("node 2 caught up", identical(cluster, cluster.indexes), 10_000)
      assert.strictEqual((yield* table(cluster, 2)).length, 5)
    }))

  scenario("5 nodes under 10% message loss and delays: every acknowledged write is on every node after healing", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 5, seed })
      yield* allAlive(cluster)
      // The schema first, on every node (a node that coordinates a write must hold the database); the
      // loss then applies to the writes this scenario is about.
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* eventually("schema on every node", Effect.map(
        Effect.forEach(cluster.indexes, (i) => cluster.rows(i, "app", "SELECT count(*) FROM t")),
        (counts) => counts.every((rows) => rows.length === 1)
      ), 10_000)
      yield* cluster.network.setConditions({ dropRate: 0.1, minDelayMs: 1, maxDelayMs: 30 })
      const acknowledged: Array<bigint> = []
      for (let k = 1n; k <= 6n; k++) {
        const r = yield* whileAdvancing(Effect.either(cluster.write(Number(k % 5n), upsert(k, k))))
        if (Either.isRight(r)) acknowledged.push(k)
      }
      assert.isAtLeast(acknowledged.length, 2, "writes still commit despite the loss")
      yield* cluster.network.setConditions({ dropRate: 0 })
      yield* eventually("all 5 identical", identical(cluster, cluster.indexes), 20_000)
      const ids = (yield* table(cluster, 4)).map((r) => r[0] as bigint)
      for (const k of acknowledged) assert.include(ids, k, `acknowledged write ${k} is on node 4`)
    }))

  scenario("a crashed node misses writes and catches up after restart; QUORUM goes on without it", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* eventually("schema on node 2", Effect.map(cluster.rows(2, "app", "SELECT count(*) FROM t"), (r) => r.length === 1), 3000)
      yield* cluster.crash(2)
      for (let k = 1n; k <= 4n; k++) yield* whileAdvancing(cluster.write(Number(k % 2n), upsert(k, k)))
      yield* cluster.restart(2)
      yield* eventually("node 2 caught up after restart", identical(cluster, cluster.indexes), 15_000)
      assert.strictEqual((yield* table(cluster, 2)).length, 4)
    }))

  scenario("intents of a coordinator that died after PREPARE block the row until the heartbeat timeout, then expire", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* whileAdvancing(cluster.write(0, upsert(5n, 1n)))
      yield* eventually("row everywhere", Effect.map(table(cluster, 2), (r) => r.length === 1), 3000)
      // A coordinator (node 9, never heard of again) prepared an update of row 5 on every node.
      const orphan = new PrepareRequest({
        txnId: txnIdOf(Hlc.make(1, 0, nodeId(9))),
        coordinator: nodeId(9),
        startHlc: Hlc.make(1, 0, nodeId(9)),
        database: "app",
        schemaVersion: 1, // built on the schema appSchema made
        changes: upsert(5n, 99n, { before: 1n }).changes,
        consistency: "QUORUM"
      })
      for (const i of cluster.indexes) {
        const vote = yield* Effect.flatMap(cluster.node(i), (n) => n.participant.prepare(orphan))
        assert.strictEqual(vote._tag, "Prepared")
      }
      const blocked = yield* whileAdvancing(Effect.either(cluster.write(1, upsert(5n, 2n, { before: 1n }))))
      assert.isTrue(Either.isLeft(blocked) && blocked.left._tag === "WriteConflict", "the orphan's intent holds the row")
      yield* advance(4000) // heartbeat_timeout (3 s) and the sweep after it
      const after = yield* whileAdvancing(Effect.either(cluster.write(1, upsert(5n, 2n, { before: 1n }))))
      assert.isTrue(Either.isRight(after), "the expired intent no longer blocks")
      yield* eventually("identical", identical(cluster, cluster.indexes), 3000)
      assert.deepStrictEqual(yield* table(cluster, 0), [[5n, 2n]], "the orphan's change was never applied")
    }))

  scenario("consistency levels: ALL fails with a member down, ONE commits on a lone node, QUORUM needs a majority", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* eventually("schema everywhere", Effect.map(cluster.rows(2, "app", "SELECT count(*) FROM t"), (r) => r.length === 1), 3000)
      const all = yield* whileAdvancing(Effect.either(cluster.write(0, upsert(1n, 1n, { consistency: "ALL" }))))
      assert.isTrue(Either.isRight(all) && all.right.acks === 3, "ALL with everyone up: applied on all 3 before the answer")
      yield* cluster.crash(2)
      const allDown = yield* whileAdvancing(Effect.either(cluster.write(0, upsert(2n, 2n, { consistency: "ALL" }))))
      assert.isTrue(Either.isLeft(allDown) && allDown.left._tag === "QuorumNotReached", "ALL with a member down fails")
      assert.deepStrictEqual((yield* table(cluster, 0)).map((r) => r[0]), [1n], "and writes nothing")
      yield* cluster.network.partition([addressOf(0)], [addressOf(1)])
      const one = yield* whileAdvancing(Effect.either(cluster.write(0, upsert(3n, 3n, { consistency: "ONE" }))))
      assert.isTrue(Either.isRight(one), "ONE commits on the coordinator alone")
      const quorum = yield* whileAdvancing(Effect.either(cluster.write(0, upsert(4n, 4n))))
      assert.isTrue(Either.isLeft(quorum) && quorum.left._tag === "QuorumNotReached", "QUORUM alone of 3 fails")
      yield* cluster.network.heal
      yield* eventually("the ONE write reached node 1", Effect.map(table(cluster, 1), (r) => r.some((x) => x[0] === 3n)), 10_000)
    }))

  scenario("a member that lacks the database refuses, but a QUORUM without it still commits", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster)
      // Nodes 0 and 1 have database "app"; node 2 (say, still catching up) has not.
      for (const i of [0, 1]) {
        const n = yield* cluster.node(i)
        n.storage.create("app").writer.exec(`CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "v" INTEGER)`)
      }
      const done = yield* whileAdvancing(Effect.either(cluster.write(0, upsert(1n, 1n))))
      assert.isTrue(Either.isRight(done), "2 of 3 prepared: QUORUM reached despite node 2's refusal")
      yield* cluster.crash(1)
      const alone = yield* whileAdvancing(Effect.either(cluster.write(0, upsert(2n, 2n))))
      assert.isTrue(Either.isLeft(alone) && alone.left._tag === "WriteRejected" && alone.left.code === 1049, "without a quorum the refusal is the answer")
    }))
})
