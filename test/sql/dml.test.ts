import { describe, expect, it } from "vitest"
import { errorOf, exec, expectSql, memoryDb, ok } from "./helpers.ts"

const P = (index: number) => ({ _tag: "Placeholder", index })
const sqliteOfDelete = (sql: string): string => { const st = ok(sql); return "sqlite" in st ? st.sqlite.sql : "" }

describe("INSERT / REPLACE", () => {
  it("sysbench oltp_insert (text protocol, literals lifted)", () => {
    const st = ok("INSERT INTO sbtest3 (id, k, c, pad) VALUES (0, 5012, '68487932199-96439406143', '22195207048-70116052123')")
    if (st.kind !== "insert") throw new Error()
    expect(st.sqlite.sql).toBe(`INSERT INTO "sbtest3" ("id", "k", "c", "pad") VALUES (?, ?, ?, ?)`)
    expect(st.sqlite.args.map((a) => a._tag === "Value" && a.value)).toEqual([0n, 5012n, "68487932199-96439406143", "22195207048-70116052123"])
    expect(st.target).toEqual({ database: undefined, table: "sbtest3" })
    expect(st.columns).toEqual(["id", "k", "c", "pad"])
    expect(st.rows).toEqual([[0, 1, 2, 3]])
  })
  it("sysbench prepared insert", () => {
    expectSql("INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)", `INSERT INTO "sbtest1" ("id", "k", "c", "pad") VALUES (?, ?, ?, ?)`, [P(0), P(1), P(2), P(3)])
  })
  it("multi-row VALUES with NULL and negative numbers", () => {
    const st = ok("INSERT INTO t VALUES (NULL, -1, 'a'), (2, -2.5, x'4142')")
    if (st.kind !== "insert") throw new Error()
    expect(st.sqlite.sql).toBe(`INSERT INTO "t" VALUES (NULL, ?, ?), (?, ?, ?)`)
    expect(st.columns).toBeUndefined()
    expect(st.rows).toEqual([[-1, 0, 1], [2, 3, 4]])
    expect(st.sqlite.args[4]).toEqual({ _tag: "Value", value: Buffer.from("AB") })
  })
  it("INSERT IGNORE / REPLACE", () => {
    expectSql("INSERT IGNORE INTO t (a) VALUES (1)", `INSERT OR IGNORE INTO "t" ("a") VALUES (?)`)
    expectSql("REPLACE INTO t (a) VALUES (1)", `REPLACE INTO "t" ("a") VALUES (?)`)
    expect(ok("REPLACE INTO t (a) VALUES (1)").kind).toBe("replace")
  })
  it("ON DUPLICATE KEY UPDATE → ON CONFLICT DO UPDATE with excluded", () => {
    expectSql("INSERT INTO `wp_options` (`option_name`, `option_value`, `autoload`) VALUES ('cron', 'x', 'yes') ON DUPLICATE KEY UPDATE `option_name` = VALUES(`option_name`), `option_value` = VALUES(`option_value`), `autoload` = VALUES(`autoload`)",
      `INSERT INTO "wp_options" ("option_name", "option_value", "autoload") VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "option_name" = excluded."option_name", "option_value" = excluded."option_value", "autoload" = excluded."autoload"`)
    expectSql("INSERT INTO t (a, n) VALUES (1, 1) ON DUPLICATE KEY UPDATE n = n + 1", `INSERT INTO "t" ("a", "n") VALUES (?, ?) ON CONFLICT DO UPDATE SET "n" = "n" + ?`)
  })
  it("MySQL 8 row alias: VALUES (…) AS new … UPDATE b = new.b", () => {
    expectSql("INSERT INTO t (a, b) VALUES (1, 2) AS new ON DUPLICATE KEY UPDATE b = new.b + new.a",
      `INSERT INTO "t" ("a", "b") VALUES (?, ?) ON CONFLICT DO UPDATE SET "b" = excluded."b" + excluded."a"`)
  })
  it("INSERT … SET → column-list form", () => {
    expectSql("INSERT INTO db1.t SET a = 1, b = 'x'", `INSERT INTO "db1"."t" ("a", "b") VALUES (?, ?)`, [1n, "x"])
  })
  it("INSERT … SELECT (WHERE true before an upsert)", () => {
    const st = ok("INSERT INTO t (a, b) SELECT a, b FROM s")
    expect(st.kind === "insert" && st.rows).toBeUndefined()
    expectSql("INSERT INTO t (a, b) SELECT a, b FROM s", `INSERT INTO "t" ("a", "b") SELECT "a", "b" FROM "s"`)
    expectSql("INSERT INTO t (a, b) SELECT a, b FROM s ON DUPLICATE KEY UPDATE b = VALUES(b)",
      `INSERT INTO "t" ("a", "b") SELECT "a", "b" FROM "s" WHERE true ON CONFLICT DO UPDATE SET "b" = excluded."b"`)
  })
})

describe("UPDATE / DELETE", () => {
  it("sysbench updates and delete", () => {
    expectSql("UPDATE sbtest1 SET k=k+1 WHERE id=?", `UPDATE "sbtest1" SET "k" = "k" + ? WHERE "id" = ?`, [1n, P(0)])
    expectSql("UPDATE sbtest1 SET c=? WHERE id=?", `UPDATE "sbtest1" SET "c" = ? WHERE "id" = ?`, [P(0), P(1)])
    expectSql("DELETE FROM sbtest1 WHERE id=?", `DELETE FROM "sbtest1" WHERE "id" = ?`, [P(0)])
    const st = ok("DELETE FROM sbtest1 WHERE id=?")
    expect(st.kind === "delete" && st.target).toEqual({ database: undefined, table: "sbtest1" })
  })
  it("UPDATE IGNORE / DELETE IGNORE / LOW_PRIORITY", () => {
    expectSql("UPDATE LOW_PRIORITY IGNORE t SET a = 1", `UPDATE OR IGNORE "t" SET "a" = ?`)
    expectSql("DELETE IGNORE FROM t WHERE a = 'x'", `DELETE FROM "t" WHERE "a" = ?`)
    expectSql("INSERT LOW_PRIORITY IGNORE INTO t (a) VALUES (1)", `INSERT OR IGNORE INTO "t" ("a") VALUES (?)`)
  })
  it("ORDER BY / LIMIT are kept", () => {
    expectSql("UPDATE t SET a = 1 WHERE b = 2 ORDER BY c LIMIT 3", `UPDATE "t" SET "a" = ? WHERE "b" = CAST(? AS NUMERIC) ORDER BY "c" LIMIT ?`)
    expectSql("DELETE FROM t WHERE id = 1 ORDER BY id LIMIT 1", `DELETE FROM "t" WHERE "id" = CAST(? AS NUMERIC) ORDER BY "id" LIMIT ?`)
  })
  it("multi-table UPDATE → UPDATE … FROM", () => {
    expectSql("UPDATE t1 JOIN t2 ON t1.a = t2.a SET t1.b = t2.b WHERE t2.c = 1",
      `UPDATE "t1" SET "b" = "t2"."b" FROM "t2" WHERE "t1"."a" = "t2"."a" AND "t2"."c" = CAST(? AS NUMERIC)`)
  })
  it("WordPress multi-table DELETE of one table", () => {
    expectSql("DELETE a, b FROM wp_options a, wp_options b WHERE a.option_name LIKE '\\_transient\\_%' AND a.option_name NOT LIKE '\\_transient\\_timeout\\_%' AND b.option_name = CONCAT( '_transient_timeout_', SUBSTRING( a.option_name, 12 ) ) AND b.option_value < 1795416326",
      `DELETE FROM "wp_options" WHERE rowid IN (SELECT "a".rowid FROM "wp_options" AS "a", "wp_options" AS "b" WHERE "a"."option_name" LIKE ? ESCAPE '\\' AND "a"."option_name" NOT LIKE ? ESCAPE '\\' AND "b"."option_name" = concat(?, substr("a"."option_name", ?)) AND "b"."option_value" < CAST(? AS NUMERIC) UNION ALL SELECT "b".rowid FROM "wp_options" AS "a", "wp_options" AS "b" WHERE "a"."option_name" LIKE ? ESCAPE '\\' AND "a"."option_name" NOT LIKE ? ESCAPE '\\' AND "b"."option_name" = concat(?, substr("a"."option_name", ?)) AND "b"."option_value" < CAST(? AS NUMERIC))`)
  })
  it("multi-table DELETE of different tables / UPDATE of several tables → a SELECT of rowids for the executor", () => {
    const del = ok("DELETE a, b FROM t a JOIN u b ON a.id = b.id WHERE b.x = 1")
    if (del.kind !== "delete") throw new Error(del.kind)
    expect(del.sqlite.sql).toBe(`SELECT "a".rowid, "b".rowid FROM "t" AS "a" JOIN "u" AS "b" ON "a"."id" = "b"."id" WHERE "b"."x" = CAST(? AS NUMERIC)`)
    expect(del.multi?.targets).toEqual([
      { table: { database: undefined, table: "t" }, values: 0, sql: `DELETE FROM "t" WHERE rowid = ?` },
      { table: { database: undefined, table: "u" }, values: 0, sql: `DELETE FROM "u" WHERE rowid = ?` }
    ])
    const upd = ok("UPDATE db.t a LEFT JOIN db.u b ON a.id = b.id SET a.c = b.x + 1, b.y = 2, a.d = 3")
    if (upd.kind !== "update") throw new Error(upd.kind)
    expect(upd.sqlite.sql).toBe(`SELECT "a".rowid, "b"."x" + ?, ?, "b".rowid, ? FROM "db"."t" AS "a" LEFT JOIN "db"."u" AS "b" ON "a"."id" = "b"."id"`)
    expect(upd.multi?.targets).toEqual([
      { table: { database: "db", table: "t" }, values: 2, sql: `UPDATE "db"."t" SET "c" = ?, "d" = ? WHERE rowid = ?` },
      { table: { database: "db", table: "u" }, values: 1, sql: `UPDATE "db"."u" SET "y" = ? WHERE rowid = ?` }
    ])
    expectSql("DELETE FROM t1 USING t1 JOIN t2 ON t1.id = t2.id",
      `DELETE FROM "t1" WHERE rowid IN (SELECT "t1".rowid FROM "t1" JOIN "t2" ON "t1"."id" = "t2"."id")`)
    expect(errorOf("DELETE x FROM t a JOIN u b ON a.id = b.id").code).toBe(1109)
  })
})

describe("DML executes on SQLite", () => {
  const setup = () => {
    const db = memoryDb()
    db.exec(`CREATE TABLE t ("id" INTEGER PRIMARY KEY, "name" TEXT COLLATE NOCASE, "n" INT DEFAULT 0, "b" BLOB)`)
    db.exec(`CREATE UNIQUE INDEX "t__name" ON "t" ("name")`)
    return db
  }
  it("ON DUPLICATE KEY UPDATE updates", () => {
    const db = setup()
    exec(db, "INSERT INTO t (name, n) VALUES ('a', 1) ON DUPLICATE KEY UPDATE n = n + VALUES(n)")
    exec(db, "INSERT INTO t (name, n) VALUES ('a', 5) ON DUPLICATE KEY UPDATE n = n + VALUES(n)")
    expect(exec(db, "SELECT name, n FROM t")).toEqual([{ name: "a", n: 6n }])
  })
  it("INSERT IGNORE ignores", () => {
    const db = setup()
    exec(db, "INSERT INTO t (name) VALUES ('a')")
    exec(db, "INSERT IGNORE INTO t (name) VALUES ('A')")
    expect(exec(db, "SELECT COUNT(*) AS c FROM t")).toEqual([{ c: 1n }])
  })
  it("backslash escapes, double-quoted strings and hex round-trip", () => {
    const db = setup()
    exec(db, "INSERT INTO t (id, name, b) VALUES (1, 'O\\'Brien', x'4142'), (2, \"dq \"\"x\"\"\", 0x0001), (3, 'a\\\\b\\nc\\0', NULL), (4, 'it''s', NULL), (5, _utf8mb4'intro', _binary'bin')")
    const rows = exec(db, "SELECT id, name, b FROM t ORDER BY id")
    expect(rows.map((r) => r.name)).toEqual(["O'Brien", "dq \"x\"", "a\\b\nc\0", "it's", "intro"])
    expect(rows[0]!.b).toEqual(Buffer.from("AB"))
    expect(rows[1]!.b).toEqual(Buffer.from([0, 1]))
    expect(rows[4]!.b).toEqual(Buffer.from("bin"))
  })
  it("LIKE with MySQL escapes", () => {
    const db = setup()
    exec(db, "INSERT INTO t (name) VALUES ('_transient_x'), ('xtransientx')")
    expect(exec(db, "SELECT name FROM t WHERE name LIKE '\\_transient\\_%'")).toEqual([{ name: "_transient_x" }])
  })
  it("REGEXP / RLIKE with a lifted literal or a client placeholder", () => {
    expect(sqliteOfDelete("DELETE FROM wp_options WHERE option_name REGEXP '^rss_[0-9a-f]{32}(_ts)?$'")).toBe(`DELETE FROM "wp_options" WHERE "option_name" REGEXP ?`)
    expect(sqliteOfDelete("DELETE FROM t WHERE a NOT RLIKE ?")).toBe(`DELETE FROM "t" WHERE "a" NOT REGEXP ?`)
  })
  it("REGEXP via the executor's regexp()", () => {
    const db = setup()
    exec(db, "INSERT INTO t (name) VALUES ('rss_0123456789abcdef0123456789abcdef'), ('other')")
    exec(db, "DELETE FROM t WHERE name REGEXP '^rss_[0-9a-f]{32}(_ts)?$'")
    expect(exec(db, "SELECT name FROM t")).toEqual([{ name: "other" }])
  })
  it("multi-table DELETE and UPDATE … FROM run", () => {
    const db = memoryDb()
    db.exec(`CREATE TABLE wp_options (option_id INTEGER PRIMARY KEY, option_name TEXT UNIQUE, option_value TEXT)`)
    exec(db, "INSERT INTO wp_options (option_name, option_value) VALUES ('_transient_a', 'v'), ('_transient_timeout_a', '5'), ('_transient_b', 'v'), ('_transient_timeout_b', '99999999999')")
    exec(db, "DELETE a, b FROM wp_options a, wp_options b WHERE a.option_name LIKE '\\_transient\\_%' AND a.option_name NOT LIKE '\\_transient\\_timeout\\_%' AND b.option_name = CONCAT( '_transient_timeout_', SUBSTRING( a.option_name, 12 ) ) AND b.option_value < 1795416326")
    expect(exec(db, "SELECT option_name FROM wp_options ORDER BY option_name")).toEqual([{ option_name: "_transient_b" }, { option_name: "_transient_timeout_b" }])
    exec(db, "UPDATE wp_options a JOIN wp_options b ON b.option_name = 'x' SET a.option_value = b.option_value")
  })
})
