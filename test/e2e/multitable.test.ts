/**
 * Multi-table UPDATE and DELETE through a real client, with MySQL's results and affected-row
 * counts: UPDATE … JOIN … SET, UPDATE t1, t2, LEFT JOIN, several target tables, DELETE t1 FROM,
 * DELETE t1, t2 FROM, DELETE FROM … USING.
 */
import mysql, { type Connection, type ResultSetHeader, type RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { errorOf } from "../support/Mysql2.ts"
import { startMarmot, type RunningServer } from "../support/Servers.ts"

let server: RunningServer
/** CLIENT_FOUND_ROWS off: affectedRows is MySQL's changed-row count */
let c: Connection

beforeAll(async () => {
  server = await startMarmot({ args: ["--workers", "1"] })
  c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", flags: ["-FOUND_ROWS"] })
  await c.query("CREATE DATABASE mt")
  await c.query("USE mt")
}, 120_000)

afterAll(async () => {
  await c?.end()
  await server?.stop()
})

beforeEach(async () => {
  await c.query("DROP TABLE IF EXISTS orders, customers")
  await c.query("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(10), vip TINYINT, seen INT NOT NULL DEFAULT 0)")
  await c.query("CREATE TABLE orders (id INT PRIMARY KEY, customer INT, total INT, status VARCHAR(10))")
  await c.query("INSERT INTO customers (id, name, vip) VALUES (1, 'ann', 1), (2, 'bob', 0), (3, 'cy', 1)")
  await c.query("INSERT INTO orders VALUES (10, 1, 100, 'new'), (11, 1, 50, 'new'), (12, 2, 70, 'new'), (13, 9, 5, 'new')")
})

const run = async (sql: string) => (await c.query<ResultSetHeader>(sql))[0]
const rows = async (sql: string) => (await c.query<RowDataPacket[]>(sql))[0].map((r) => Object.values(r))
/** sums: MySQL sends DECIMAL, compared as numbers */
const numbers = async (sql: string) => (await rows(sql)).map((r) => r.map(Number))


describe("multi-table UPDATE", () => {
  it("UPDATE t1 JOIN t2 ON … SET t1.c = t2.x WHERE …", async () => {
    const r = await run("UPDATE orders o JOIN customers c ON c.id = o.customer SET o.status = c.name WHERE c.vip = 1")
    expect(r.affectedRows).toBe(2)
    expect(r.info).toContain("Rows matched: 2  Changed: 2")
    expect(await rows("SELECT id, status FROM orders ORDER BY id")).toEqual([[10, "ann"], [11, "ann"], [12, "new"], [13, "new"]])
    // unchanged rows are matched but not affected
    const again = await run("UPDATE orders o INNER JOIN customers c ON c.id = o.customer SET o.status = c.name")
    expect(again.affectedRows).toBe(1)
    expect(again.info).toContain("Rows matched: 3  Changed: 1")
  })

  it("UPDATE t1, t2 SET … WHERE …", async () => {
    const r = await run("UPDATE orders, customers SET orders.total = orders.total + 1 WHERE orders.customer = customers.id AND customers.name = 'bob'")
    expect(r.affectedRows).toBe(1)
    expect(await rows("SELECT id, total FROM orders ORDER BY id")).toEqual([[10, 100], [11, 50], [12, 71], [13, 5]])
  })

  it("sets columns of several tables, each row once however many join rows match it", async () => {
    const r = await run("UPDATE orders o JOIN customers c ON c.id = o.customer SET o.status = 'seen', c.seen = c.seen + 1")
    expect(r.affectedRows).toBe(5)
    expect(r.info).toContain("Rows matched: 5  Changed: 5")
    expect(await rows("SELECT id, seen FROM customers ORDER BY id")).toEqual([[1, 1], [2, 1], [3, 0]])
    expect(await rows("SELECT id, status FROM orders ORDER BY id")).toEqual([[10, "seen"], [11, "seen"], [12, "seen"], [13, "new"]])
    // a table other than the first only
    const second = await run("UPDATE orders o JOIN customers c ON c.id = o.customer SET c.vip = 0 WHERE o.total > 60")
    expect(second.affectedRows).toBe(1)
    expect(await rows("SELECT id, vip FROM customers ORDER BY id")).toEqual([[1, 0], [2, 0], [3, 1]])
  })

  it("UPDATE … LEFT JOIN: rows without a match see NULLs", async () => {
    const r = await run("UPDATE orders o LEFT JOIN customers c ON c.id = o.customer SET o.status = 'orphan' WHERE c.id IS NULL")
    expect(r.affectedRows).toBe(1)
    const all = await run("UPDATE orders o LEFT JOIN customers c ON c.id = o.customer SET o.status = IFNULL(c.name, 'nobody')")
    expect(all.affectedRows).toBe(4)
    expect(await rows("SELECT id, status FROM orders ORDER BY id")).toEqual([[10, "ann"], [11, "ann"], [12, "bob"], [13, "nobody"]])
  })

  it("runs as one statement inside a transaction and rolls back with it", async () => {
    await c.query("BEGIN")
    await run("UPDATE orders o JOIN customers c ON c.id = o.customer SET o.total = 0, c.seen = 7")
    expect(await numbers("SELECT sum(total) FROM orders")).toEqual([[5]])
    await c.query("ROLLBACK")
    expect(await numbers("SELECT sum(total), (SELECT sum(seen) FROM customers) FROM orders")).toEqual([[225, 0]])
  })

  it("answers bad input with MySQL errors", async () => {
    expect(await errorOf(run("UPDATE orders o JOIN nothing n ON n.id = o.id SET o.total = 1, n.x = 2"))).toMatchObject({ errno: 1146 })
    expect(await errorOf(run("UPDATE orders o JOIN customers c ON c.id = o.customer SET o.nope = 1, c.seen = 2"))).toMatchObject({ errno: 1054 })
    // nothing was half-done
    expect(await numbers("SELECT sum(seen) FROM customers")).toEqual([[0]])
  })
})

describe("multi-table DELETE", () => {
  it("DELETE t1 FROM t1 JOIN t2 …", async () => {
    const r = await run("DELETE o FROM orders o JOIN customers c ON c.id = o.customer WHERE c.name = 'bob'")
    expect(r.affectedRows).toBe(1)
    expect(await rows("SELECT id FROM orders ORDER BY id")).toEqual([[10], [11], [13]])
  })

  it("DELETE t1, t2 FROM t1 JOIN t2 … deletes from both", async () => {
    const r = await run("DELETE o, c FROM orders o JOIN customers c ON c.id = o.customer WHERE c.id = 1")
    expect(r.affectedRows).toBe(3)
    expect(await rows("SELECT id FROM orders ORDER BY id")).toEqual([[12], [13]])
    expect(await rows("SELECT id FROM customers ORDER BY id")).toEqual([[2], [3]])
  })

  it("DELETE FROM t1 USING t1 LEFT JOIN t2 …, and DELETE FROM t1, t2 USING …", async () => {
    const r = await run("DELETE FROM orders USING orders LEFT JOIN customers ON customers.id = orders.customer WHERE customers.id IS NULL")
    expect(r.affectedRows).toBe(1)
    expect(await rows("SELECT id FROM orders ORDER BY id")).toEqual([[10], [11], [12]])
    const both = await run("DELETE FROM o, c USING orders AS o INNER JOIN customers AS c WHERE o.customer = c.id AND c.name = 'bob'")
    expect(both.affectedRows).toBe(2)
    expect(await rows("SELECT id FROM customers ORDER BY id")).toEqual([[1], [3]])
  })

  it("targets in another database: the same one qualified is fine, a different one is 1235", async () => {
    const r = await run("DELETE o, mt.c FROM mt.orders o JOIN customers c ON c.id = o.customer WHERE c.id = 2")
    expect(r.affectedRows).toBe(2)
    await c.query("CREATE DATABASE IF NOT EXISTS mt_other")
    await c.query("CREATE TABLE IF NOT EXISTS mt_other.notes (id INT PRIMARY KEY, customer INT)")
    expect(await errorOf(run("DELETE o, n FROM orders o JOIN mt_other.notes n ON n.customer = o.customer"))).toMatchObject({ errno: 1235 })
  })

  it("an unknown target is 1109", async () => {
    expect(await errorOf(run("DELETE x FROM orders o JOIN customers c ON c.id = o.customer"))).toMatchObject({
      errno: 1109,
      message: "Unknown table 'x' in MULTI DELETE"
    })
  })
})
