/**
 * The publisher against a Kafka-protocol broker: librdkafka's mock cluster
 * (test/support/kafka-mock-cluster.c, built with gcc against Debian's librdkafka-dev), read back
 * with a kafkajs consumer. Its fault commands take a broker down and inject produce errors.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import {
  type Consumed,
  consume,
  type KafkaMock,
  mixedWorkload,
  removeDir,
  removeKafkaMockBinary,
  runCrashChild,
  savedCursors,
  settingsFor,
  sink,
  sleep,
  startKafkaMock,
  startPublisher,
  TestDatabase,
  tempDir,
  waitFor
} from "./support.ts"

const dirs: Array<string> = []
let mock: KafkaMock | undefined
afterEach(async () => {
  await mock?.stop()
  mock = undefined
})
afterAll(() => {
  dirs.forEach(removeDir)
  removeKafkaMockBinary()
})

const newDir = () => {
  const d = tempDir("kafka-data")
  dirs.push(d)
  return d
}

const kafkaSink = (brokers: ReadonlyArray<string>, prefix: string, over: Parameters<typeof sink>[0] | object = {}) =>
  sink({ name: "kafka", type: "kafka", brokers, topicPrefix: prefix, retryInitialMs: 50, retryMaxMs: 300, ...over })

/** Per partition of the data topic, in offset order. */
const byPartition = (msgs: ReadonlyArray<Consumed>) => {
  const out = new Map<number, Array<Consumed>>()
  for (const m of [...msgs].sort((a, b) => a.offset - b.offset)) {
    const list = out.get(m.partition) ?? []
    out.set(m.partition, list)
    list.push(m)
  }
  return out
}

describe("Kafka sink (librdkafka mock cluster, kafkajs consumer)", () => {
  it("every event comes back: envelopes, primary-key keys, a tombstone after each delete, order per key", async () => {
    mock = await startKafkaMock(1, ["k1.shop.items:3", "k1.transaction:1"])
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE items (id INT PRIMARY KEY, v TEXT)"])
    const { history, deletes } = await mixedWorkload(db, 40, 6, 4)
    for (const list of history.values()) list.splice(0, list.length, ...list.flatMap((h) => (h === "d" ? ["d", "tombstone"] : [h])))
    const pub = await startPublisher(settingsFor(dir, [kafkaSink(mock.brokers, "k1")]))
    const consumer = await consume(mock.brokers, ["k1.shop.items", "k1.transaction"])
    const expected = 40 * 3 + deletes
    await waitFor("all events consumed", 30_000, () => consumer.messages.length >= expected)
    await sleep(300)
    await consumer.stop()
    await pub.stop()
    expect(consumer.messages).toHaveLength(expected)
    const data = consumer.messages.filter((m) => m.topic === "k1.shop.items")
    const perKey = new Map<number, Array<string>>()
    for (const [, list] of byPartition(data)) {
      for (const m of list) {
        const id = m.key.payload.id as number
        expect(m.key.schema.name).toBe("k1.shop.items.Key")
        const seen = perKey.get(id) ?? []
        perKey.set(id, seen)
        if (m.value === null) seen.push("tombstone")
        else {
          seen.push(m.value.payload.op === "d" ? "d" : `${m.value.payload.op}:${m.value.payload.after.v}`)
          expect(m.value.payload.source).toMatchObject({ connector: "marmot", db: "shop", table: "items" })
        }
        expect(m.id).toMatch(/^shop:[0-9a-f]{16}-00000001:0t?$/)
      }
    }
    expect(perKey).toEqual(history)
    // One key, one partition.
    for (const id of history.keys()) expect(new Set(data.filter((m) => m.key.payload.id === id).map((m) => m.partition)).size).toBe(1)
    const tx = consumer.messages.filter((m) => m.topic === "k1.transaction").sort((a, b) => a.offset - b.offset)
    expect(tx.map((m) => m.value.payload.status)).toEqual(Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? "BEGIN" : "END")))
    expect(tx.filter((m) => m.value.payload.status === "END").every((m) => m.value.payload.event_count === 1)).toBe(true)
    db.close()
  })

  it("retries through a broker that is down, injected produce errors and added latency; nothing is lost", async () => {
    mock = await startKafkaMock(1, ["k2.shop.items:2", "k2.transaction:1"])
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE items (id INT PRIMARY KEY, v INT)"])
    for (let i = 1n; i <= 10n; i++) await db.insert("items", [i, 0n])
    const pub = await startPublisher(settingsFor(dir, [kafkaSink(mock.brokers, "k2", { batchSize: 4 })]))
    await waitFor("first batches", 20_000, () => pub.acked(10n))

    expect(await mock.command("down 1")).toBe("Success")
    for (let i = 11n; i <= 20n; i++) await db.insert("items", [i, 0n])
    await sleep(1_500)
    expect(pub.acks.some((a) => a.txns.some((t) => t.seq > 10n))).toBe(false)
    expect(await mock.command("up 1")).toBe("Success")
    await waitFor("after the broker came back", 30_000, () => pub.acked(20n))

    // NOT_LEADER_FOR_PARTITION (6) for the next 6 Produce requests (api key 0).
    expect(await mock.command("err 0 6 6")).toBe("Success")
    for (let i = 21n; i <= 30n; i++) await db.insert("items", [i, 0n])
    await waitFor("through the injected errors", 30_000, () => pub.acked(30n))

    // 400 ms more on every broker response: slower, still complete.
    expect(await mock.command("rtt 1 400")).toBe("Success")
    const slowFrom = Date.now()
    for (let i = 31n; i <= 35n; i++) await db.insert("items", [i, 0n])
    await waitFor("through the latency", 30_000, () => pub.acked(35n))
    expect(Date.now() - slowFrom).toBeGreaterThanOrEqual(400)
    expect(await mock.command("rtt 1 0")).toBe("Success")
    await pub.stop()

    const consumer = await consume(mock.brokers, ["k2.shop.items"])
    await waitFor("35 rows consumed", 30_000, () => new Set(consumer.messages.map((m) => m.key.payload.id)).size === 35)
    await consumer.stop()
    // At-least-once: every row is there; a retried batch may be there twice.
    expect([...new Set(consumer.messages.map((m) => m.key.payload.id as number))].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 35 }, (_, i) => i + 1)
    )
    db.close()
  })

  it("a publisher killed between publish and cursor save sends that batch again (duplicates downstream, nothing lost)", async () => {
    mock = await startKafkaMock(1, ["k3.shop.items:1", "k3.transaction:1"])
    const dir = newDir()
    const db = new TestDatabase(dir, "shop", ["CREATE TABLE items (id INT PRIMARY KEY, v TEXT)"])
    for (let i = 1n; i <= 12n; i++) await db.insert("items", [i, "x"])
    const settings = settingsFor(dir, [kafkaSink(mock.brokers, "k3", { batchSize: 5 })])
    await runCrashChild(settings, 10)
    const saved = await savedCursors(dir)
    expect(saved.map((c) => c.seq)).toEqual([5n])
    const pub = await startPublisher(settings)
    await waitFor("all 12", 30_000, () => pub.acked(12n))
    await pub.stop()
    const consumer = await consume(mock.brokers, ["k3.shop.items"])
    await waitFor("17 messages", 30_000, () => consumer.messages.length >= 17)
    await sleep(300)
    await consumer.stop()
    // One partition: 1..10 from the killed publisher, then 6..12 again from the restarted one.
    const ids = [...consumer.messages].sort((a, b) => a.offset - b.offset).map((m) => m.key.payload.id)
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 6, 7, 8, 9, 10, 11, 12])
    db.close()
  })
})
