/**
 * The publisher loop over in-memory sinks: cursors, restarts, retries, filters, recreated
 * databases. Commit logs are real database files written by the Applier.
 */
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { existsSync, rmSync } from "node:fs"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { toStamp } from "../../proto-schemas/src/Hlc.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { afterAll, describe, expect, it } from "vitest"
import type { NodeSettings } from "../../src/config/NodeConfig.ts"
import { NodeConfig } from "../../src/config/NodeConfig.ts"
import { CursorStore } from "../../src/cdc/CursorStore.ts"
import type { ChangeEvent } from "../../src/cdc/Debezium.ts"
import { Publisher, type PublisherOptions } from "../../src/cdc/Publisher.ts"
import type { OriginView, StandIn } from "../../src/cdc/Origins.ts"
import { MemorySinks } from "../../src/cdc/Sink.ts"
import { CommitSignal } from "../../src/replication/CommitSignal.ts"
import { removeDir, settingsFor, sink, sleep, TestDatabase, tempDir, waitFor } from "./support.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach(removeDir))
const newDir = () => {
  const d = tempDir("pub")
  dirs.push(d)
  return d
}

const quiet = Logger.minimumLogLevel(LogLevel.Error)

const start = async (settings: NodeSettings, options: PublisherOptions) => {
  const rt = ManagedRuntime.make(Publisher.layerWith(options).pipe(Layer.provide(NodeConfig.layer(settings)), Layer.provide(quiet)))
  const pub = await rt.runPromise(Publisher)
  return { pub, stop: () => rt.dispose() }
}

const dataOf = (events: ReadonlyArray<ChangeEvent>) => events.filter((e) => e.kind === "data").map((e) => JSON.parse(e.value!).payload)

const cursorsOf = async (dataDir: string) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(CursorStore.makeAt(`${dataDir}/cdc/cursors.db`), (s) => s.all)))

describe("Publisher (memory sinks)", () => {
  it("publishes every database's log in commit order and saves a cursor per sink and database", async () => {
    const dir = newDir()
    const a = new TestDatabase(dir, "a", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    const b = new TestDatabase(dir, "b", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    for (let i = 1n; i <= 30n; i++) await a.insert("t", [i, `a${i}`])
    for (let i = 1n; i <= 5n; i++) await b.insert("t", [i, `b${i}`])
    await a.update("t", [1n, "a1"], [1n, "a1'"])
    await a.delete("t", [2n, "a2"])
    const memory = new MemorySinks()
    const { pub, stop } = await start(settingsFor(dir, [sink({ name: "m", type: "nats", batchSize: 7 })]), { connect: memory.connect })
    await waitFor("all events", 10_000, () => dataOf(memory.events("m")).length === 37)
    const cursors = await Effect.runPromise(pub.cursors)
    expect(cursors.map((c) => [c.sink, c.database, c.seq])).toEqual([["m", "a", 32n], ["m", "b", 5n]])
    await stop()
    const ofA = dataOf(memory.events("m")).filter((p) => p.source.db === "a")
    expect(ofA.map((p) => p.source.lsn)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1))
    expect(ofA.slice(-2).map((p) => p.op)).toEqual(["u", "d"])
    // Tombstones follow deletes only for sinks that keep them.
    expect(memory.events("m").filter((e) => e.kind === "tombstone")).toHaveLength(1)
    a.close()
    b.close()
  })

  it("continues from the saved cursors after a restart: nothing again, nothing lost", async () => {
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    for (let i = 1n; i <= 10n; i++) await db.insert("t", [i, "x"])
    const memory = new MemorySinks({ dedupe: false, tombstones: true })
    const settings = settingsFor(dir, [sink({ name: "k", type: "kafka", brokers: ["unused:1"] })])
    let run = await start(settings, { connect: memory.connect })
    await waitFor("first 10", 10_000, () => dataOf(memory.events("k")).length === 10)
    await run.stop()
    for (let i = 11n; i <= 15n; i++) await db.insert("t", [i, "x"])
    run = await start(settings, { connect: memory.connect })
    await waitFor("15", 10_000, () => dataOf(memory.events("k")).length >= 15)
    await sleep(200)
    await run.stop()
    expect(dataOf(memory.events("k")).map((p) => p.after.id)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1))
    expect((await cursorsOf(dir))[0]).toMatchObject({ sink: "k", database: "shop", seq: 15n })
    db.close()
  })

  it("retries a failing sink with backoff, moving the cursor only after the broker took the batch", async () => {
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    for (let i = 1n; i <= 3n; i++) await db.insert("t", [i, "x"])
    const memory = new MemorySinks()
    memory.failNext.set("m", 4)
    const began = Date.now()
    const { pub, stop } = await start(settingsFor(dir, [sink({ name: "m", type: "nats", retryInitialMs: 50, retryMultiplier: 2, retryMaxMs: 150 })]), {
      connect: memory.connect
    })
    await sleep(60)
    expect(await Effect.runPromise(pub.cursors)).toEqual([])
    await waitFor("delivery after failures", 10_000, () => dataOf(memory.events("m")).length === 3)
    // 50 + 100 + 150 + 150 ms of backoff (capped at retry_max_ms) before the 5th attempt.
    expect(Date.now() - began).toBeGreaterThanOrEqual(440)
    expect(memory.attempts.get("m")).toBe(5)
    expect((await Effect.runPromise(pub.cursors))[0]!.seq).toBe(3n)
    await stop()
    db.close()
  })

  it("a restart between publish and cursor save publishes the batch again (dropped by id where the sink dedupes)", async () => {
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    for (let i = 1n; i <= 4n; i++) await db.insert("t", [i, "x"])
    const kafkaLike = new MemorySinks({ dedupe: false, tombstones: true })
    const jetstreamLike = new MemorySinks({ dedupe: true, tombstones: false })
    const settings = (m: string) => settingsFor(dir, [sink({ name: m, type: "nats" })])
    for (const [name, memory] of [["kafka", kafkaLike], ["js", jetstreamLike]] as const) {
      let published = false
      const crashed = await start(settings(name), {
        connect: memory.connect,
        afterPublish: () => Effect.sync(() => { published = true }).pipe(Effect.zipRight(Effect.never))
      })
      await waitFor("published", 10_000, () => published)
      await crashed.stop()
      expect(await cursorsOf(dir).then((cs) => cs.filter((c) => c.sink === name))).toEqual([])
      const again = await start(settings(name), { connect: memory.connect })
      await waitFor("cursor", 10_000, async () => (await cursorsOf(dir)).some((c) => c.sink === name && c.seq === 4n))
      await again.stop()
    }
    expect(dataOf(kafkaLike.events("kafka")).map((p) => p.after.id)).toEqual([1, 2, 3, 4, 1, 2, 3, 4])
    expect(dataOf(jetstreamLike.events("js")).map((p) => p.after.id)).toEqual([1, 2, 3, 4])
    db.close()
  })

  it("filters per sink: databases not matched are not read, tables not matched only move the cursor", async () => {
    const dir = newDir()
    const shop = new TestDatabase(dir, "shop", ["CREATE TABLE items (id INT PRIMARY KEY)", "CREATE TABLE logs (id INT PRIMARY KEY)"])
    const other = new TestDatabase(dir, "other", ["CREATE TABLE items (id INT PRIMARY KEY)"])
    await shop.insert("items", [1n])
    await shop.insert("logs", [1n])
    await other.insert("items", [1n])
    await shop.insert("items", [2n])
    const memory = new MemorySinks()
    const { stop } = await start(
      settingsFor(dir, [
        sink({ name: "items", type: "nats", filterTables: ["items"], filterDatabases: ["shop"] }),
        sink({ name: "everything", type: "nats", topicPrefix: "all" }),
        sink({ name: "logs", type: "nats", filterTables: ["*.log?"] })
      ]),
      { connect: memory.connect }
    )
    await waitFor("all sinks", 10_000, async () => (await cursorsOf(dir)).length === 2 + 2 + 2 - 1)
    await stop()
    const topics = (name: string) => memory.events(name).filter((e) => e.kind === "data").map((e) => e.topic)
    expect(topics("items")).toEqual(["cdc.shop.items", "cdc.shop.items"])
    expect(topics("everything").sort()).toEqual(["all.other.items", "all.shop.items", "all.shop.items", "all.shop.logs"])
    expect(topics("logs")).toEqual(["cdc.shop.logs"])
    const cursors = await cursorsOf(dir)
    expect(cursors.filter((c) => c.sink === "items").map((c) => [c.database, c.seq])).toEqual([["shop", 3n]])
    expect(cursors.filter((c) => c.sink === "logs").map((c) => [c.database, c.seq])).toEqual([["other", 1n], ["shop", 3n]])
    shop.close()
    other.close()
  })

  it("a database dropped and created again is published from its new log's start", async () => {
    const dir = newDir()
    let db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    for (let i = 1n; i <= 5n; i++) await db.insert("t", [i, "old"])
    const memory = new MemorySinks()
    const settings = settingsFor(dir, [sink({ name: "m", type: "nats" })])
    let run = await start(settings, { connect: memory.connect })
    await waitFor("old", 10_000, () => dataOf(memory.events("m")).length === 5)
    await run.stop()
    const path = db.handle.path
    db.close()
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true })
    db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    for (let i = 1n; i <= 2n; i++) await db.insert("t", [i, "new"])
    run = await start(settings, { connect: memory.connect })
    await waitFor("new", 10_000, () => dataOf(memory.events("m")).length === 7)
    // And while running: dropped and created again under the publisher's feet.
    db.close()
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true })
    db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    await db.insert("t", [1n, "newer"])
    await waitFor("newer", 10_000, () => dataOf(memory.events("m")).length === 8)
    await run.stop()
    expect(dataOf(memory.events("m")).map((p) => p.after.v)).toEqual(["old", "old", "old", "old", "old", "new", "new", "newer"])
    db.close()
  })

  it("changes last-write-wins skipped (an older change arriving after a newer one) are not published", async () => {
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    const at = (wallMs: number, node: number) => Hlc.make(wallMs, 0, nodeId(node))
    const t0 = 1_700_000_000_000
    await db.commit([db.change("t", "I", undefined, [1n, "a"]), db.change("t", "I", undefined, [2n, "b"])], { hlc: at(t0, 1) })
    await db.commit([db.change("t", "U", [1n, "a"], [1n, "newer"])], { hlc: at(t0 + 2_000, 1) })
    // Reaches this node late: older than the update above for row 1, the only write to row 3.
    await db.commit([db.change("t", "U", [1n, "a"], [1n, "older"]), db.change("t", "I", undefined, [3n, "c"])], { hlc: at(t0 + 1_000, 2) })
    await db.commit([db.change("t", "D", [2n, "b"], undefined)], { hlc: at(t0 + 3_000, 1) })
    // Older than that delete: skipped entirely (no BEGIN/END either). A key move whose new key lost: only the delete.
    await db.commit([db.change("t", "U", [2n, "b"], [2n, "stale"])], { hlc: at(t0 + 2_500, 2) })
    await db.commit([db.change("t", "U", [3n, "c"], [1n, "moved"])], { hlc: at(t0 + 1_500, 2) })
    expect(db.handle.writer.db.prepare("SELECT id, v FROM t ORDER BY id").raw().all()).toEqual([[1n, "newer"]])
    const memory = new MemorySinks()
    const { stop } = await start(settingsFor(dir, [sink({ name: "m", type: "nats" })]), { connect: memory.connect })
    await waitFor("cursor at the last entry", 10_000, async () => (await cursorsOf(dir)).some((c) => c.seq === 6n))
    await stop()
    const data = dataOf(memory.events("m")).map((p) => `${p.op}:${(p.after ?? p.before).id}:${(p.after ?? p.before).v}`)
    expect(data).toEqual(["c:1:a", "c:2:b", "u:1:newer", "c:3:c", "d:2:b", "d:3:c"])
    const ends = memory.events("m").filter((e) => e.kind === "end").map((e) => JSON.parse(e.value!).payload.event_count)
    expect(ends).toEqual([2, 1, 1, 1, 1])
    db.close()
  })

  it("snapshot_mode: reads of every row where the log was collected (when_needed), of every database (initial), none (never)", async () => {
    const dir = newDir()
    const collected = new TestDatabase(dir, "collected", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)", "CREATE TABLE nopk (v TEXT)"])
    for (let i = 1n; i <= 5n; i++) await collected.insert("t", [i, `v${i}`])
    await collected.update("t", [1n, "v1"], [1n, "v1'"])
    await collected.delete("t", [2n, "v2"])
    collected.handle.writer.exec("INSERT INTO nopk VALUES ('not published')")
    expect(collected.collectWholeLog()).toBe(7n)
    await collected.insert("t", [6n, "v6"])
    const whole = new TestDatabase(dir, "whole", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    await whole.insert("t", [1n, "w1"])
    await whole.insert("t", [2n, "w2"])
    const memory = new MemorySinks()
    const { stop } = await start(
      settingsFor(dir, [
        sink({ name: "auto", type: "nats" }),
        sink({ name: "initial", type: "nats", snapshotMode: "initial" }),
        sink({ name: "never", type: "nats", snapshotMode: "never" })
      ]),
      { connect: memory.connect }
    )
    await waitFor("every sink at the end of both logs", 10_000, async () => {
      const cs = await cursorsOf(dir)
      return cs.length === 6 && cs.every((c) => c.seq === (c.database === "collected" ? 8n : 2n))
    })
    await stop()
    const seen = (name: string, db: string) =>
      dataOf(memory.events(name)).filter((p) => p.source.db === db).map((p) => `${p.op}:${p.after.id}:${p.after.v}:${p.source.snapshot}:${p.source.lsn}`)
    const snapshotOfCollected = ["r:1:v1':true:8", "r:3:v3:true:8", "r:4:v4:true:8", "r:5:v5:true:8", "r:6:v6:last:8"]
    expect(seen("auto", "collected")).toEqual(snapshotOfCollected)
    expect(seen("initial", "collected")).toEqual(snapshotOfCollected)
    expect(seen("never", "collected")).toEqual(["c:6:v6:false:8"])
    expect(seen("auto", "whole")).toEqual(["c:1:w1:false:1", "c:2:w2:false:2"])
    expect(seen("initial", "whole")).toEqual(["r:1:w1:true:2", "r:2:w2:last:2"])
    const read = dataOf(memory.events("initial"))[0]
    expect(read).toMatchObject({ before: null, transaction: null, source: { txId: null, commit_node: null } })
    collected.close()
    whole.close()
  })

  it("publish_from origin: its own commits, and a gone member's from that member's watermark less the margin while it stands in", async () => {
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"])
    const t0 = 1_700_000_000_000
    const at = (s: number, node: number) => Hlc.make(t0 + s * 1_000, 0, nodeId(node))
    // Commit order on this node (1): 2's, ours, 3's (old), ours, 3's (recent), 2's.
    const commits: Array<[number, number]> = [[2, 1], [1, 2], [3, 3], [1, 20], [3, 30], [2, 31]]
    for (const [i, [node, s]] of commits.entries()) await db.insert("t", [BigInt(i), `n${node}`], { hlc: at(s, node) })
    let standIns: ReadonlyArray<StandIn> = []
    const announced: Array<[string, Map<string, bigint>]> = []
    const origins: OriginView = {
      standingIn: Effect.sync(() => standIns),
      announce: (sinkName, w) => Effect.sync(() => void announced.push([sinkName, new Map(w)]))
    }
    const memory = new MemorySinks({ dedupe: false, tombstones: true })
    const { stop } = await start(settingsFor(dir, [sink({ name: "k", type: "kafka", brokers: ["unused:1"], publishFrom: "origin" })]), {
      connect: memory.connect,
      origins
    })
    const ids = () => dataOf(memory.events("k")).map((p) => p.after.id)
    await waitFor("own commits and the cursor at the end", 10_000, async () => (await cursorsOf(dir)).some((c) => c.seq === 6n))
    await waitFor("the watermark announced", 5_000, () => announced.length > 0)
    expect(ids()).toEqual([1, 3])
    expect(announced.at(-1)).toEqual(["k", new Map([["shop", toStamp(at(20, 1))]])])
    // Node 3 is gone and announced it had published up to its commit at 28 s: the margin (5 s) takes
    // its commit at 30 s, not the one at 3 s. Node 2 is not gone: nothing of it.
    standIns = [{ origin: 3, watermark: (sinkName, database) => sinkName === "k" && database === "shop" ? toStamp(at(28, 3)) : 0n }]
    await waitFor("the gone member's commits", 10_000, () => ids().length === 3)
    await sleep(100)
    expect(ids()).toEqual([1, 3, 4])
    // Later entries: another member's (not published), the gone one's shipped by anti-entropy, ours.
    await db.insert("t", [6n, "n2"], { hlc: at(40, 2) })
    await db.insert("t", [7n, "n3"], { hlc: at(29, 3) })
    await db.insert("t", [8n, "n1"], { hlc: at(41, 1) })
    await waitFor("the later ones", 10_000, () => ids().length === 5)
    await sleep(100)
    // (No order between this node's commits and the gone member's.)
    expect(ids().slice(3).sort()).toEqual([7, 8])
    await stop()
    db.close()
  })

  it("notify, and each commit of an ApplyQueue given its CommitSignal, wake an idle sink at once; a disabled publisher runs nothing", async () => {
    const dir = newDir()
    const commits = Effect.runSync(CommitSignal.make)
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY)"], 1, commits.committed)
    const memory = new MemorySinks()
    const settings = settingsFor(dir, [sink({ name: "m", type: "nats", pollIntervalMs: 60_000 })])
    const { pub, stop } = await start(settings, { connect: memory.connect })
    await sleep(100)
    await db.insert("t", [1n])
    await Effect.runPromise(pub.notify)
    await waitFor("woken", 2_000, () => dataOf(memory.events("m")).length === 1)
    await stop()
    const signalled = await start(settings, { connect: memory.connect, commits })
    await sleep(100)
    await db.insert("t", [2n])
    await waitFor("woken by the commit", 2_000, () => dataOf(memory.events("m")).length === 2)
    await signalled.stop()

    db.close()

    const offDir = newDir()
    const offDb = new TestDatabase(offDir, "shop", ["CREATE TABLE t (id INT PRIMARY KEY)"])
    await offDb.insert("t", [1n])
    const off = await start({ ...settingsFor(offDir, []), publisher: { enabled: false, sinks: [sink({ name: "x", type: "nats" })] } }, {
      connect: memory.connect
    })
    expect(off.pub.sinks).toEqual([])
    await sleep(100)
    expect(memory.events("x")).toEqual([])
    expect(existsSync(`${offDir}/cdc`)).toBe(false)
    await off.stop()
    offDb.close()
  })
})
