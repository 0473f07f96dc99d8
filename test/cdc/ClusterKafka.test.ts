/**
 * publish_from = "origin" on a real 3-node cluster with librdkafka's mock Kafka cluster: each
 * event reaches Kafka once while every node is up; a node killed (SIGKILL) before it could publish
 * its commits has them published by the lowest ALIVE node once gossip calls it DEAD.
 */
import Database from "better-sqlite3"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { awaitFormed, type ClusterNode, connectTo, startCluster, until } from "../support/Cluster.ts"
import { consume, freePort, type KafkaMock, removeKafkaMockBinary, savedCursors, startKafkaMock, waitFor } from "./support.ts"

let mock: KafkaMock | undefined
let nodes: Array<ClusterNode> = []
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.server.stop()))
  await mock?.stop()
  removeKafkaMockBinary()
})

const publisherConfig = (brokers: ReadonlyArray<string>) => `
[publisher]
enabled = true
[[publisher.sinks]]
name = "kafka"
type = "kafka"
brokers = [${brokers.map((b) => `"${b}"`).join(", ")}]
topic_prefix = "oc"
publish_from = "origin"
retry_initial_ms = 50
retry_max_ms = 500
`

/** The head of a node's commit log of `shop` (read-only, beside the running node). */
const logHead = (node: ClusterNode): bigint => {
  const db = new Database(path.join(node.server.dataDir, "databases", "shop.db"), { readonly: true, fileMustExist: true })
  try {
    db.defaultSafeIntegers(true)
    return (db.prepare("SELECT max(seq) FROM __marmot_commit_log").pluck().get() as bigint | null) ?? 0n
  } finally {
    db.close()
  }
}

const cursorAt = async (node: ClusterNode, seq: bigint) =>
  (await savedCursors(node.server.dataDir)).some((c) => c.sink === "kafka" && c.database === "shop" && c.seq >= seq)

const insertRows = async (node: ClusterNode, ids: ReadonlyArray<number>) => {
  const c = await connectTo(node)
  try {
    // The table reaches a node by replication: wait for it there.
    if (!await until(async () => (await c.query("SELECT 1 FROM shop.items LIMIT 1"), true), 60_000, 200)) {
      throw new Error(`shop.items never reached node ${node.index + 1}`)
    }
    await c.query("USE shop")
    for (const id of ids) await c.query("INSERT INTO items VALUES (?, ?)", [id, `n${node.index + 1}`])
  } finally {
    c.destroy()
  }
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

describe("publish_from = origin on a 3-node cluster (Kafka mock)", () => {
  it("each event once while all are up; the commits of a node killed before it published still arrive", { timeout: 300_000 }, async () => {
    mock = await startKafkaMock(1, ["oc.shop.items:2", "oc.transaction:1", "oc.schema_changes:1"])
    // Node 3 (index 2) points at a port nothing listens on: it cannot publish what it commits.
    const unreachable = `127.0.0.1:${await freePort()}`
    nodes = await startCluster({
      size: 3,
      workers: () => 1,
      extraConfigOf: (i) => publisherConfig(i === 2 ? [unreachable] : mock!.brokers)
    })
    await awaitFormed(nodes[0]!)
    const admin = await connectTo(nodes[0]!)
    await admin.query("CREATE DATABASE IF NOT EXISTS shop")
    await admin.query("CREATE TABLE shop.items (id INT PRIMARY KEY, origin TEXT)")
    admin.destroy()
    const consumer = await consume(mock.brokers, ["oc.shop.items"])
    try {
      await insertRows(nodes[0]!, range(1, 20))
      await insertRows(nodes[1]!, range(101, 20))
      const ids = () => consumer.messages.map((m) => m.key.payload.id as number)
      await waitFor("40 rows in Kafka", 60_000, () => new Set(ids()).size === 40)
      // Once nodes 1 and 2 moved their cursors to their log heads, all they will publish is in.
      for (const node of nodes.slice(0, 2)) {
        const head = logHead(node)
        await waitFor(`node ${node.index + 1}'s cursor at ${head}`, 60_000, () => cursorAt(node, head))
      }
      await waitFor("the consumer caught up", 30_000, () => consumer.messages.length >= 40)
      expect(ids().sort((a, b) => a - b)).toEqual([...range(1, 20), ...range(101, 20)])

      await insertRows(nodes[2]!, range(201, 15))
      nodes[2]!.server.kill("SIGKILL")
      await waitFor("node 3's rows published by the lowest ALIVE node", 90_000, () => range(201, 15).every((id) => ids().includes(id)))
      const byOrigin = consumer.messages.filter((m) => m.key.payload.id > 200)
      expect(new Set(byOrigin.map((m) => m.value.payload.source.node_id))).toEqual(new Set([1]))
      // The others' events are still there once each.
      expect(ids().filter((id) => id < 200).sort((a, b) => a - b)).toEqual([...range(1, 20), ...range(101, 20)])
    } finally {
      await consumer.stop()
    }
  })
})
