/**
 * AUTO_INCREMENT ids (auto_id_mode, marmot.md §10) through a real client: two worker processes of
 * one node insert concurrently with every way of asking for an id (omitted column, NULL, 0,
 * multi-row VALUES, INSERT … SELECT) and no id is handed out twice; explicit ids are kept;
 * LAST_INSERT_ID() is the generated id; INT AUTO_INCREMENT is BIGINT.
 */
import mysql, { type Connection, type ResultSetHeader, type RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeAutoId } from "../../src/query/AutoId.ts"
import { startMarmot, type RunningServer } from "../support/Servers.ts"

const NODE = 7

const connect = (server: RunningServer, database?: string): Promise<Connection> =>
  mysql.createConnection({ host: server.host, port: server.port, user: "root", supportBigNumbers: true, bigNumberStrings: true, ...(database ? { database } : {}) })

describe("compact ids from two worker processes", () => {
  let server: RunningServer

  beforeAll(async () => {
    server = await startMarmot({ args: ["--workers", "2", "--node-id", String(NODE)] })
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
  })

  it("are unique under concurrent inserts, carry the node id, and LAST_INSERT_ID() is the generated one", async () => {
    const setup = await connect(server)
    await setup.query("CREATE DATABASE ids")
    await setup.query("CREATE TABLE ids.t (id INT AUTO_INCREMENT PRIMARY KEY, conn INT NOT NULL, k INT NOT NULL)")
    await setup.query("CREATE TABLE ids.src (v INT)")
    await setup.query("INSERT INTO ids.src VALUES (1), (2), (3)")
    await setup.end()

    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(server, "ids")))
    const connectionIds = await Promise.all(clients.map(async (c) => {
      const [[row]] = await c.query<RowDataPacket[]>("SELECT CONNECTION_ID() AS id")
      return Number(row!["id"])
    }))
    // worker i hands out connection ids i+1, i+1+2, …: both workers serve some of these clients
    expect(new Set(connectionIds.map((id) => id % 2)).size).toBe(2)

    const rounds = 25
    const lastIds = await Promise.all(clients.map(async (c, n) => {
      const mine: Array<string> = []
      for (let k = 0; k < rounds; k++) {
        const forms = [
          `INSERT INTO t (conn, k) VALUES (${n}, ${k})`,
          `INSERT INTO t (id, conn, k) VALUES (NULL, ${n}, ${k})`,
          `INSERT INTO t (id, conn, k) VALUES (0, ${n}, ${k}), (0, ${n}, ${k})`,
          `INSERT INTO t (conn, k) SELECT ${n}, v FROM src`,
          `INSERT INTO t (id, conn, k) SELECT IF(v = 2, NULL, 0), ${n}, v FROM src`
        ]
        const [r] = await c.query<ResultSetHeader>(forms[k % forms.length]!)
        const [[last]] = await c.query<RowDataPacket[]>("SELECT LAST_INSERT_ID() AS id")
        expect(String(last!["id"])).toBe(String(r.insertId))
        mine.push(String(r.insertId))
      }
      const [p] = await c.execute<ResultSetHeader>("INSERT INTO t (id, conn, k) VALUES (?, ?, ?)", [null, n, -1])
      mine.push(String(p.insertId))
      return mine
    }))
    await Promise.all(clients.map((c) => c.end()))

    const check = await connect(server, "ids")
    const [[counts]] = await check.query<RowDataPacket[]>("SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM t")
    // per client: 25 rounds cycling through 1, 1, 2, 3, 3 rows, plus one prepared insert
    const sizes = [1, 1, 2, 3, 3]
    const perClient = sizes.reduce((sum, rows, i) => sum + rows * Math.ceil((rounds - i) / sizes.length), 0) + 1
    expect(Number(counts!["n"])).toBe(8 * perClient)
    expect(counts!["d"]).toBe(counts!["n"])
    const [all] = await check.query<RowDataPacket[]>("SELECT id FROM t")
    for (const row of all) {
      const id = BigInt(row["id"])
      expect(id < 2n ** 53n).toBe(true)
      expect(decodeAutoId("compact", id).node).toBe(NODE)
      expect(Math.abs(decodeAutoId("compact", id).unixMs - Date.now())).toBeLessThan(600_000)
    }
    // each client's statements got ascending ids
    for (const mine of lastIds) {
      const ids = mine.map(BigInt)
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true)
    }
    // the two workers' ids differ in the sequence field's parity
    expect(new Set(all.map((r) => decodeAutoId("compact", BigInt(r["id"])).seq % 2)).size).toBe(2)
    await check.end()
  })

  it("keeps explicit ids, and INT AUTO_INCREMENT is a BIGINT column", async () => {
    const c = await connect(server, "ids")
    const [r] = await c.query<ResultSetHeader>("INSERT INTO t (id, conn, k) VALUES (42, 0, 0)")
    expect(r.insertId).toBe(42)
    const [[row]] = await c.query<RowDataPacket[]>("SELECT id FROM t WHERE id = 42")
    expect(String(row!["id"])).toBe("42")
    const [cols] = await c.query<RowDataPacket[]>("DESCRIBE t")
    expect(cols[0]).toMatchObject({ Field: "id", Type: "bigint", Key: "PRI", Extra: "auto_increment" })
    const [[create]] = await c.query<RowDataPacket[]>("SHOW CREATE TABLE t")
    expect(create!["Create Table"]).toContain("`id` bigint NOT NULL AUTO_INCREMENT")
    // a generated id after an explicit one is still a generated one
    const [g] = await c.query<ResultSetHeader>("INSERT INTO t (conn, k) VALUES (0, 1)")
    expect(decodeAutoId("compact", BigInt(g.insertId)).node).toBe(NODE)
    // an upsert that only updates uses no id: LAST_INSERT_ID() stays the last generated one
    await c.query("CREATE TABLE u (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(5) UNIQUE, n INT NOT NULL DEFAULT 0)")
    const [a] = await c.query<ResultSetHeader>("INSERT INTO u (name) VALUES ('a') ON DUPLICATE KEY UPDATE n = n + 1")
    const [b] = await c.query<ResultSetHeader>("INSERT INTO u (name) VALUES ('a') ON DUPLICATE KEY UPDATE n = n + 1")
    expect(b.affectedRows).toBe(2)
    const [[last]] = await c.query<RowDataPacket[]>("SELECT LAST_INSERT_ID() AS id, (SELECT id FROM u) AS row_id, (SELECT n FROM u) AS n")
    expect(last).toMatchObject({ id: String(a.insertId), row_id: String(a.insertId), n: 1 })
    await c.end()
  })
})

describe("extended ids", () => {
  let server: RunningServer

  beforeAll(async () => {
    server = await startMarmot({ config: `node_id = 70\n[mysql]\nauto_id_mode = "extended"\n`, args: ["--workers", "1"] })
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
  })

  it("are 64-bit: unix ms << 22 | (node_id & 63) << 16 | sequence", async () => {
    const c = await connect(server)
    await c.query("CREATE DATABASE ext")
    await c.query("CREATE TABLE ext.users (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name TEXT)")
    const before = Date.now()
    const [r] = await c.query<ResultSetHeader>("INSERT INTO ext.users (id, name) VALUES (0, 'alice'), (NULL, 'bob')")
    const first = BigInt(r.insertId)
    expect(first > 2n ** 53n).toBe(true)
    const decoded = decodeAutoId("extended", first)
    expect(decoded.node).toBe(70 & 63)
    expect(decoded.unixMs).toBeGreaterThanOrEqual(before - 5)
    expect(decoded.unixMs).toBeLessThanOrEqual(Date.now() + 5)
    const [rows] = await c.query<RowDataPacket[]>("SELECT id, name FROM ext.users ORDER BY id")
    expect(rows.map((x) => x["name"])).toEqual(["alice", "bob"])
    expect(String(rows[0]!["id"])).toBe(first.toString())
    expect(BigInt(rows[1]!["id"])).toBeGreaterThan(first)
    await c.end()
  })

  it("a bad auto_id_mode stops the node with an error naming the key", async () => {
    await expect(startMarmot({ config: `[mysql]\nauto_id_mode = "wide"\n`, args: ["--workers", "1"], readyTimeoutMs: 20_000 })).rejects.toThrow(
      /mysql\.auto_id_mode: must be one of compact, extended/
    )
  })
})
