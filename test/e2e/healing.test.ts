/**
 * Snapshots between real nodes on loopback, with GC retention in seconds: a brand-new node (two
 * MySQL workers behind its supervisor, so the installed file must reach processes that had it
 * open) joins a cluster that holds data and ends identical; a node stopped until its peers
 * collected their logs past it comes back, catches up by snapshot and ends identical.
 */
import Database from "better-sqlite3"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Connection, RowDataPacket } from "mysql2/promise"
import { afterAll, describe, expect, it } from "vitest"
import { awaitFormed, type ClusterNode, clusterSections, connectTo, until } from "../support/Cluster.ts"
import { freePort, type RunningServer, startMarmot } from "../support/Servers.ts"

const root = mkdtempSync(join(tmpdir(), "marmot-heal-"))
const servers: Array<RunningServer> = []
const conns: Array<Connection> = []
const secret = "heal-secret"
/** gc_min 1.8 s, gc_max 5.4 s, every second. */
const gc = "gc_interval_seconds = 1\ngc_min_retention_hours = 0.0005\ngc_max_retention_hours = 0.0015"

afterAll(async () => {
  if (process.env["HEAL_LOGS"] !== undefined) for (const s of servers) process.stderr.write(`\n=== ${s.pid}\n${s.output()}`)
  for (const c of conns) c.destroy()
  await Promise.all(servers.map((s) => s.stop()))
  rmSync(root, { recursive: true, force: true })
})

interface Node extends ClusterNode {
  readonly dataDir: string
}

const start = async (index: number, peerPort: number, seedPort: number, workers: number): Promise<Node> => {
  const dataDir = join(root, `node-${index}`)
  const server = await startMarmot({
    config: clusterSections({ peerPort, seeds: [`127.0.0.1:${seedPort}`], secret, replication: gc }),
    args: ["--node-id", String(index + 1), "--workers", String(workers)],
    dataDir,
    readyTimeoutMs: 120_000
  })
  servers.push(server)
  return { index, server, peerPort, dataDir }
}

const stop = async (node: Node) => {
  await node.server.stop()
  servers.splice(servers.indexOf(node.server), 1)
}

const connect = async (node: Node, database?: string) => {
  const c = await connectTo(node, database)
  conns.push(c)
  return c
}

/** The table as node sees it over a fresh connection (which may land on either worker). */
const dump = async (node: Node): Promise<string> => {
  const c = await connectTo(node, "shop")
  try {
    const [rows] = await c.query<Array<RowDataPacket>>("SELECT id, name, HEX(payload) AS payload FROM items ORDER BY id")
    return JSON.stringify(rows)
  } finally {
    c.destroy()
  }
}

const sameAs = (expected: string, node: Node) => async () => (await dump(node)) === expected

/** A number from the node's `shop` file (read beside the running server). */
const fromFile = (node: Node, sql: string): number => {
  const db = new Database(join(node.dataDir, "databases", "shop.db"), { readonly: true, fileMustExist: true })
  try {
    return Number((db.prepare(sql).pluck().get() as number | null | undefined) ?? 0)
  } finally {
    db.close()
  }
}

/** The highest seq the node's GC deleted from `shop`'s log. */
const horizon = (node: Node) => fromFile(node, "SELECT seq FROM __marmot_log_horizon")

const insertRows = async (c: Connection, from: number, to: number) => {
  for (let id = from; id <= to; id += 50) {
    const rows = Array.from({ length: Math.min(50, to - id + 1) }, (_, k) => [id + k, `item ${id + k}`, Buffer.alloc(512, id + k)])
    await c.query("INSERT INTO items (id, name, payload) VALUES ?", [rows])
  }
}

describe("snapshots between real nodes", { timeout: 300_000 }, () => {
  it("a brand-new node joins a cluster holding data; a node stopped past the GC horizon comes back; both end identical", async () => {
    const ports = [await freePort(), await freePort(), await freePort()]
    const a = await start(0, ports[0]!, ports[0]!, 1)
    const b = await start(1, ports[1]!, ports[0]!, 1)
    await awaitFormed(a, 120_000)
    // a alone can form the cluster: wait until b joined and holds what a wrote, or b (catching
    // up, without the database yet) refuses the writes of a two-node QUORUM
    const cb0 = await connect(b)
    expect(await until(async () => (await cb0.query<Array<RowDataPacket>>("SHOW DATABASES LIKE 'warmup'"))[0].length === 1, 120_000)).toBe(true)
    const ca = await connect(a)
    await ca.query("CREATE DATABASE shop")
    await ca.query("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, payload BLOB)")
    await ca.query("USE shop")
    await insertRows(ca, 1, 400)
    await ca.query("DELETE FROM items WHERE id % 10 = 0")
    const before = await dump(a)
    expect(await until(sameAs(before, b), 60_000)).toBe(true)

    // brand new, two workers
    const c = await start(2, ports[2]!, ports[0]!, 2)
    expect(await until(sameAs(before, c), 120_000, 250)).toBe(true)
    // every worker of the new node serves the installed data and writes through it
    for (let k = 0; k < 4; k++) expect(await dump(c)).toBe(before)
    const cc = await connect(c, "shop")
    await cc.query("UPDATE items SET name = 'changed on the new node' WHERE id = 1")
    const afterNew = await dump(c)
    expect(await until(sameAs(afterNew, a), 60_000)).toBe(true)

    // b stops; a and c write and collect their logs past b's position (gc_max)
    const headWhenStopped = fromFile(a, "SELECT max(seq) FROM __marmot_commit_log")
    await stop(b)
    await insertRows(ca, 401, 600)
    await ca.query("UPDATE items SET name = 'while b was away' WHERE id < 50")
    // b had pulled at most a's log head at the time it stopped
    expect(await until(async () => horizon(a) > headWhenStopped, 60_000, 250)).toBe(true)
    const latest = await dump(a)
    expect(await until(sameAs(latest, c), 60_000)).toBe(true)

    const back = await start(1, ports[1]!, ports[0]!, 2)
    expect(await until(sameAs(latest, back), 120_000, 250)).toBe(true)
    const cb = await connect(back, "shop")
    await cb.query("INSERT INTO items (id, name) VALUES (10000, 'from b after its snapshot')")
    const final = await dump(back)
    expect(await until(sameAs(final, a), 60_000)).toBe(true)
    expect(await until(sameAs(final, c), 60_000)).toBe(true)
  })
})
