/**
 * The publisher against Debian's real nats-server with JetStream on a loopback port: envelopes
 * and per-key order, a broker outage in the middle of a stream of commits, and a publisher killed
 * between publish and cursor save. The stream's contents are read back message by message.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { streamNameFor } from "../../src/cdc/NatsSink.ts"
import {
  mixedWorkload,
  type NatsServer,
  removeDir,
  runCrashChild,
  savedCursors,
  settingsFor,
  sink,
  sleep,
  startNats,
  startPublisher,
  TestDatabase,
  tempDir,
  waitFor
} from "./support.ts"

let nats: NatsServer
const dirs: Array<string> = []
beforeAll(async () => {
  nats = await startNats()
})
afterAll(async () => {
  await nats?.stop()
  if (nats !== undefined) removeDir(nats.storeDir)
  dirs.forEach(removeDir)
})

interface StreamMsg {
  readonly seq: number
  readonly subject: string
  readonly id: string
  readonly value: any
}

/** Every message of the stream that holds `{prefix}.>`, in stream order. */
const readStream = async (prefix: string): Promise<Array<StreamMsg>> => {
  const nc = await connect({ servers: nats.url })
  try {
    const jsm = await jetstreamManager(nc)
    const name = streamNameFor(prefix)
    const info = await jsm.streams.info(name)
    const out: Array<StreamMsg> = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(name, { seq })
      if (m === null) continue
      out.push({ seq: m.seq, subject: m.subject, id: m.header.get("Nats-Msg-Id"), value: m.json() })
    }
    return out
  } finally {
    await nc.close()
  }
}

const streamCount = async (prefix: string): Promise<number> => {
  const nc = await connect({ servers: nats.url })
  try {
    const jsm = await jetstreamManager(nc)
    return (await jsm.streams.info(streamNameFor(prefix)).catch(() => undefined))?.state.messages ?? 0
  } finally {
    await nc.close()
  }
}

const newDir = () => {
  const d = tempDir("nats-data")
  dirs.push(d)
  return d
}

const data = (msgs: ReadonlyArray<StreamMsg>) => msgs.filter((m) => !m.subject.endsWith(".transaction"))

describe("NATS JetStream sink (real nats-server)", () => {
  it("inserts, updates and deletes arrive in order per key with their envelopes and ids", async () => {
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE items (id INT PRIMARY KEY, v TEXT)"])
    const { history } = await mixedWorkload(db, 60, 7, 5)
    const expected = 60 * 3
    const pub = await startPublisher(settingsFor(dir, [sink({ name: "js", type: "nats", natsUrl: nats.url, topicPrefix: "t1", batchSize: 16 })]))
    await waitFor("60 transactions in the stream", 20_000, async () => (await streamCount("t1")) >= expected)
    await sleep(200)
    await pub.stop()
    const msgs = await readStream("t1")
    expect(msgs).toHaveLength(expected)
    expect(new Set(msgs.map((m) => m.id)).size).toBe(expected)
    // Stream order: BEGIN, the row event, END for each transaction, transactions in commit order.
    expect(msgs.map((m) => m.subject).slice(0, 3)).toEqual(["t1.transaction", "t1.shop.items", "t1.transaction"])
    expect(msgs.filter((m) => m.subject === "t1.transaction").map((m) => m.value.payload.status)).toEqual(
      Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? "BEGIN" : "END"))
    )
    const perKey = new Map<number, Array<string>>()
    for (const m of data(msgs)) {
      const p = m.value.payload
      const id = (p.after ?? p.before).id as number
      const list = perKey.get(id) ?? []
      perKey.set(id, list)
      list.push(p.op === "d" ? "d" : `${p.op}:${p.after.v}`)
      expect(m.value.schema.name).toBe("t1.shop.items.Envelope")
      expect(p.source).toMatchObject({ connector: "marmot", name: "t1", db: "shop", table: "items" })
      expect(m.id).toMatch(/^shop:[0-9a-f]{16}-00000001:0$/)
    }
    expect(perKey).toEqual(history)
    db.close()
  })

  it("a broker outage mid-stream: every event arrives, none twice in the stream, order per key kept", async () => {
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE items (id INT PRIMARY KEY, v INT)"])
    for (let k = 0; k < 10; k++) await db.insert("items", [BigInt(k), 0n])
    const pub = await startPublisher(settingsFor(dir, [sink({ name: "js", type: "nats", natsUrl: nats.url, topicPrefix: "t2", batchSize: 5, retryInitialMs: 20, retryMaxMs: 200 })]))
    const total = 300
    let acksDuringOutage = 0
    for (let i = 1; i <= total; i++) {
      const k = i % 10
      await db.update("items", [BigInt(k), BigInt(i - 10 > 0 ? i - 10 : 0)], [BigInt(k), BigInt(i)])
      if (i === 100) {
        await waitFor("some published before the outage", 10_000, () => pub.acks.length > 0)
        await nats.stop()
        acksDuringOutage = pub.acks.length
      }
      if (i === 200) {
        // Nothing can have been acknowledged while the server was down.
        expect(pub.acks.length).toBeLessThanOrEqual(acksDuringOutage + 1)
        await nats.start()
      }
      await sleep(2)
    }
    const expected = (10 + total) * 3
    await waitFor("everything after the outage", 30_000, async () => (await streamCount("t2")) >= expected)
    await sleep(300)
    await pub.stop()
    const msgs = await readStream("t2")
    expect(msgs).toHaveLength(expected)
    expect(new Set(msgs.map((m) => m.id)).size).toBe(expected)
    const seen = new Map<number, Array<number>>()
    for (const m of data(msgs)) {
      const p = m.value.payload
      const list = seen.get(p.after.id) ?? []
      seen.set(p.after.id, list)
      list.push(p.after.v)
    }
    for (let k = 0; k < 10; k++) {
      const want = [0, ...Array.from({ length: total / 10 }, (_, j) => (k === 0 ? 10 : k) + 10 * j)]
      expect(seen.get(k)).toEqual(want)
    }
    db.close()
  })

  it("a publisher killed between publish and cursor save: the batch is sent again and JetStream drops it by id", async () => {
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE items (id INT PRIMARY KEY, v TEXT)"])
    for (let i = 1n; i <= 20n; i++) await db.insert("items", [i, "x"])
    const settings = settingsFor(dir, [sink({ name: "js", type: "nats", natsUrl: nats.url, topicPrefix: "t3", batchSize: 8 })])
    await runCrashChild(settings, 16)
    // The child got seq 1..16 acknowledged; the second batch's cursor (seq 16) was never saved.
    expect(await streamCount("t3")).toBe(16 * 3)
    const saved = await savedCursors(dir)
    expect(saved.map((c) => c.seq)).toEqual([8n])
    const pub = await startPublisher(settings)
    await waitFor("all 20", 20_000, async () => (await streamCount("t3")) >= 60 && pub.acked(20n))
    await pub.stop()
    // The batch 9..16 went again: JetStream said duplicate for each of its 24 events.
    expect(pub.acks[0]!.txns[0]!.seq).toBe(9n)
    expect(pub.acks[0]!.duplicates).toBe(24)
    const msgs = await readStream("t3")
    expect(msgs).toHaveLength(60)
    expect(data(msgs).map((m) => m.value.payload.after.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    db.close()
  })

  it("snapshot_mode initial over a collected log while writes go on: reads of every row, then the log from their position, no gap, nothing twice", async () => {
    const dir = newDir()
    // `bulk` is read first and takes many batches; the writes go to `items`, read after it: the
    // read transaction must keep `items` as it was at the snapshot's log position.
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE bulk (id INT PRIMARY KEY, v INT)", "CREATE TABLE items (id INT PRIMARY KEY, v INT)"])
    for (let from = 0; from < 2000; from += 200) {
      await db.commit(Array.from({ length: 200 }, (_, j) => db.change("bulk", "I", undefined, [BigInt(from + j), 0n])))
    }
    for (let k = 0n; k < 50n; k++) await db.insert("items", [k, 0n])
    expect(db.collectWholeLog()).toBe(60n)
    let writing = true
    let writes = 0
    const writer = (async () => {
      for (let i = 1; writing || i <= 200; i++) {
        const k = BigInt(i % 50)
        const now = db.handle.writer.db.prepare("SELECT v FROM items WHERE id = ?").pluck().get(k) as bigint | undefined
        if (now === undefined) await db.insert("items", [k, BigInt(i)])
        else if (i % 7 === 0) await db.delete("items", [k, now])
        else await db.update("items", [k, now], [k, BigInt(i)])
        writes++
        await sleep(1)
      }
    })()
    await waitFor("writes under way", 10_000, () => writes >= 20)
    const pub = await startPublisher(settingsFor(dir, [
      sink({ name: "js", type: "nats", natsUrl: nats.url, topicPrefix: "t4", batchSize: 50, snapshotMode: "initial" })
    ]))
    await waitFor("the snapshot acknowledged", 30_000, () => pub.acks.some((a) => a.txns.length === 0))
    const writesDuringSnapshot = writes
    writing = false
    await writer
    const head = db.handle.writer.db.prepare("SELECT max(seq) FROM __marmot_commit_log").pluck().get() as bigint
    await waitFor("the log published to its head", 30_000, () => pub.acked(head))
    await pub.stop()
    const msgs = data(await readStream("t4"))
    expect(new Set(msgs.map((m) => m.id)).size).toBe(msgs.length)
    const reads = msgs.filter((m) => m.value.payload.op === "r")
    const position = BigInt(reads[0]!.value.payload.source.lsn)
    expect(position).toBeGreaterThan(60n)
    expect(BigInt(head) - position).toBeGreaterThan(0n)
    expect(writesDuringSnapshot).toBeGreaterThan(Number(position - 60n))
    expect(reads.map((m) => m.value.payload.source.snapshot)).toEqual([...Array<string>(reads.length - 1).fill("true"), "last"])
    // Replaying the stream rebuilds both tables: a read or create of a key already there, or an
    // update or delete of one not there, would be an event twice or a gap.
    const state = new Map<string, number>()
    for (const [n, m] of msgs.entries()) {
      const p = m.value.payload
      const key = `${p.source.table}:${(p.after ?? p.before).id}`
      if (p.op === "r") expect(n).toBeLessThan(reads.length)
      else expect(BigInt(p.source.lsn)).toBeGreaterThan(position)
      expect({ key, op: p.op, present: state.has(key) }).toEqual({ key, op: p.op, present: p.op === "u" || p.op === "d" })
      if (p.op === "d") state.delete(key)
      else state.set(key, p.after.v)
    }
    const tables = ["bulk", "items"].flatMap((t) =>
      (db.handle.writer.db.prepare(`SELECT id, v FROM ${t}`).raw().all() as Array<[bigint, bigint]>).map(([id, v]): [string, number] => [`${t}:${id}`, Number(v)])
    )
    expect(new Map(tables)).toEqual(state)
    db.close()
  })
})
