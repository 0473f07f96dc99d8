/**
 * Replicas that start from a snapshot, real processes on loopback: a one-node cluster whose GC
 * collects its commit log within seconds, so nothing can be replayed from its start. A replica
 * started afterwards restores the database from a snapshot and then streams the log from the
 * snapshot's position; three replicas started together cost the node one snapshot copy
 * (`[replica] snapshot_cache_ttl_seconds`), shared by the three streams.
 */
import type { Connection, RowDataPacket } from "mysql2/promise"
import mysql from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { awaitFormed, type ClusterNode, clusterSections, connectTo, until } from "../support/Cluster.ts"
import { freePort, type RunningServer, startMarmot } from "../support/Servers.ts"

const secret = "replica-snapshot-secret"
let node: ClusterNode
const replicas: Array<RunningServer> = []
const conns: Array<Connection> = []

const metric = async (port: number, name: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1))
}
const nodeMetric = (name: string) => metric(node.adminPort!, name)

const rowsOn = async (server: RunningServer, database: string, sql: string) => {
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", password: "", database })
  try {
    return (await c.query<Array<RowDataPacket>>(sql))[0]
  } finally {
    c.destroy()
  }
}

/** Polls a query on a replica (the database may not exist there yet) until it gives `expected`. */
const shows = (server: RunningServer, database: string, sql: string, expected: unknown, ms = 90_000) =>
  until(async () => JSON.stringify(await rowsOn(server, database, sql)) === JSON.stringify(expected), ms, 200)

const startReplica = async (options: { databases: string; adminPort: number; nodeId: number; extra?: string }) => {
  const server = await startMarmot({
    config: `
[replica]
enabled = true
follow_addresses = ["127.0.0.1:${node.peerPort}"]
replicate_databases = ${options.databases}
secret = "${secret}"
poll_interval_ms = 100
discovery_interval_ms = 500
${options.extra ?? ""}

[admin]
http_port = ${options.adminPort}
`,
    args: ["--node-id", String(options.nodeId), "--workers", "1"],
    readyTimeoutMs: 120_000
  })
  replicas.push(server)
  return server
}

/** `count` transactions of ten rows each into `database`.t; the rows as a replica shows them. */
const fill = async (c: Connection, database: string, count: number) => {
  await c.query(`CREATE DATABASE ${database}`)
  await c.query(`CREATE TABLE ${database}.t (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)`)
  for (let i = 0; i < count; i++) {
    const values = Array.from({ length: 10 }, (_, j) => `(${i * 10 + j}, 'row ${i * 10 + j}')`)
    await c.query(`INSERT INTO ${database}.t VALUES ${values.join(", ")}`)
  }
  return count + 2
}

beforeAll(async () => {
  const peerPort = await freePort()
  const adminPort = await freePort()
  const server = await startMarmot({
    config: clusterSections({
      peerPort,
      seeds: [`127.0.0.1:${peerPort}`],
      secret,
      adminPort,
      // entries go after 3.6 s (no other member must pull them), all of them after 7.2 s
      replication: "gc_interval_seconds = 2\ngc_min_retention_hours = 0.001\ngc_max_retention_hours = 0.002"
    }) + "\n[replica]\nsnapshot_cache_ttl_seconds = 120\n",
    args: ["--node-id", "1", "--workers", "1"],
    readyTimeoutMs: 120_000
  })
  node = { index: 0, server, peerPort, adminPort }
  await awaitFormed(node, 90_000)
}, 180_000)

afterAll(async () => {
  for (const c of conns) c.destroy()
  await Promise.all([node?.server.stop(), ...replicas.map((r) => r.stop())])
})

describe("replicas bootstrapped from snapshots", { timeout: 240_000 }, () => {
  it("a replica of a node whose log was garbage-collected restores a snapshot, then streams the log from there", async () => {
    const c = await connectTo(node)
    conns.push(c)
    const entries = await fill(c, "shop", 20)
    // every entry of shop's log (and warmup's one) is gone: replaying the log cannot rebuild it
    expect(await until(async () => (await nodeMetric("marmot_gc_log_entries_deleted_total")) >= entries + 1, 60_000, 250)).toBe(true)
    const adminPort = await freePort()
    const replica = await startReplica({ databases: `["shop"]`, adminPort, nodeId: 100 })
    expect(await shows(replica, "shop", "SELECT count(*) AS n, max(id) AS top FROM t", [{ n: 200, top: 199 }])).toBe(true)
    expect(await metric(adminPort, "marmot_snapshots_total")).toBe(1)
    expect(await nodeMetric("marmot_snapshot_exports_total")).toBe(1)
    // after the snapshot, new writes come by the log
    await c.query("INSERT INTO shop.t VALUES (1000, 'after')")
    await c.query("UPDATE shop.t SET v = 'changed' WHERE id = 0")
    expect(await shows(replica, "shop", "SELECT id, v FROM t WHERE id IN (0, 1000) ORDER BY id", [{ id: 0, v: "changed" }, {
      id: 1000,
      v: "after"
    }])).toBe(true)
    expect(await metric(adminPort, "marmot_snapshots_total")).toBe(1)
    expect(await until(async () => (await metric(adminPort, "marmot_replica_applied_total")) >= 2, 10_000)).toBe(true)
  })

  it("three replicas starting together share one snapshot copy on the node", async () => {
    const c = await connectTo(node)
    conns.push(c)
    await fill(c, "fleet", 5)
    const exportsBefore = await nodeMetric("marmot_snapshot_exports_total")
    const sharedBefore = await nodeMetric("marmot_snapshot_exports_shared_total")
    // snapshot_threshold_transactions = 0: each takes a snapshot whether or not GC ran yet
    const started = await Promise.all([101, 102, 103].map(async (nodeId) =>
      startReplica({ databases: `["fleet"]`, adminPort: await freePort(), nodeId, extra: "snapshot_threshold_transactions = 0" })
    ))
    for (const replica of started) {
      expect(await shows(replica, "fleet", "SELECT count(*) AS n, max(id) AS top FROM t", [{ n: 50, top: 49 }])).toBe(true)
    }
    expect(await nodeMetric("marmot_snapshot_exports_total")).toBe(exportsBefore + 1)
    expect(await nodeMetric("marmot_snapshot_exports_shared_total")).toBe(sharedBefore + 2)
  })
})
