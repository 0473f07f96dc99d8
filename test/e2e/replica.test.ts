/**
 * A read-only replica of a 3-node cluster, all real processes on loopback. The replica (two MySQL
 * workers behind its supervisor, admin port on) is given only node 1's peer address and
 * `replicate_databases = ["shop", "app_*"]`: writes and DDL on the cluster appear on it, writes
 * to it are refused with 1290, /readyz turns ready once it has caught up, databases outside the
 * filter stay away, and kill -9 of the node it follows makes it switch to another node and go on.
 */
import type { Connection, RowDataPacket } from "mysql2/promise"
import mysql from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { awaitFormed, type ClusterNode, connectTo, startCluster, until } from "../support/Cluster.ts"
import { freePort, type RunningServer, startMarmot } from "../support/Servers.ts"

const secret = "replica-e2e-secret"
let nodes: Array<ClusterNode> = []
let replica: RunningServer | undefined
let replicaAdmin = 0
const extra: Array<RunningServer> = []
const conns: Array<Connection> = []

const track = (c: Connection) => {
  conns.push(c)
  return c
}
const connectNode = async (i: number, database?: string) => track(await connectTo(nodes[i]!, database))
const connectTo_ = async (server: RunningServer, database?: string) =>
  track(await mysql.createConnection({ host: server.host, port: server.port, user: "root", password: "", ...(database === undefined ? {} : { database }) }))
const connectReplica = (database?: string) => connectTo_(replica!, database)

const rowsOf = async (c: Connection, sql: string) => (await c.query<Array<RowDataPacket>>(sql))[0]

/**
 * A write on the cluster, sent again while it is refused with "nothing was written" (on a loaded
 * machine a QUORUM round can miss its 2 s deadline); anything else fails the test.
 */
const write = async (c: Connection, sql: string) => {
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      return await c.query(sql)
    } catch (e) {
      const message = (e as Error).message
      if (!/nothing was written/.test(message) || Date.now() > deadline) throw e
      await new Promise((r) => setTimeout(r, 250))
    }
  }
}

interface ReplicaReadiness {
  readonly ready: boolean
  readonly source: { readonly id: number; readonly address: string } | null
  readonly failovers: number
  readonly reason?: string
}
const readiness = async (): Promise<{ status: number; body: ReplicaReadiness }> => {
  const response = await fetch(`http://127.0.0.1:${replicaAdmin}/readyz`)
  return { status: response.status, body: await response.json() as ReplicaReadiness }
}

/** Polls a query on the replica (a fresh connection each time: the database may not exist yet) until it gives `expected`. */
const replicaShows = (database: string, sql: string, expected: unknown, ms = 60_000, server?: RunningServer) =>
  until(async () => {
    const c = await connectTo_(server ?? replica!, database)
    try {
      return JSON.stringify(await rowsOf(c, sql)) === JSON.stringify(expected)
    } finally {
      c.destroy()
    }
  }, ms, 200)

const replicaConfig = (followAddress: string, adminPort: number, filter: string, writeMode = "reject") => `
[replica]
enabled = true
follow_addresses = ["${followAddress}"]
replicate_databases = ${filter}
secret = "${secret}"
poll_interval_ms = 100
discovery_interval_ms = 500
write_mode = "${writeMode}"

[admin]
http_port = ${adminPort}
`

beforeAll(async () => {
  nodes = await startCluster({ size: 3, secret, workers: () => 1 })
  await awaitFormed(nodes[0]!, 90_000)
  replicaAdmin = await freePort()
  replica = await startMarmot({
    config: replicaConfig(`127.0.0.1:${nodes[0]!.peerPort}`, replicaAdmin, `["shop", "app_*"]`),
    args: ["--node-id", "100", "--workers", "2"],
    readyTimeoutMs: 120_000
  })
}, 300_000)

afterAll(async () => {
  for (const c of conns) c.destroy()
  await Promise.all([...nodes.map((n) => n.server.stop()), replica?.stop(), ...extra.map((s) => s.stop())])
})

describe("a read-only replica of a 3-node cluster", { timeout: 180_000 }, () => {
  it("gets the cluster's writes and DDL, and is ready once caught up", async () => {
    const c0 = await connectNode(0)
    await write(c0, "CREATE DATABASE shop")
    await write(c0, "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)")
    await write(c0, "INSERT INTO shop.items VALUES (1, 'one'), (2, 'two')")
    const c1 = await connectNode(1, "shop")
    await write(c1, "ALTER TABLE items ADD COLUMN qty INT NOT NULL DEFAULT 7")
    await write(c1, "INSERT INTO items (id, name, qty) VALUES (3, 'three', 30)")
    await write(c1, "UPDATE items SET qty = 10 WHERE id = 1")
    const c2 = await connectNode(2, "shop")
    await write(c2, "DELETE FROM items WHERE id = 2")
    const expected = [{ id: 1, name: "one", qty: 10 }, { id: 3, name: "three", qty: 30 }]
    expect(await replicaShows("shop", "SELECT id, name, qty FROM items ORDER BY id", expected)).toBe(true)
    expect(await until(async () => (await readiness()).status === 200, 30_000, 200)).toBe(true)
    const ready = await readiness()
    expect(ready.body.ready).toBe(true)
    expect(nodes.map((n) => n.index + 1)).toContain(ready.body.source?.id)
  })

  it("refuses every write with 1290 and serves reads", async () => {
    expect(await replicaShows("shop", "SELECT count(*) AS n FROM items", [{ n: 2 }])).toBe(true)
    const c = await connectReplica("shop")
    for (
      const sql of [
        "INSERT INTO items (id, name) VALUES (9, 'nine')",
        "UPDATE items SET qty = 0",
        "DELETE FROM items",
        "REPLACE INTO items (id, name) VALUES (1, 'x')",
        "CREATE TABLE t (id INT PRIMARY KEY)",
        "ALTER TABLE items ADD COLUMN x INT",
        "DROP TABLE items",
        "TRUNCATE TABLE items",
        "CREATE DATABASE app_new",
        "DROP DATABASE shop"
      ]
    ) {
      const failure = await c.query(sql).then(() => undefined, (e: { errno?: number; sqlState?: string; message?: string }) => e)
      expect(failure?.errno, sql).toBe(1290)
      expect(failure?.sqlState, sql).toBe("HY000")
      expect(failure?.message, sql).toMatch(/--read-only option .*read-only replica/)
    }
    // a prepared (binary protocol) write and a write inside a transaction are refused too
    await expect(c.execute("INSERT INTO items (id, name) VALUES (?, ?)", [9, "nine"])).rejects.toMatchObject({ errno: 1290 })
    await c.query("BEGIN")
    await expect(c.query("UPDATE items SET name = 'y' WHERE id = 1")).rejects.toMatchObject({ errno: 1290 })
    await c.query("ROLLBACK")
    expect(await rowsOf(c, "SELECT id, name FROM items ORDER BY id")).toEqual([{ id: 1, name: "one" }, { id: 3, name: "three" }])
    expect(await rowsOf(c, "SELECT @@read_only AS ro")).toEqual([{ ro: 1 }])
  })

  it("replicates only the databases replicate_databases names", async () => {
    const c0 = await connectNode(0)
    await write(c0, "CREATE DATABASE other")
    await write(c0, "CREATE TABLE other.t (id INT PRIMARY KEY)")
    await write(c0, "INSERT INTO other.t VALUES (1)")
    await write(c0, "CREATE DATABASE app_1")
    await write(c0, "CREATE TABLE app_1.t (id INT PRIMARY KEY)")
    await write(c0, "INSERT INTO app_1.t VALUES (1), (2)")
    expect(await replicaShows("app_1", "SELECT id FROM t ORDER BY id", [{ id: 1 }, { id: 2 }])).toBe(true)
    // app_1 came after other in every log: the replica has read past other's entries and skipped them
    const c = await connectReplica()
    const databases = (await rowsOf(c, "SHOW DATABASES")).map((r) => Object.values(r)[0])
    expect(databases).toContain("app_1")
    expect(databases).not.toContain("other")
    expect(databases).not.toContain("warmup")
  })

  it("write_mode = forward: the replica sends writes to the cluster and reads them back at once", async () => {
    const forwarding = await startMarmot({
      config: replicaConfig(`127.0.0.1:${nodes[0]!.peerPort}`, await freePort(), "[]", "forward"),
      args: ["--node-id", "101", "--workers", "1"],
      readyTimeoutMs: 120_000
    })
    extra.push(forwarding)
    expect(await replicaShows("shop", "SELECT count(*) AS n FROM items", [{ n: 2 }], 60_000, forwarding)).toBe(true)
    const c = await connectTo_(forwarding, "shop")
    await write(c, "INSERT INTO items (id, name, qty) VALUES (20, 'via replica', 5)")
    // read your writes: the answer came once the change was back in the replica's copy
    expect(await rowsOf(c, "SELECT name, qty FROM items WHERE id = 20")).toEqual([{ name: "via replica", qty: 5 }])
    await write(c, "UPDATE items SET qty = qty + 1 WHERE id = 20")
    expect(await rowsOf(c, "SELECT qty FROM items WHERE id = 20")).toEqual([{ qty: 6 }])
    await write(c, "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)")
    await write(c, "INSERT INTO notes VALUES (1, 'hello')")
    expect(await rowsOf(c, "SELECT body FROM notes")).toEqual([{ body: "hello" }])
    const n2 = await connectNode(2, "shop")
    expect(await until(async () => (await rowsOf(n2, "SELECT qty FROM items WHERE id = 20"))[0]?.["qty"] === 6, 30_000)).toBe(true)
    expect(await until(async () => (await rowsOf(n2, "SELECT body FROM notes")).length === 1, 30_000)).toBe(true)
    // and the read-only replica refuses while it gets the forwarded writes from the cluster
    expect(await replicaShows("shop", "SELECT qty FROM items WHERE id = 20", [{ qty: 6 }])).toBe(true)
    await write(c, "DELETE FROM items WHERE id = 20")
    await write(c, "DROP TABLE notes")
    expect(await rowsOf(c, "SELECT count(*) AS n FROM items WHERE id = 20")).toEqual([{ n: 0 }])
    expect(await replicaShows("shop", "SELECT count(*) AS n FROM items WHERE id = 20", [{ n: 0 }])).toBe(true)
    await forwarding.stop()
  })

  it("fails over when the node it follows is killed (-9) and keeps following", async () => {
    const before = (await readiness()).body
    const followed = before.source!.id
    const victim = nodes.find((n) => n.index + 1 === followed)!
    victim.server.kill("SIGKILL")
    const survivor = nodes.find((n) => n !== victim)!
    const c = await connectNode(survivor.index, "shop")
    // QUORUM: 2 of 3 members alive is enough; the first attempts may still wait for the dead node
    expect(
      await until(async () => {
        await write(c, "INSERT INTO items (id, name, qty) VALUES (4, 'after failover', 40)")
        return true
      }, 60_000, 500)
    ).toBe(true)
    await write(c, "UPDATE items SET qty = 11 WHERE id = 1")
    const expected = [{ id: 1, name: "one", qty: 11 }, { id: 3, name: "three", qty: 30 }, { id: 4, name: "after failover", qty: 40 }]
    expect(await replicaShows("shop", "SELECT id, name, qty FROM items ORDER BY id", expected, 90_000)).toBe(true)
    const after = (await readiness()).body
    expect(after.source?.id).not.toBe(followed)
    expect(after.failovers).toBeGreaterThan(before.failovers)
    // nothing lost or applied twice: the replica holds exactly what the survivors hold
    const onSurvivor = await rowsOf(c, "SELECT id, name, qty FROM items ORDER BY id")
    expect(onSurvivor).toEqual(expected)
  })

  it("a replica without the cluster secret does not start: the key is named", async () => {
    const started = await startMarmot({
      config: `[replica]\nenabled = true\nfollow_addresses = ["127.0.0.1:${nodes[0]!.peerPort}"]\n`,
      args: ["--workers", "1"],
      readyTimeoutMs: 60_000
    }).then((s) => {
      extra.push(s)
      return undefined
    }, (e: Error) => e.message)
    expect(started).toMatch(/config: replica\.secret: is required for a replica/)
  })
})
