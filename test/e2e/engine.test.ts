/**
 * Single-node engine behaviour through a real client: databases as files, qualified names,
 * raw SQLite mode, savepoints, lock waits and deadlocks, the connection limit, the unix socket.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { errorOf } from "../support/Mysql2.ts"
import { run, startMarmot, type RunningServer } from "../support/Servers.ts"

let server: RunningServer
const socketDir = mkdtempSync(path.join(os.tmpdir(), "marmot-sock-"))
const socketPath = path.join(socketDir, "mysql.sock")

beforeAll(async () => {
  // One worker: lock waits and deadlock detection are per process (see src/query/DESIGN.md).
  server = await startMarmot({
    config: `[mysql]\nmax_connections = 4\nlock_wait_timeout_seconds = 1\n` +
      `[[mysql.users]]\nname = "root"\npassword = ""\n[[mysql.users]]\nname = "app"\npassword = "s3cret"\n`,
    args: ["--workers", "1", "--unix-socket", socketPath]
  })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  rmSync(socketDir, { recursive: true, force: true })
})

const connect = (options: mysql.ConnectionOptions = {}): Promise<Connection> =>
  mysql.createConnection({ host: server.host, port: server.port, user: "root", supportBigNumbers: true, ...options })


describe("databases", () => {
  it("are SQLite files, listed by SHOW DATABASES, reachable by qualified names from another database", async () => {
    const c = await connect()
    await c.query("CREATE DATABASE e_one")
    await c.query("CREATE DATABASE e_two")
    expect(existsSync(path.join(server.dataDir, "databases", "e_one.db"))).toBe(true)
    const [dbs] = await c.query<RowDataPacket[]>("SHOW DATABASES")
    expect(dbs.map((r) => r["Database"])).toEqual(expect.arrayContaining(["e_one", "e_two"]))
    await c.query("CREATE TABLE e_two.items (id INT PRIMARY KEY, name VARCHAR(10))")
    await c.query("INSERT INTO e_two.items VALUES (1, 'tea'), (2, 'coffee')")
    await c.query("USE e_one")
    await c.query("CREATE TABLE prices (id INT PRIMARY KEY, price DOUBLE)")
    await c.query("INSERT INTO prices VALUES (1, 2.5), (2, 3.5)")
    const [joined] = await c.query<RowDataPacket[]>(
      "SELECT i.name, p.price FROM e_two.items i JOIN prices p ON p.id = i.id ORDER BY i.id"
    )
    expect(joined).toEqual([{ name: "tea", price: 2.5 }, { name: "coffee", price: 3.5 }])
    const [tables] = await c.query<RowDataPacket[]>("SHOW TABLES FROM e_two")
    expect(tables.map((r) => Object.values(r)[0])).toEqual(["items"])
    await c.query("DROP DATABASE e_two")
    expect(existsSync(path.join(server.dataDir, "databases", "e_two.db"))).toBe(false)
    expect(await errorOf(c.query("SELECT * FROM e_two.items"))).toMatchObject({ errno: 1146 })
    expect(await errorOf(c.query("USE e_two"))).toMatchObject({ errno: 1049, sqlState: "42000" })
    await c.end()
  })

  it("names existing tables (1050) and unknown columns (1054) like MySQL", async () => {
    const c = await connect({ database: "e_one" })
    expect(await errorOf(c.query("CREATE TABLE prices (id INT)"))).toMatchObject({ errno: 1050, sqlState: "42S01" })
    expect(await errorOf(c.query("SELECT nope FROM prices"))).toMatchObject({ errno: 1054, sqlState: "42S22" })
    expect(await errorOf(c.query("SELECT * FROM nothing_here"))).toMatchObject({ errno: 1146, message: "Table 'e_one.nothing_here' doesn't exist" })
    await c.end()
  })
})

describe("EXPLAIN", () => {
  it("answers with SQLite's plan in MySQL's columns, and runs nothing", async () => {
    const c = await connect({ database: "e_one" })
    await c.query("CREATE TABLE ex (id INT AUTO_INCREMENT PRIMARY KEY, k INT, name VARCHAR(10), KEY kk (k))")
    await c.query("INSERT INTO ex (k, name) VALUES (1, 'a'), (2, 'b')")
    const plan = async (sql: string) => {
      const [rows] = await c.query<RowDataPacket[]>(sql)
      return rows.map((r) => ({ table: r["table"], type: r["type"], key: r["key"], Extra: r["Extra"] }))
    }
    expect(await plan("EXPLAIN SELECT * FROM ex WHERE id = 1")).toEqual([{ table: "ex", type: "const", key: "PRIMARY", Extra: null }])
    expect(await plan("EXPLAIN SELECT * FROM ex WHERE k = 2 ORDER BY name")).toEqual([{ table: "ex", type: "ref", key: "kk", Extra: "Using filesort" }])
    expect(await plan("EXPLAIN SELECT * FROM ex")).toEqual([{ table: "ex", type: "ALL", key: null, Extra: null }])
    expect(await plan("EXPLAIN DELETE FROM ex WHERE id > 0")).toEqual([{ table: "ex", type: "range", key: "PRIMARY", Extra: null }])
    expect(await plan("EXPLAIN SELECT 1")).toEqual([{ table: null, type: null, key: null, Extra: "No tables used" }])
    const [n] = await c.query<RowDataPacket[]>("SELECT count(*) AS n FROM ex")
    expect(n[0]!["n"]).toBe(2)
    expect(await errorOf(c.query("EXPLAIN SELECT * FROM nope"))).toMatchObject({ errno: 1146 })
    await c.end()
  })
})

describe("raw SQLite mode", () => {
  it("passes statements to SQLite untranslated until it is turned back on", async () => {
    const c = await connect({ database: "e_one" })
    await c.query("SET marmot_transpilation = OFF")
    const [info] = await c.query<RowDataPacket[]>("PRAGMA table_info(prices)")
    expect(info.map((r) => r["name"])).toEqual(["id", "price"])
    await c.query("SET marmot_transpilation = ON")
    expect(await errorOf(c.query("PRAGMA table_info(prices)"))).toMatchObject({ errno: 1064 })
    await c.end()
  })
})

describe("transactions", () => {
  it("rolls back to a savepoint and keeps what came before it", async () => {
    const c = await connect({ database: "e_one" })
    await c.query("CREATE TABLE sp (id INT PRIMARY KEY)")
    await c.query("BEGIN")
    await c.query("INSERT INTO sp VALUES (1)")
    await c.query("SAVEPOINT a")
    await c.query("INSERT INTO sp VALUES (2)")
    await c.query("ROLLBACK TO SAVEPOINT a")
    await c.query("INSERT INTO sp VALUES (3)")
    await c.query("COMMIT")
    const [r] = await c.query<RowDataPacket[]>("SELECT id FROM sp ORDER BY id")
    expect(r.map((x) => x["id"])).toEqual([1, 3])
    expect(await errorOf(c.query("ROLLBACK TO SAVEPOINT nope"))).toMatchObject({ errno: 1305 })
    await c.end()
  })

  it("times out a write waiting for another transaction's lock (1205), which then commits", async () => {
    const a = await connect({ database: "e_one" })
    const b = await connect({ database: "e_one" })
    await a.query("BEGIN")
    await a.query("INSERT INTO sp VALUES (10)")
    const started = Date.now()
    expect(await errorOf(b.query("INSERT INTO sp VALUES (11)"))).toMatchObject({ errno: 1205, sqlState: "HY000" })
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    await a.query("COMMIT")
    await b.query("INSERT INTO sp VALUES (11)")
    const [r] = await b.query<RowDataPacket[]>("SELECT count(*) AS n FROM sp WHERE id >= 10")
    expect(r[0]!["n"]).toBe(2)
    await a.end()
    await b.end()
  })

  it("refuses a wait that closes a cycle across two databases with 1213 and rolls the victim back", async () => {
    const c = await connect()
    await c.query("CREATE DATABASE e_three")
    await c.query("CREATE TABLE e_three.t (id INT PRIMARY KEY)")
    await c.end()
    const a = await connect({ database: "e_one" })
    const b = await connect({ database: "e_three" })
    await a.query("BEGIN")
    await a.query("INSERT INTO sp VALUES (20)")
    await b.query("BEGIN")
    await b.query("INSERT INTO t VALUES (1)")
    const aWaits = a.query("INSERT INTO e_three.t VALUES (2)").then(() => "ok", (e: { errno: number }) => e.errno)
    await new Promise((r) => setTimeout(r, 100))
    expect(await errorOf(b.query("INSERT INTO e_one.sp VALUES (21)"))).toMatchObject({ errno: 1213, sqlState: "40001" })
    expect(await aWaits).toBe("ok")
    await a.query("COMMIT")
    const [t] = await a.query<RowDataPacket[]>("SELECT id FROM e_three.t ORDER BY id")
    expect(t.map((x) => x["id"])).toEqual([2])
    await a.end()
    await b.end()
  })
})

describe("connections", () => {
  it("refuses connections past max_connections with 1040", async () => {
    const open = await Promise.all([connect(), connect(), connect(), connect()])
    expect(await errorOf(connect())).toMatchObject({ errno: 1040 })
    await Promise.all(open.map((c) => c.end()))
  })

  it("authenticates a caching_sha2_password client (libmariadb's plugin, through an auth switch)", async () => {
    const cli = (user: string, password: string | undefined) =>
      run("mariadb", [
        "--no-defaults", "-h", server.host, "-P", String(server.port), `-u${user}`,
        ...(password === undefined ? [] : [`-p${password}`]),
        "--default-auth=caching_sha2_password", "-N", "-e", "SELECT CURRENT_USER()"
      ], { timeoutMs: 20_000 })
    expect(await cli("app", "s3cret")).toMatchObject({ code: 0, stdout: "app@%\n" })
    expect(await cli("root", undefined)).toMatchObject({ code: 0, stdout: "root@%\n" })
    const wrong = await cli("app", "wrong")
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain("ERROR 1045 (28000)")
  })

  it("serves the unix socket", async () => {
    const c = await mysql.createConnection({ socketPath, user: "root" })
    const [r] = await c.query<RowDataPacket[]>("SELECT 1 + 1 AS two")
    expect(r).toEqual([{ two: 2 }])
    await c.end()
  })
})
