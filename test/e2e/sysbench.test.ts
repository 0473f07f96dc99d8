/**
 * sysbench 1.0 (libmariadb, server-side prepared statements in --db-ps-mode=auto) against one server:
 * prepare / run / cleanup of oltp_read_write, oltp_point_select and oltp_insert, 2 tables x 1000 rows,
 * 4 threads for 3 s. A run must exit 0 with no FATAL line, zero ignored errors and zero reconnects, make
 * progress, and leave the data in the state the workload implies; cleanup must drop the tables.
 * Retried (deadlock-class) errors are allowed only for oltp_read_write, up to 1 % of transactions.
 */
import mysql from "mysql2/promise"
import type { Connection, RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTarget, type RunningServer } from "../support/Servers.ts"
import { parseSysbench, sysbench, sysbenchErrors } from "../support/Sysbench.ts"

const TABLES = 2
const SIZE = 1000
const opts = { tables: TABLES, tableSize: SIZE, threads: 4, time: 3, psMode: "auto" as const, timeoutMs: 90_000 }

let server: RunningServer
let conn: Connection

beforeAll(async () => {
  server = await startTarget()
  conn = await mysql.createConnection({ host: server.host, port: server.port, user: "root", password: "" })
  await conn.query("CREATE DATABASE sbtest")
  await conn.query("USE sbtest")
}, 120_000)

afterAll(async () => {
  conn?.destroy()
  await server?.stop()
})

async function counts(): Promise<Array<number>> {
  const out: Array<number> = []
  for (let i = 1; i <= TABLES; i++) {
    const [r] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM sbtest${i}`)
    out.push(Number(r[0]!["n"]))
  }
  return out
}

describe.each(["oltp_read_write", "oltp_point_select", "oltp_insert"])("sysbench %s", (workload) => {
  let transactions = 0

  it("prepare creates and fills the tables", async () => {
    const r = await sysbench(workload, "prepare", server, opts)
    expect(sysbenchErrors(r), `prepare output:\n${r.stdout}\n${r.stderr}`).toBe("")
    expect(r.code).toBe(0)
    expect(await counts()).toEqual(Array(TABLES).fill(SIZE))
    if (workload === "oltp_insert") {
      // AUTO_INCREMENT ids from the generator (auto_id_mode): distinct, not 1..SIZE
      const [ids] = await conn.query<RowDataPacket[]>("SELECT COUNT(DISTINCT id) AS n, COUNT(DISTINCT k) > 1 AS spread FROM sbtest1")
      expect(ids).toEqual([{ n: SIZE, spread: 1 }])
    } else {
      const [ids] = await conn.query<RowDataPacket[]>("SELECT MIN(id) AS lo, MAX(id) AS hi, COUNT(DISTINCT k) > 1 AS spread FROM sbtest1")
      expect(ids).toEqual([{ lo: 1, hi: SIZE, spread: 1 }])
    }
  }, 90_000)

  it("run: no errors, no reconnects, transactions > 0", async () => {
    const r = await sysbench(workload, "run", server, opts)
    const report = parseSysbench(r.stdout)
    expect(sysbenchErrors(r), `run output:\n${r.stdout}\n${r.stderr}`).toBe("")
    expect(r.code).toBe(0)
    expect(report, `unparsable report:\n${r.stdout}`).toBeDefined()
    if (workload === "oltp_read_write") {
      // sysbench retries a transaction that fails with 1213/1205/1020 and counts it as an "ignored
      // error". Real row-locking servers produce a few under 4 writers on 1000 rows (MariaDB: 0-5 in
      // 3 s), so a handful is correct behaviour; anything more means the server aborts healthy work.
      expect(report!.ignoredErrors).toBeLessThanOrEqual(Math.ceil(report!.transactions * 0.01))
    } else {
      // no two of these transactions touch the same row: nothing may fail, not even retryably
      expect(report!.ignoredErrors).toBe(0)
    }
    expect(report!.reconnects).toBe(0)
    expect(report!.transactions).toBeGreaterThan(0)
    expect(report!.events).toBe(report!.transactions)
    if (workload === "oltp_read_write") {
      // 20 queries per transaction: 14 reads (10 point + 4 range selects), 4 writes (2 updates, delete, insert), BEGIN + COMMIT
      // (a retried transaction adds the queries it had sent before it failed)
      const extraQueries = report!.queries - report!.transactions * 20
      expect(extraQueries).toBeGreaterThanOrEqual(0)
      expect(extraQueries).toBeLessThanOrEqual(report!.ignoredErrors * 20)
      const extraWrites = report!.writes - report!.transactions * 4
      expect(extraWrites).toBeGreaterThanOrEqual(0)
      expect(extraWrites).toBeLessThanOrEqual(report!.ignoredErrors * 4)
    } else {
      expect(report!.queries).toBe(report!.transactions)
    }
    transactions = report!.transactions
  }, 90_000)

  it("leaves the data the workload implies", async () => {
    const c = await counts()
    if (workload === "oltp_insert") {
      // each event inserts exactly one row (id 0 -> next AUTO_INCREMENT id)
      expect(c.reduce((a, b) => a + b, 0)).toBe(TABLES * SIZE + transactions)
    } else {
      // read_write deletes one row and re-inserts the same id in the same transaction
      expect(c).toEqual(Array(TABLES).fill(SIZE))
      const [r] = await conn.query<RowDataPacket[]>("SELECT COUNT(DISTINCT id) AS n, MIN(id) AS lo, MAX(id) AS hi FROM sbtest2")
      expect(r).toEqual([{ n: SIZE, lo: 1, hi: SIZE }])
    }
  })

  it("cleanup drops the tables", async () => {
    const r = await sysbench(workload, "cleanup", server, opts)
    expect(sysbenchErrors(r), `cleanup output:\n${r.stdout}\n${r.stderr}`).toBe("")
    expect(r.code).toBe(0)
    const [tables] = await conn.query<RowDataPacket[]>("SHOW TABLES")
    expect(tables).toEqual([])
    await expect(conn.query("SELECT COUNT(*) FROM sbtest1")).rejects.toMatchObject({ errno: 1146 })
  }, 60_000)
})
