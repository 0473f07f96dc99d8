/**
 * The DDL lock in simulation: schema changes of one database coordinated by different nodes at the
 * same moment never both commit while they overlap (each holds the database's lock on every node
 * it prepares on); the one refused gets 1213 naming the lock and, retried as an autocommit
 * statement would be, applies after the other. Row writes are not held up by the lock.
 */
import { assert, describe } from "@effect/vitest"
import { Effect, Either, type Scope } from "effect"
import { eventually, whileAdvancing } from "../membership/SimCluster.ts"
import { scenario as run } from "../membership/Scenario.ts"
import { schemaChangeLocks } from "../../src/replication/IntentKey.ts"
import { schemaVersionOf } from "../../src/replication/SchemaVersion.ts"
import { mysqlErrorOf, type WriteRequest } from "../../src/replication/WriteCoordinator.ts"
import { allAlive, appSchema, makeReplicationCluster, type ReplicationCluster, upsert } from "./SimReplication.ts"

const file = "test/replication/DdlLock.test.ts"
const scenario = <E>(name: string, body: (seed: string) => Effect.Effect<void, E, Scope.Scope>) =>
  run(file, name, (seed) => Effect.orDie(body(seed)))

const createTable = (table: string): WriteRequest => ({
  database: "app",
  consistency: "QUORUM",
  changes: [],
  ddl: [`CREATE TABLE "${table}" ("id" INTEGER PRIMARY KEY)`],
  locks: schemaChangeLocks("app", [table])
})

const tables = (cluster: ReplicationCluster, i: number) =>
  Effect.map(
    cluster.rows(i, "app", "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND substr(name, 1, 2) <> '__' ORDER BY name"),
    (rows) => rows.map((r) => String(r[0])).join(",")
  )

/** Retries a schema change refused for a lock, as the worker retries an autocommit statement. */
const untilCommitted = (cluster: ReplicationCluster, node: number, request: WriteRequest) =>
  whileAdvancing(cluster.write(node, request)).pipe(
    Effect.retry({ while: (e) => e._tag === "WriteConflict", times: 50 }),
    Effect.orDie
  )

describe("the DDL lock (simulation)", () => {
  scenario("two schema changes of one database from two nodes at once never both commit; the refused one applies after", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster, cluster.indexes, 10_000)
      yield* whileAdvancing(cluster.write(0, appSchema))
      const [a, b] = yield* whileAdvancing(Effect.all(
        [Effect.either(cluster.write(0, createTable("a"))), Effect.either(cluster.write(1, createTable("b")))],
        { concurrency: "unbounded" }
      ))
      assert.isFalse(Either.isRight(a) && Either.isRight(b), "both schema changes committed while they overlapped")
      for (const outcome of [a, b]) {
        if (Either.isRight(outcome)) continue
        const error = mysqlErrorOf(outcome.left)
        assert.strictEqual(error.code, 1213)
        assert.match(error.message, /the DDL lock of database 'app' is held by transaction/)
      }
      if (Either.isLeft(a)) yield* untilCommitted(cluster, 0, createTable("a"))
      if (Either.isLeft(b)) yield* untilCommitted(cluster, 1, createTable("b"))
      yield* whileAdvancing(cluster.write(2, upsert(1n, 10n)))
      yield* eventually(
        "every node has both tables",
        Effect.map(Effect.forEach(cluster.indexes, (i) => tables(cluster, i)), (all) => all.every((t) => t === "a,b,t")),
        20_000
      )
    }))

  scenario("a transaction built against an older schema version is refused where the schema moved on, and commits rebuilt", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed })
      yield* allAlive(cluster, cluster.indexes, 10_000)
      yield* whileAdvancing(cluster.write(0, appSchema))
      const versions = Effect.forEach(cluster.indexes, (i) => Effect.map(cluster.node(i), (n) => schemaVersionOf(n.storage.get("app")!.reader.db)))
      yield* eventually("every node is on schema version 1", Effect.map(versions, (v) => v.every((x) => x === 1)), 10_000)
      yield* whileAdvancing(cluster.write(1, { ...upsert(1n, 10n), schemaVersion: 1 }))
      yield* whileAdvancing(cluster.write(0, {
        database: "app",
        consistency: "ALL",
        changes: [],
        ddl: [`ALTER TABLE "t" ADD COLUMN "w" INTEGER`],
        locks: schemaChangeLocks("app", ["t"]),
        schemaVersion: 1
      }))
      yield* eventually("every node is on schema version 2", Effect.map(versions, (v) => v.every((x) => x === 2)), 10_000)
      const stale = yield* whileAdvancing(Effect.either(cluster.write(1, { ...upsert(2n, 20n), schemaVersion: 1 })))
      assert.isTrue(Either.isLeft(stale), "a write built against schema version 1 committed on version 2")
      if (Either.isLeft(stale)) {
        assert.strictEqual(mysqlErrorOf(stale.left).code, 1213)
        assert.match(mysqlErrorOf(stale.left).message, /schema of the database changed/)
      }
      yield* whileAdvancing(cluster.write(1, { ...upsert(2n, 20n), schemaVersion: 2 }))
      yield* eventually(
        "the rebuilt write is everywhere",
        Effect.map(Effect.forEach(cluster.indexes, (i) => cluster.rows(i, "app", "SELECT count(*) FROM t")), (all) => all.every((r) => Number(r[0]?.[0]) === 2)),
        10_000
      )
    }))
})
