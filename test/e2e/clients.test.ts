/**
 * Real MySQL clients against one server: the mariadb CLI (libmariadb), PHP mysqli (mysqlnd), Python
 * pymysql and node mysql2. Each connects, creates a database and a table, inserts, selects, updates,
 * deletes, uses prepared statements (or client-side interpolation for pymysql), transactions seen from
 * a second connection, and the common errors with their exact codes and SQLSTATEs.
 *
 * Target: our server (default) or a private MariaDB with E2E_TARGET=mariadb, which is how these
 * expectations were checked. AUTO_INCREMENT ids are compared by order, not value: ours come from
 * the cluster-unique generator (auto_id_mode, src/query/AutoId.ts), MariaDB's count from 1; and our
 * INT AUTO_INCREMENT columns are BIGINT (`idType`).
 */
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import mysql from "mysql2/promise"
import type { Connection, ConnectionOptions, ResultSetHeader, RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cli, CliSession, type CliLogin } from "../support/MariadbCli.ts"
import { APP_USER, run, startTarget, type RunningServer } from "../support/Servers.ts"

let server: RunningServer
/** MYSQL_TYPE of an INT AUTO_INCREMENT column: LONG in MySQL, LONGLONG here (widened to 64 bits for generated ids) */
const idType = () => (server.kind === "mariadb" ? 3 : 8)
/** strictly ascending */
const ascending = (ids: ReadonlyArray<number | bigint | string>): boolean => ids.every((id, i) => i === 0 || BigInt(id) > BigInt(ids[i - 1]!))

beforeAll(async () => {
  server = await startTarget()
}, 120_000)

afterAll(async () => {
  await server?.stop()
})

const root = (database?: string): CliLogin => (database ? { port: server.port, database } : { port: server.port })

// ---------------------------------------------------------------------------------------------
describe("mariadb CLI", { timeout: 20_000 }, () => {
  const DB = "e2e_cli"

  it("connects and selects", async () => {
    const r = await cli(root(), "SELECT 1")
    expect(r.stderr).toBe("")
    expect(r).toMatchObject({ code: 0, stdout: "1\n" })
  })

  it("creates a database and a table", async () => {
    const c = await cli(root(), `CREATE DATABASE ${DB}`)
    expect(c.stderr).toBe("")
    expect(c.code).toBe(0)
    const t = await cli(
      root(DB),
      `CREATE TABLE items (
         id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
         name VARCHAR(100) NOT NULL,
         qty INT,
         price DOUBLE,
         created DATETIME,
         data BLOB,
         UNIQUE KEY uq_name (name)
       )`
    )
    expect(t.stderr).toBe("")
    expect(t.code).toBe(0)
    const s = await cli(root(DB), "SHOW TABLES")
    expect(s).toMatchObject({ code: 0, stdout: "items\n" })
  })

  it("inserts and reads LAST_INSERT_ID()", async () => {
    const r = await cli(
      root(DB),
      `INSERT INTO items (name, qty, price, created, data) VALUES ('apple', 3, 1.5, '2024-01-02 03:04:05', X'00FF10');
       SELECT LAST_INSERT_ID();
       INSERT INTO items (name, qty, price, created, data) VALUES ('pear', 7, -2.25, '1999-12-31 23:59:59', NULL), ('plum', 1, 0.5, NULL, NULL);
       SELECT LAST_INSERT_ID();`,
      ["-vvv"]
    )
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    // -vvv prints the OK packet's affected rows
    expect(r.stdout).toMatch(/Query OK, 1 row affected/)
    expect(r.stdout).toMatch(/Query OK, 2 rows affected/)
    // LAST_INSERT_ID() after a multi-row insert is the FIRST generated id
    const ids = [...r.stdout.matchAll(/^\|\s*(\d+)\s*\|$/gm)].map((m) => m[1]!) // (alignment is the client's choice)
    expect(ids).toHaveLength(2)
    const all = (await cli(root(DB), "SELECT id FROM items ORDER BY id")).stdout.trim().split("\n")
    expect(all).toHaveLength(3)
    expect(ascending(all)).toBe(true)
    expect(ids).toEqual([all[0], all[1]])
  })

  it("selects typed rows; a BLOB is shown as hex because of the column's binary charset", async () => {
    const r = await cli(root(DB), "SELECT id, name, qty, price, created, HEX(data) FROM items ORDER BY id")
    expect(r.stderr).toBe("")
    const ids = r.stdout.split("\n").filter((l) => l !== "").map((l) => l.split("\t")[0]!)
    expect(r.stdout).toBe(
      [
        `${ids[0]}\tapple\t3\t1.5\t2024-01-02 03:04:05\t00FF10`,
        `${ids[1]}\tpear\t7\t-2.25\t1999-12-31 23:59:59\tNULL`,
        `${ids[2]}\tplum\t1\t0.5\tNULL\tNULL`,
        ""
      ].join("\n")
    )
    // (the 10.11 client prints a NULL BLOB as "0x" under --binary-as-hex, so only a non-NULL one here)
    const hex = await cli(root(DB), `SELECT data FROM items WHERE id = ${ids[0]}`, ["--binary-as-hex"])
    expect(hex).toMatchObject({ code: 0, stdout: "0x00FF10\n", stderr: "" })
  })

  it("updates and deletes with affected-row counts", async () => {
    const r = await cli(
      root(DB),
      `UPDATE items SET qty = qty + 10 WHERE name IN ('apple', 'pear');
       DELETE FROM items WHERE name = 'plum';
       SELECT name, qty FROM items ORDER BY id;`,
      ["-vvv"]
    )
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const counts = [...r.stdout.matchAll(/Query OK, (\d+) rows? affected/g)].map((m) => m[1])
    expect(counts).toEqual(["2", "1"])
    expect(r.stdout).toMatch(/\| apple \| +13 \|\n\| pear +\| +17 \|/)
  })

  it("runs several statements in one -e", async () => {
    const r = await cli(root(), "SELECT 1; SELECT 2")
    expect(r).toMatchObject({ code: 0, stdout: "1\n2\n", stderr: "" })
  })

  it("runs SQL-level PREPARE / EXECUTE", async () => {
    const r = await cli(
      root(DB),
      "PREPARE s FROM 'SELECT qty * ? FROM items WHERE name = ?'; SET @a = 10, @b = 'apple'; EXECUTE s USING @a, @b; DEALLOCATE PREPARE s"
    )
    expect(r).toMatchObject({ code: 0, stdout: "130\n", stderr: "" })
  })

  it("keeps a transaction invisible to a second connection until COMMIT; ROLLBACK discards", async () => {
    const a = new CliSession(root(DB))
    const count = async () => (await cli(root(DB), "SELECT COUNT(*) FROM items WHERE name LIKE 'tx-%'")).stdout
    try {
      expect(await a.send("BEGIN; INSERT INTO items (name, qty) VALUES ('tx-1', 1);")).toBe("")
      expect(await a.send("SELECT COUNT(*) FROM items WHERE name LIKE 'tx-%';")).toBe("1\n")
      expect(await count()).toBe("0\n")
      await a.send("COMMIT;")
      expect(await count()).toBe("1\n")
      await a.send("SET autocommit = 0; INSERT INTO items (name, qty) VALUES ('tx-2', 2);")
      expect(await count()).toBe("1\n")
      await a.send("ROLLBACK;")
      expect(await a.send("SELECT COUNT(*) FROM items WHERE name LIKE 'tx-%';")).toBe("1\n")
      expect(await count()).toBe("1\n")
      expect(a.stderr()).toBe("")
      expect(await a.end()).toBe(0)
    } finally {
      await a.kill()
    }
  })

  it("fails with exit code 1 and the MySQL message on a missing table (1146)", async () => {
    const r = await cli(root(DB), "SELECT * FROM no_such_table")
    expect(r.code).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toMatch(/^ERROR 1146 \(42S02\) at line 1: Table 'e2e_cli\.no_such_table' doesn't exist$/m)
  })

  it("reports syntax errors (1064), duplicate keys (1062), unknown databases (1049)", async () => {
    const syntax = await cli(root(DB), "SELEC 1")
    expect(syntax.code).toBe(1)
    expect(syntax.stderr).toMatch(/^ERROR 1064 \(42000\) at line 1: /m)
    const dup = await cli(root(DB), "INSERT INTO items (name) VALUES ('apple')")
    expect(dup.code).toBe(1)
    expect(dup.stderr).toMatch(/^ERROR 1062 \(23000\) at line 1: /m)
    // (soft: the message text is checked without hiding the checks after it)
    expect.soft(dup.stderr).toMatch(/^ERROR 1062 \(23000\) at line 1: Duplicate entry 'apple' for key '(items\.)?uq_name'$/m)
    const db = await cli(root("no_such_db_cli"), "SELECT 1")
    expect(db.code).toBe(1)
    expect(db.stderr).toMatch(/^ERROR 1049 \(42000\): Unknown database 'no_such_db_cli'$/m)
    const use = await cli(root(), "USE no_such_db_cli")
    expect(use.code).toBe(1)
    expect(use.stderr).toMatch(/^ERROR 1049 \(42000\) at line 1: Unknown database 'no_such_db_cli'$/m)
  })

  it("rejects a wrong password (1045) and accepts the right one", async () => {
    const bad = await cli({ port: server.port, user: APP_USER.user, password: "wrong" }, "SELECT 1")
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^ERROR 1045 \(28000\): Access denied for user 'app'@'[^']*' \(using password: YES\)$/m)
    const good = await cli({ port: server.port, user: APP_USER.user, password: APP_USER.password }, "SELECT 1")
    expect(good).toMatchObject({ code: 0, stdout: "1\n", stderr: "" })
  })
})

// ---------------------------------------------------------------------------------------------
// PHP and Python run one step per process; the scripts print one JSON object.

const PHP_SCRIPT = fileURLToPath(new URL("../support/clients/mysqli_probe.php", import.meta.url))
const PY_SCRIPT = fileURLToPath(new URL("../support/clients/pymysql_probe.py", import.meta.url))

async function probe(kind: "php" | "python", step: string): Promise<any> {
  const [cmd, script] = kind === "php" ? ["php", PHP_SCRIPT] : ["/usr/bin/python3", PY_SCRIPT]
  const r = await run(cmd, [script, String(server.port), step], { timeoutMs: 20_000 })
  if (r.code !== 0 || r.timedOut) {
    throw new Error(`${kind} step '${step}' failed (exit ${r.code}${r.timedOut ? ", timed out" : ""}):\n${r.stderr}\n${r.stdout}`)
  }
  return JSON.parse(r.stdout)
}

describe("PHP mysqli", { timeout: 25_000 }, () => {
  const php = (step: string) => probe("php", step)

  it("connects, creates a database and a table", async () => {
    expect(await php("setup")).toEqual({ one: 1 })
  })

  it("inserts and reports insert_id / affected_rows", async () => {
    const r = await php("insert")
    expect(r).toMatchObject({ affected1: 1, affected_multi: 2 })
    expect(ascending([r.id1, r.id2, r.id_multi])).toBe(true)
  })

  it("selects with native int/float types from the column metadata", async () => {
    const r = await php("select")
    const ids: Array<number> = r.rows.map((row: { id: number }) => row.id)
    expect(ids.every((id) => typeof id === "number")).toBe(true)
    expect(ascending(ids)).toBe(true)
    expect(r.rows).toEqual([
      { id: ids[0], name: "apple", qty: 3, price: 1.5, created: "2024-01-02 03:04:05", data: { hex: "00ff10" } },
      { id: ids[1], name: "pear", qty: 7, price: -2.25, created: "1999-12-31 23:59:59", data: null },
      { id: ids[2], name: "plum", qty: 1, price: 0.5, created: null, data: null },
      { id: ids[3], name: "fig", qty: 2, price: 0.25, created: null, data: null }
    ])
    // MYSQL_TYPE_LONG (ours: LONGLONG), VAR_STRING, LONG, DOUBLE, DATETIME, BLOB
    expect(r.fields).toEqual([
      { name: "id", type: idType() },
      { name: "name", type: 253 },
      { name: "qty", type: 3 },
      { name: "price", type: 5 },
      { name: "created", type: 12 },
      { name: "data", type: 252 }
    ])
  })

  it("updates: affected_rows counts changed rows (no CLIENT_FOUND_ROWS)", async () => {
    expect(await php("update")).toEqual({ affected: 2, affected_same: 0, affected_none: 0, qty: [13, 17] })
  })

  it("deletes", async () => {
    expect(await php("delete")).toEqual({ affected: 2, count: 2 })
  })

  it("prepares: bind_param with NULL and 2^53+1, get_result, bind_result, send_long_data", async () => {
    const r = await php("prepared")
    expect(ascending([r.insert_id, r.insert_id2])).toBe(true)
    expect(r).toEqual({
      param_count: 6,
      insert_id: r.insert_id,
      affected: 1,
      insert_id2: r.insert_id2,
      rows: [
        {
          name: "kiwi 'quoted' \\ back",
          qty: null,
          qty_type: "NULL",
          price: 3.125,
          price_type: "double",
          created: "2030-06-07 08:09:10",
          data: "0001feff",
          big: "9007199254740993",
          big_type: "integer",
          id_type: "integer"
        }
      ],
      mango_big: "-9007199254740993",
      long_data_affected: 1,
      long_data_len: 4000,
      long_data_md5: r.long_data_md5_expected,
      long_data_md5_expected: "88d494ae34919af0c44ac2bb9cbc3d82"
    })
  })

  it("transactions: autocommit(false)/commit/rollback and begin_transaction", async () => {
    expect(await php("transactions")).toEqual({
      start: 0,
      other_before_commit: 0,
      self_before_commit: 1,
      other_after_commit: 1,
      other_after_rollback: 1,
      other_in_begin: 1,
      other_after_begin_rollback: 1,
      tx1_qty: 100
    })
  })

  it("errors: 1146, 1064, 1062, 1049, 1045 with SQLSTATEs", async () => {
    const r = await php("errors")
    expect(r.missing_table).toEqual({
      code: 1146,
      sqlstate: "42S02",
      message: "Table 'e2e_php.no_such_table' doesn't exist"
    })
    expect(r.syntax).toMatchObject({ code: 1064, sqlstate: "42000" })
    expect(r.duplicate).toMatchObject({ code: 1062, sqlstate: "23000" })
    expect.soft(r.duplicate.message).toMatch(/^Duplicate entry 'apple' for key '(items\.)?uq_name'$/)
    expect(r.still_works).toBe(42)
    // mysqlnd reports connect errors with SQLSTATE HY000 whatever the server sends; the code is the server's
    expect(r.unknown_db_connect).toMatchObject({ code: 1049, message: "Unknown database 'no_such_db_php'" })
    expect(r.unknown_db_select).toEqual({ code: 1049, sqlstate: "42000", message: "Unknown database 'no_such_db_php'" })
    expect(r.prepare_missing_table).toMatchObject({ code: 1146, sqlstate: "42S02" })
    expect(r.wrong_password.code).toBe(1045)
    expect(r.wrong_password.message).toMatch(/^Access denied for user 'app'@'[^']*' \(using password: YES\)$/)
    expect(r.no_such_user.code).toBe(1045)
    expect(r.app_select).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------
describe("Python pymysql (client-side interpolation)", { timeout: 25_000 }, () => {
  const py = (step: string) => probe("python", step)
  const TRICKY = "it's a \"quoted\" \\ back\\slash \\n not-a-newline; -- not a comment /* nor this */ é ✓"

  it("connects, creates a database and a table", async () => {
    expect(await py("setup")).toEqual({ one: 1 })
  })

  it("inserts %s parameters (quotes, backslashes, bytes, datetime, 2^53+1) and reports lastrowid", async () => {
    const r = await py("insert")
    expect(r).toMatchObject({ rowcount1: 1, rowcount2: 1, rowcount_many: 3 })
    expect(ascending([r.lastrowid1, r.lastrowid2])).toBe(true)
  })

  it("selects the exact values back with Python types", async () => {
    const r = await py("select")
    expect(r.columns).toEqual(["id", "name", "qty", "price", "created", "data", "big"])
    const ids: Array<{ int: string }> = r.rows.map((row: Array<{ int: string }>) => row[0])
    expect(ascending(ids.map((id) => id.int))).toBe(true)
    expect(r.rows).toEqual([
      [
        ids[0],
        TRICKY,
        { int: "3" },
        { float: "1.5" },
        { datetime: "2024-01-02 03:04:05" },
        { bytes: "00275cff22" },
        { int: "9007199254740993" }
      ],
      [ids[1], "pear", null, { float: "-2.25" }, null, null, { int: "-9007199254740993" }],
      [ids[2], "plum", { int: "1" }, { float: "0.5" }, null, null, null],
      [ids[3], "fig", { int: "2" }, { float: "0.25" }, null, null, null],
      [ids[4], "date", { int: "4" }, { float: "0.001" }, null, null, null]
    ])
    expect(r.by_tricky_name).toEqual([ids[0]])
    expect(r.tricky_roundtrip).toBe(true)
  })

  it("updates and deletes with rowcount", async () => {
    expect(await py("update")).toEqual({ rowcount: 2, rowcount_none: 0, qty: [{ int: "13" }, { int: "10" }] })
    expect(await py("delete")).toEqual({ rowcount: 3, count: { int: "2" } })
  })

  it("transactions: autocommit off by default, commit publishes, rollback discards", async () => {
    expect(await py("transactions")).toEqual({
      start: 0,
      other_before_commit: 0,
      other_after_commit: 1,
      other_after_rollback: 1,
      tx1_qty: 1,
      other_during_delete: 1,
      other_after_delete: 0
    })
  })

  it("errors: 1146, 1064, 1062, 1049, 1045", async () => {
    const r = await py("errors")
    expect(r.missing_table).toEqual({
      code: 1146,
      class: "ProgrammingError",
      message: "Table 'e2e_py.no_such_table' doesn't exist"
    })
    expect(r.syntax).toMatchObject({ code: 1064, class: "ProgrammingError" })
    expect(r.duplicate).toMatchObject({ code: 1062, class: "IntegrityError" })
    expect.soft(r.duplicate.message).toMatch(/^Duplicate entry 'pear' for key '(items\.)?uq_name'$/)
    expect(r.still_works).toBe(42)
    expect(r.unknown_db).toEqual({ code: 1049, class: "OperationalError", message: "Unknown database 'no_such_db_py'" })
    expect(r.wrong_password).toMatchObject({ code: 1045, class: "OperationalError" })
    expect(r.wrong_password.message).toMatch(/^Access denied for user 'app'@'[^']*' \(using password: YES\)$/)
    expect(r.app_count).toBe(2)
  })
})

// ---------------------------------------------------------------------------------------------
describe("node mysql2", { timeout: 15_000 }, () => {
  const DB = "e2e_node"
  const opened: Array<Connection> = []

  async function connect(opts: ConnectionOptions = {}): Promise<Connection> {
    const c = await mysql.createConnection({
      host: server.host,
      port: server.port,
      user: "root",
      password: "",
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: false, // BIGINTs as numbers, as strings only beyond 2^53
      connectTimeout: 10_000,
      ...opts
    })
    opened.push(c)
    return c
  }

  afterAll(() => {
    for (const c of opened) c.destroy()
  })

  let c: Connection

  it("connects, creates a database and tables", async () => {
    c = await connect()
    const [r] = await c.query<ResultSetHeader>(`CREATE DATABASE ${DB}`)
    expect(r.affectedRows).toBe(1)
    await c.query(`USE ${DB}`)
    await c.query(`CREATE TABLE items (
      id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(100) NOT NULL,
      qty INT,
      price DOUBLE,
      created DATETIME,
      data BLOB,
      big BIGINT,
      UNIQUE KEY uq_name (name))`)
    await c.query("CREATE TABLE blobs (id INT NOT NULL PRIMARY KEY, b LONGBLOB)")
    const [rows] = await c.query<RowDataPacket[]>("SELECT DATABASE() AS db")
    expect(rows).toEqual([{ db: DB }])
  })

  it("inserts and reports insertId / affectedRows", async () => {
    const [a] = await c.query<ResultSetHeader>(
      "INSERT INTO items (name, qty, price, created, data) VALUES ('apple', 3, 1.5, '2024-01-02 03:04:05', X'00FF10')"
    )
    expect(a).toMatchObject({ affectedRows: 1 })
    const [b] = await c.query<ResultSetHeader>(
      "INSERT INTO items (name, qty, price, created) VALUES ('pear', 7, -2.25, '1999-12-31 23:59:59'), ('plum', 1, 0.5, NULL)"
    )
    expect(b).toMatchObject({ affectedRows: 2 })
    // id = 0 into an AUTO_INCREMENT column generates the next id (sysbench oltp_insert relies on it)
    const [z] = await c.query<ResultSetHeader>("INSERT INTO items (id, name) VALUES (0, 'zero')")
    expect(z).toMatchObject({ affectedRows: 1 })
    // insertId is the first id a statement generated
    const [ids] = await c.query<RowDataPacket[]>("SELECT id FROM items ORDER BY id")
    expect(ids.map((r) => r["id"])).toEqual([a.insertId, b.insertId, ids[2]!["id"], z.insertId])
    expect(ascending(ids.map((r) => r["id"]))).toBe(true)
  })

  it("selects typed values (text protocol)", async () => {
    const [rows] = await c.query<RowDataPacket[]>("SELECT id, name, qty, price, created, data, big FROM items ORDER BY id")
    const ids = rows.map((r) => r["id"] as number)
    expect(ids.every((id) => typeof id === "number")).toBe(true)
    expect(rows).toEqual([
      { id: ids[0], name: "apple", qty: 3, price: 1.5, created: "2024-01-02 03:04:05", data: Buffer.from([0, 0xff, 0x10]), big: null },
      { id: ids[1], name: "pear", qty: 7, price: -2.25, created: "1999-12-31 23:59:59", data: null, big: null },
      { id: ids[2], name: "plum", qty: 1, price: 0.5, created: null, data: null, big: null },
      { id: ids[3], name: "zero", qty: null, price: null, created: null, data: null, big: null }
    ])
  })

  it("updates and deletes (mysql2 sets CLIENT_FOUND_ROWS: affectedRows counts matched rows)", async () => {
    const [u] = await c.query<ResultSetHeader>("UPDATE items SET qty = qty + 10 WHERE name IN ('apple', 'pear')")
    expect(u.affectedRows).toBe(2)
    const [same] = await c.query<ResultSetHeader>("UPDATE items SET qty = 13 WHERE name = 'apple'")
    expect(same.affectedRows).toBe(1)
    const [none] = await c.query<ResultSetHeader>("UPDATE items SET qty = 1 WHERE name = 'nothing'")
    expect(none.affectedRows).toBe(0)
    const [d] = await c.query<ResultSetHeader>("DELETE FROM items WHERE name IN ('plum', 'zero')")
    expect(d.affectedRows).toBe(2)
    const [rows] = await c.query<RowDataPacket[]>("SELECT name, qty FROM items ORDER BY id")
    expect(rows).toEqual([
      { name: "apple", qty: 13 },
      { name: "pear", qty: 17 }
    ])
  })

  it("executes prepared statements with int, bigint, double, string, null and Buffer (binary protocol)", async () => {
    const ins = "INSERT INTO items (name, qty, price, created, data, big) VALUES (?, ?, ?, ?, ?, ?)"
    const [a] = await c.execute<ResultSetHeader>(ins, [
      "exec 'one' \\ \"two\" é",
      42,
      2.5,
      "2031-01-01 00:00:00",
      Buffer.from([0, 1, 2, 0xff]),
      9007199254740993n
    ])
    // (no reuse of deleted ids is checked in the AUTO_INCREMENT test below)
    expect(a.affectedRows).toBe(1)
    const id = a.insertId
    expect(id).toBeGreaterThan(2)
    const [b] = await c.execute<ResultSetHeader>(ins, ["exec-null", null, null, null, null, null])
    expect(b).toMatchObject({ affectedRows: 1 })
    expect(b.insertId).toBeGreaterThan(id)
    // an explicit MYSQL_TYPE_LONGLONG parameter (8-byte binary integer)
    const [t] = await c.execute<ResultSetHeader>(ins, [
      "exec-typed",
      mysql.TypedParameter.LONG(-7),
      -0.125,
      "2000-02-29 12:00:00",
      Buffer.alloc(0),
      mysql.TypedParameter.LONGLONG(-9007199254740993n)
    ])
    expect(t).toMatchObject({ affectedRows: 1 })
    expect(t.insertId).toBeGreaterThan(b.insertId)

    const sel = "SELECT id, name, qty, price, created, data, big FROM items WHERE id >= ? ORDER BY id"
    const [rows] = await c.execute<RowDataPacket[]>(sel, [id])
    expect(rows).toEqual([
      {
        id,
        name: "exec 'one' \\ \"two\" é",
        qty: 42,
        price: 2.5,
        created: "2031-01-01 00:00:00",
        data: Buffer.from([0, 1, 2, 0xff]),
        big: "9007199254740993"
      },
      { id: b.insertId, name: "exec-null", qty: null, price: null, created: null, data: null, big: null },
      {
        id: t.insertId,
        name: "exec-typed",
        qty: -7,
        price: -0.125,
        created: "2000-02-29 12:00:00",
        data: Buffer.alloc(0),
        big: "-9007199254740993"
      }
    ])
    // exact 64-bit comparison on the server side
    const [byBig] = await c.execute<RowDataPacket[]>("SELECT id FROM items WHERE big = ?", [
      mysql.TypedParameter.LONGLONG(9007199254740993n)
    ])
    expect(byBig).toEqual([{ id }])
    const [byBigNeighbour] = await c.execute<RowDataPacket[]>("SELECT id FROM items WHERE big = ?", [
      mysql.TypedParameter.LONGLONG(9007199254740992n)
    ])
    expect(byBigNeighbour).toEqual([])
    // the cached statement runs again with other values
    const [again] = await c.execute<RowDataPacket[]>(sel, [t.insertId])
    expect(again.map((r) => r["id"])).toEqual([t.insertId])
    // UPDATE / DELETE through prepared statements
    const [u] = await c.execute<ResultSetHeader>("UPDATE items SET qty = ? WHERE id IN (?, ?)", [1, b.insertId, t.insertId])
    expect(u.affectedRows).toBe(2)
    const [d] = await c.execute<ResultSetHeader>("DELETE FROM items WHERE id = ?", [b.insertId])
    expect(d.affectedRows).toBe(1)
  })

  it("returns two result sets for 'SELECT 1; SELECT 2' with multipleStatements", async () => {
    const m = await connect({ multipleStatements: true, database: DB })
    const [sets] = await m.query<RowDataPacket[][]>("SELECT 1 AS a; SELECT 2 AS b")
    expect(sets).toEqual([[{ a: 1 }], [{ b: 2 }]])
    const [res] = await m.query("INSERT INTO items (name) VALUES ('multi'); SELECT name FROM items WHERE id = LAST_INSERT_ID()")
    const mixed = res as unknown as [ResultSetHeader, RowDataPacket[]]
    expect(mixed[0].affectedRows).toBe(1)
    expect(mixed[0].insertId).toBeGreaterThan(0)
    expect(mixed[1]).toEqual([{ name: "multi" }])
  })

  it("AUTO_INCREMENT never hands out the id of a deleted row again (MySQL/InnoDB semantics)", async () => {
    await c.query("CREATE TABLE seq (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT)")
    const [a] = await c.query<ResultSetHeader>("INSERT INTO seq (v) VALUES (1), (2), (3)")
    expect(a).toMatchObject({ affectedRows: 3 })
    const [three] = await c.query<RowDataPacket[]>("SELECT id FROM seq ORDER BY id")
    expect(three[0]!["id"]).toBe(a.insertId)
    const highest = three[2]!["id"] as number
    await c.query("DELETE FROM seq WHERE id = ?", [highest])
    const [b] = await c.query<ResultSetHeader>("INSERT INTO seq (v) VALUES (4)")
    expect(b.insertId).toBeGreaterThan(highest)
    await c.query("DELETE FROM seq")
    const [e] = await c.execute<ResultSetHeader>("INSERT INTO seq (v) VALUES (?)", [5])
    expect(e.insertId).toBeGreaterThan(b.insertId)
    // an explicit id is kept; the next generated one is past it
    await c.query("INSERT INTO seq (id, v) VALUES (?, 10)", [e.insertId + 10])
    const [f] = await c.query<ResultSetHeader>("INSERT INTO seq (v) VALUES (11)")
    expect(f.insertId).toBeGreaterThan(e.insertId + 10)
  })

  it("round-trips a 20 MB BLOB (packets over 16 MiB) through execute and through a text query", async () => {
    const big = randomBytes(20 * 1024 * 1024)
    const [p] = await c.execute<ResultSetHeader>("INSERT INTO blobs (id, b) VALUES (?, ?)", [1, big])
    expect(p.affectedRows).toBe(1)
    // text protocol: mysql2 inlines the Buffer as X'…' (a ~40 MB statement)
    const [q] = await c.query<ResultSetHeader>("INSERT INTO blobs (id, b) VALUES (2, ?)", [big])
    expect(q.affectedRows).toBe(1)
    const [viaExecute] = await c.execute<RowDataPacket[]>("SELECT b, LENGTH(b) AS n FROM blobs WHERE id = ?", [2])
    expect(viaExecute[0]!["n"]).toBe(big.length)
    expect(Buffer.compare(viaExecute[0]!["b"] as Buffer, big)).toBe(0)
    const [viaQuery] = await c.query<RowDataPacket[]>("SELECT b, LENGTH(b) AS n FROM blobs WHERE id = 1")
    expect(viaQuery[0]!["n"]).toBe(big.length)
    expect(Buffer.compare(viaQuery[0]!["b"] as Buffer, big)).toBe(0)
    await c.query("DELETE FROM blobs")
  }, 90_000)

  it("describes result columns like MySQL: types, key flags, lengths, table names", async () => {
    const [, fields] = await c.query("SELECT id, name, qty, price, created, data, big FROM items WHERE 1 = 0")
    // NOT_NULL 1, PRI_KEY 2, UNIQUE_KEY 4, BLOB 16, BINARY 128, AUTO_INCREMENT 512
    const KEYS = 1 | 2 | 4 | 16 | 128 | 512
    expect(
      fields.map((f) => ({
        name: f.name,
        type: f.columnType,
        flags: Number(f.flags) & KEYS,
        table: f.table,
        orgTable: f.orgTable,
        db: f.schema
      }))
    ).toEqual([
      { name: "id", type: idType(), flags: 1 | 2 | 512, table: "items", orgTable: "items", db: DB }, // LONG (ours LONGLONG)
      { name: "name", type: 253, flags: 1 | 4, table: "items", orgTable: "items", db: DB }, // VAR_STRING
      { name: "qty", type: 3, flags: 0, table: "items", orgTable: "items", db: DB },
      { name: "price", type: 5, flags: 0, table: "items", orgTable: "items", db: DB }, // DOUBLE
      { name: "created", type: 12, flags: 128, table: "items", orgTable: "items", db: DB }, // DATETIME
      { name: "data", type: 252, flags: 16 | 128, table: "items", orgTable: "items", db: DB }, // BLOB
      { name: "big", type: 8, flags: 0, table: "items", orgTable: "items", db: DB } // LONGLONG
    ])
    // VARCHAR(100) in utf8mb4: 400 bytes; charset utf8mb4 (45 or another utf8mb4 collation id)
    expect(fields[1]!.columnLength).toBe(400)
  })

  it("types literals like MySQL: 1 is an integer, 2.5e0 a DOUBLE, 'a' a string, NULL a NULL", async () => {
    const [rows, fields] = await c.query<RowDataPacket[]>("SELECT 1 AS i, 1.5 AS d, 2.5e0 AS f, 'a' AS s, NULL AS n")
    // A known difference: SQLite has no DECIMAL, so marmot-ts answers an exact literal such as 1.5
    // as a DOUBLE (the number 1.5 in mysql2) where MySQL answers a DECIMAL (the string '1.5').
    const decimal = server.kind === "mariadb"
    expect(rows).toEqual([{ i: 1, d: decimal ? "1.5" : 1.5, f: 2.5, s: "a", n: null }])
    // an integer literal is LONG in MariaDB and LONGLONG in MySQL 8; the others agree
    expect([3, 8]).toContain(fields[0]!.columnType)
    expect(fields.slice(1).map((f) => f.columnType)).toEqual([decimal ? 246 : 5, 5, 253, 6]) // NEWDECIMAL|DOUBLE, DOUBLE, VAR_STRING, NULL
  })

  it("pings", async () => {
    await c.ping()
    await c.ping()
    const [r] = await c.query<RowDataPacket[]>("SELECT 1 AS one")
    expect(r).toEqual([{ one: 1 }])
  })

  it("transactions: BEGIN/COMMIT visible to a second connection only after COMMIT; ROLLBACK discards", async () => {
    const other = await connect({ database: DB })
    const count = async () => {
      const [r] = await other.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM items WHERE name LIKE 'tx-%'")
      return r[0]!["n"]
    }
    await c.beginTransaction()
    await c.query("INSERT INTO items (name, qty) VALUES ('tx-1', 1)")
    expect(await count()).toBe(0)
    await c.commit()
    expect(await count()).toBe(1)

    await c.query("SET autocommit = 0")
    await c.query("INSERT INTO items (name, qty) VALUES ('tx-2', 2)")
    await c.execute("UPDATE items SET qty = ? WHERE name = ?", [99, "tx-1"])
    expect(await count()).toBe(1)
    await c.rollback()
    await c.query("SET autocommit = 1")
    expect(await count()).toBe(1)
    const [q] = await other.query<RowDataPacket[]>("SELECT qty FROM items WHERE name LIKE 'tx-%'")
    expect(q).toEqual([{ qty: 1 }])

    await c.query("START TRANSACTION")
    await c.query("DELETE FROM items WHERE name = 'tx-1'")
    expect(await count()).toBe(1)
    await c.query("ROLLBACK")
    expect(await count()).toBe(1)
  })

  it("changeUser switches user and database, and refuses a wrong password", async () => {
    const u = await connect()
    await u.changeUser({ user: APP_USER.user, password: APP_USER.password, database: DB })
    const [r] = await u.query<RowDataPacket[]>("SELECT CURRENT_USER() AS who, DATABASE() AS db")
    expect(r[0]!["who"]).toMatch(/^app@/)
    expect(r[0]!["db"]).toBe(DB)
    const [n] = await u.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM items WHERE name = 'apple'")
    expect(n).toEqual([{ n: 1 }])

    const w = await connect()
    await expect(w.changeUser({ user: APP_USER.user, password: "wrong" })).rejects.toMatchObject({
      errno: 1045,
      sqlState: "28000"
    })
  })

  it("COM_RESET_CONNECTION (conn.reset) rolls back the open transaction and keeps the connection usable", async () => {
    const r = await connect({ database: DB })
    await r.query("BEGIN")
    await r.query("INSERT INTO items (name) VALUES ('reset-tx')")
    await r.reset()
    const [rows] = await r.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM items WHERE name = 'reset-tx'")
    expect(rows).toEqual([{ n: 0 }])
    // prepared statements are closed by the reset; mysql2 prepares again
    const [e] = await r.execute<RowDataPacket[]>("SELECT name FROM items WHERE id = (SELECT min(id) FROM items)")
    expect(e).toEqual([{ name: "apple" }])
    const [db] = await r.query<RowDataPacket[]>("SELECT DATABASE() AS db")
    expect(db).toEqual([{ db: DB }])
  })

  it("COM_RESET_CONNECTION clears user variables", async () => {
    const r = await connect({ database: DB })
    await r.query("SET @v = 42")
    const [before] = await r.query<RowDataPacket[]>("SELECT @v AS v")
    expect(before).toEqual([{ v: 42 }])
    await r.reset()
    const [after] = await r.query<RowDataPacket[]>("SELECT @v AS v")
    expect(after).toEqual([{ v: null }])
  })

  it("errors: 1146, 1064, 1062 with SQLSTATEs; the connection stays usable", async () => {
    await expect(c.query("SELECT * FROM no_such_table")).rejects.toMatchObject({
      errno: 1146,
      sqlState: "42S02",
      code: "ER_NO_SUCH_TABLE",
      message: "Table 'e2e_node.no_such_table' doesn't exist"
    })
    await expect(c.execute("SELECT * FROM no_such_table WHERE id = ?", [1])).rejects.toMatchObject({
      errno: 1146,
      sqlState: "42S02"
    })
    await expect(c.query("SELEC 1")).rejects.toMatchObject({ errno: 1064, sqlState: "42000", code: "ER_PARSE_ERROR" })
    const dup = c.query("INSERT INTO items (name) VALUES ('apple')")
    await expect(dup).rejects.toMatchObject({ errno: 1062, sqlState: "23000", code: "ER_DUP_ENTRY" })
    await expect.soft(dup).rejects.toThrow(/^Duplicate entry 'apple' for key '(items\.)?uq_name'$/)
    const dupExec = c.execute("INSERT INTO items (name) VALUES (?)", ["apple"])
    await expect(dupExec).rejects.toMatchObject({ errno: 1062, sqlState: "23000" })
    const [ok] = await c.query<RowDataPacket[]>("SELECT 41 + 1 AS x")
    expect(ok).toEqual([{ x: 42 }])
  })

  it("errors: unknown database (1049) on connect and on USE", async () => {
    await expect(connect({ database: "no_such_db_node" })).rejects.toMatchObject({
      errno: 1049,
      sqlState: "42000",
      message: "Unknown database 'no_such_db_node'"
    })
    await expect(c.query("USE no_such_db_node")).rejects.toMatchObject({ errno: 1049, sqlState: "42000" })
    const [db] = await c.query<RowDataPacket[]>("SELECT DATABASE() AS db")
    expect(db).toEqual([{ db: DB }])
  })

  it("errors: wrong password (1045/28000); the right password works", async () => {
    await expect(connect({ user: APP_USER.user, password: "wrong" })).rejects.toMatchObject({
      errno: 1045,
      sqlState: "28000",
      code: "ER_ACCESS_DENIED_ERROR"
    })
    await expect(connect({ user: APP_USER.user, password: "" })).rejects.toMatchObject({ errno: 1045, sqlState: "28000" })
    const ok = await connect({ user: APP_USER.user, password: APP_USER.password, database: DB })
    const [r] = await ok.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM items WHERE name = 'pear'")
    expect(r).toEqual([{ n: 1 }])
  })
})
