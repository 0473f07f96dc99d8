/**
 * Shared snapshot copies on real SQLite files under TestClock: pullers within the TTL share one copy,
 * its file goes once it expired and nobody reads it, and a copy the GC horizon passed is not
 * handed out again.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric, TestClock } from "effect"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SnapshotReadRequest } from "../../proto-schemas/src/Snapshot.ts"
import { defaults, NodeConfig } from "../../src/config/NodeConfig.ts"
import { ProcessBus } from "../../src/process/ProcessBus.ts"
import { ensureReplicationTables } from "../../src/replication/Applier.ts"
import * as Metrics from "../../src/replication/Metrics.ts"
import { SnapshotExports, sha256Hex, snapshotDir } from "../../src/replication/SnapshotSource.ts"
import { Storage } from "../../src/storage/Storage.ts"

const ttlMs = 10_000

const withCache = <A, E>(body: (dir: string) => Effect.Effect<A, E, SnapshotExports | Storage>) =>
  Effect.gen(function*() {
    const dataDir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "marmot-snapcache-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    // an export a crashed run left behind
    mkdirSync(snapshotDir(dataDir), { recursive: true })
    writeFileSync(join(snapshotDir(dataDir), "export-old-1.db"), "stale")
    const layer = SnapshotExports.layer(ttlMs).pipe(
      Layer.provideMerge(Storage.layer),
      Layer.provide(NodeConfig.layer({ ...defaults, dataDir })),
      Layer.provide(ProcessBus.layerSingle)
    )
    return yield* Effect.provide(body(dataDir), layer)
  }).pipe(Effect.scoped)

const exportsIn = (dataDir: string) => readdirSync(snapshotDir(dataDir)).filter((n) => n.startsWith("export-"))

const counter = (metric: typeof Metrics.snapshotExports) => Effect.map(Metric.value(metric), (state) => state.count)

/** A whole snapshot read the way a puller reads it: open, every chunk (each checked), close. */
const pull = (database: string) =>
  Effect.gen(function*() {
    const exports = yield* SnapshotExports
    const offer = yield* exports.open(database)
    let bytes = 0
    for (let offset = 0; offset < offer.size; offset += 64 * 1024) {
      const chunk = yield* exports.read(new SnapshotReadRequest({ exportId: offer.exportId, offset, length: 64 * 1024 }))
      assert.strictEqual(sha256Hex(chunk.bytes), chunk.sha256)
      bytes += chunk.bytes.byteLength
    }
    yield* exports.close(offer.exportId)
    return { logSeq: offer.logSeq, bytes, size: offer.size }
  })

describe("SnapshotExports sharing", () => {
  it.scoped("shares one copy within the TTL, removes it after, and never hands out one the GC horizon passed", () =>
    withCache((dataDir) =>
      Effect.gen(function*() {
        assert.deepStrictEqual(exportsIn(dataDir), [], "a previous run's export is removed at start")
        const storage = yield* Storage
        const shop = storage.create("shop")
        ensureReplicationTables(shop.writer.db)
        shop.writer.db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        shop.writer.db.exec("INSERT INTO __marmot_commit_log (seq, txn_id, commit_stamp, commit_node, body) VALUES (5, 1, 0, 1, '{}')")
        const taken0 = yield* counter(Metrics.snapshotExports)
        const shared0 = yield* counter(Metrics.snapshotExportsShared)

        const pulls = yield* Effect.all([pull("shop"), pull("shop"), pull("shop")], { concurrency: "unbounded" })
        for (const p of pulls) {
          assert.strictEqual(p.logSeq, 5n)
          assert.strictEqual(p.bytes, p.size)
        }
        assert.strictEqual((yield* counter(Metrics.snapshotExports)) - taken0, 1)
        assert.strictEqual((yield* counter(Metrics.snapshotExportsShared)) - shared0, 2)
        assert.strictEqual(exportsIn(dataDir).length, 1, "the copy is kept for the next puller")

        // a write after the copy: a puller within the TTL still gets the copy (it reads the log on from 5)
        shop.writer.db.exec("INSERT INTO __marmot_commit_log (seq, txn_id, commit_stamp, commit_node, body) VALUES (6, 2, 0, 1, '{}')")
        assert.strictEqual((yield* pull("shop")).logSeq, 5n)
        assert.strictEqual((yield* counter(Metrics.snapshotExports)) - taken0, 1)

        yield* TestClock.adjust(ttlMs + 1)
        assert.deepStrictEqual(exportsIn(dataDir), [], "the expired copy is removed")
        assert.strictEqual((yield* pull("shop")).logSeq, 6n)
        assert.strictEqual((yield* counter(Metrics.snapshotExports)) - taken0, 2)

        // GC collected the log up to 7: the copy at 6 would leave a gap, so a new copy is taken
        shop.writer.db.exec("INSERT INTO __marmot_commit_log (seq, txn_id, commit_stamp, commit_node, body) VALUES (7, 3, 0, 1, '{}')")
        shop.writer.db.exec("DELETE FROM __marmot_commit_log")
        shop.writer.db.exec("INSERT INTO __marmot_log_horizon (id, seq) VALUES (0, 7)")
        assert.strictEqual((yield* pull("shop")).logSeq, 7n)
        assert.strictEqual((yield* counter(Metrics.snapshotExports)) - taken0, 3)
        assert.strictEqual(exportsIn(dataDir).length, 1, "the outdated copy was removed")
        assert.isFalse(existsSync(join(snapshotDir(dataDir), "export-old-1.db")))
      })
    ))

  it.scoped("an unknown database fails every puller and leaves nothing cached", () =>
    withCache((dataDir) =>
      Effect.gen(function*() {
        const failure = yield* Effect.flip(pull("nope"))
        assert.strictEqual(failure._tag, "SnapshotUnavailable")
        assert.deepStrictEqual(exportsIn(dataDir), [])
        const storage = yield* Storage
        storage.create("nope")
        assert.strictEqual((yield* pull("nope")).logSeq, 0n)
      })
    ))
})
