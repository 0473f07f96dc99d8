import { describe, expect, it } from "vitest"
import { translate, TranslateError } from "../../src/sql/Translator.ts"
import { errorOf, exec, expectSql, memoryDb, ok } from "./helpers.ts"

const P = (index: number) => ({ _tag: "Placeholder", index })

describe("SELECT", () => {
  it("sysbench point select (prepared)", () => {
    expectSql("SELECT c FROM sbtest1 WHERE id=?", `SELECT "c" FROM "sbtest1" WHERE "id" = ?`, [P(0)])
  })
  it("sysbench range queries", () => {
    expectSql("SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?", `SELECT "c" FROM "sbtest1" WHERE "id" BETWEEN ? AND ?`)
    expectSql("SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?", `SELECT sum("k") AS "SUM(k)" FROM "sbtest1" WHERE "id" BETWEEN ? AND ?`)
    expectSql("SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
      `SELECT DISTINCT "c" FROM "sbtest1" WHERE "id" BETWEEN ? AND ? ORDER BY "c"`)
  })
  it("lifts literals into args", () => {
    expectSql("SELECT c FROM sbtest1 WHERE id=5", `SELECT "c" FROM "sbtest1" WHERE "id" = CAST(? AS NUMERIC)`, [5n])
    expectSql("SELECT * FROM t WHERE a = 'x' AND b = \"y\" AND c = -3.5", `SELECT * FROM "t" WHERE "a" = ? AND "b" = ? AND "c" = CAST(? AS NUMERIC)`, ["x", "y", -3.5])
  })
  it("names result columns by their source text", () => {
    const st = ok("SELECT 1+1, COUNT(*), @@version, 'abc'")
    expect(st.kind === "select" && st.sqlite.sql).toBe(`SELECT ? + ? AS "1+1", count(*) AS "COUNT(*)", ? AS "@@version", ? AS "abc"`)
    expect(st.kind === "select" && st.columnNames).toEqual(["1+1", "COUNT(*)", "@@version", "abc"])
  })
  it("names come from each statement's own text when the fingerprint is shared", () => {
    const a = ok("SELECT 5, id FROM t WHERE id = 1")
    const b = ok("SELECT 6, id FROM t WHERE id = 2")
    expect(a.kind === "select" && a.sqlite.sql).toBe(`SELECT ? AS "5", "id" FROM "t" WHERE "id" = CAST(? AS NUMERIC)`)
    expect(b.kind === "select" && b.sqlite.sql).toBe(`SELECT ? AS "6", "id" FROM "t" WHERE "id" = CAST(? AS NUMERIC)`)
    expect(b.kind === "select" && b.sqlite.args).toEqual([{ _tag: "Value", value: 6n }, { _tag: "Value", value: 2n }])
  })
  it("keeps aliases and star", () => {
    const st = ok("SELECT a AS x, b 'y', t.* FROM t")
    expect(st.kind === "select" && st.sqlite.sql).toBe(`SELECT "a" AS "x", "b" AS "y", "t".* FROM "t"`)
    expect(st.kind === "select" && st.columnNames).toBeUndefined()
  })
  it("LIMIT a,b → LIMIT b OFFSET a", () => {
    expectSql("SELECT * FROM t LIMIT 10, 5", `SELECT * FROM "t" LIMIT ? OFFSET ?`, [5n, 10n])
    expectSql("SELECT * FROM t LIMIT 5 OFFSET 10", `SELECT * FROM "t" LIMIT ? OFFSET ?`, [5n, 10n])
    expectSql("SELECT * FROM t LIMIT ?, ?", `SELECT * FROM "t" LIMIT ? OFFSET ?`, [P(1), P(0)])
  })
  it("ORDER BY / GROUP BY ordinals stay literals", () => {
    expectSql("SELECT a, COUNT(*) FROM t GROUP BY 1 ORDER BY 2 DESC, 1", `SELECT "a", count(*) AS "COUNT(*)" FROM "t" GROUP BY 1 ORDER BY 2 DESC, 1`)
  })
  it("strips locking clauses, modifiers and index hints", () => {
    expectSql("SELECT * FROM t WHERE a=1 FOR UPDATE", `SELECT * FROM "t" WHERE "a" = CAST(? AS NUMERIC)`)
    expectSql("SELECT * FROM t WHERE a=1 LOCK IN SHARE MODE", `SELECT * FROM "t" WHERE "a" = CAST(? AS NUMERIC)`)
    expectSql("SELECT SQL_NO_CACHE HIGH_PRIORITY STRAIGHT_JOIN a FROM t FORCE INDEX (PRIMARY) USE KEY (k) WHERE a = 1",
      `SELECT "a" FROM "t" WHERE "a" = CAST(? AS NUMERIC)`)
    expectSql("SELECT AVG(id) FROM (SELECT * FROM sbtest1 FORCE KEY (PRIMARY) LIMIT 100) t",
      `SELECT avg("id") AS "AVG(id)" FROM (SELECT * FROM "sbtest1" LIMIT ?) AS "t"`)
  })
  it("FROM DUAL", () => {
    expectSql("SELECT 1 FROM DUAL", `SELECT ? AS "1"`)
  })
  it("SQL_CALC_FOUND_ROWS fills calcFoundRows", () => {
    const st = ok("SELECT SQL_CALC_FOUND_ROWS wp_posts.ID FROM wp_posts WHERE 1=1 AND post_type = 'post' ORDER BY post_date DESC LIMIT 0, 10")
    if (st.kind !== "select") throw new Error()
    expect(st.sqlite.sql).toBe(`SELECT "wp_posts"."ID" FROM "wp_posts" WHERE ? = ? AND "post_type" = ? ORDER BY "post_date" DESC LIMIT ? OFFSET ?`)
    expect(st.calcFoundRows?.sql).toBe(`SELECT COUNT(*) FROM (SELECT "wp_posts"."ID" FROM "wp_posts" WHERE ? = ? AND "post_type" = ? ORDER BY "post_date" DESC)`)
    expect(st.calcFoundRows?.args.length).toBe(3)
  })
  it("session functions and variables become args", () => {
    const st = ok("SELECT LAST_INSERT_ID(), DATABASE(), SCHEMA(), FOUND_ROWS(), CONNECTION_ID(), USER(), CURRENT_USER(), CURRENT_USER, VERSION(), ROW_COUNT(), @@session.sql_mode, @@GLOBAL.max_connections, @x")
    if (st.kind !== "select") throw new Error()
    expect(st.sqlite.args).toEqual([
      { _tag: "SessionFn", fn: "last_insert_id" }, { _tag: "SessionFn", fn: "database" }, { _tag: "SessionFn", fn: "database" },
      { _tag: "SessionFn", fn: "found_rows" }, { _tag: "SessionFn", fn: "connection_id" }, { _tag: "SessionFn", fn: "user" },
      { _tag: "SessionFn", fn: "current_user" }, { _tag: "SessionFn", fn: "current_user" }, { _tag: "SessionFn", fn: "version" },
      { _tag: "SessionFn", fn: "row_count" }, { _tag: "SysVar", name: "sql_mode", scope: "session" },
      { _tag: "SysVar", name: "max_connections", scope: "global" }, { _tag: "UserVar", name: "x" }
    ])
    expect(st.columnNames?.[10]).toBe("@@session.sql_mode")
  })
  it("what client libraries send on connect", () => {
    const st = ok("select @@version_comment limit 1")
    expect(st.kind === "select" && st.sqlite.sql).toBe(`SELECT ? AS "@@version_comment" LIMIT ?`)
    const j = ok("SELECT @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, @@max_allowed_packet AS max_allowed_packet")
    expect(j.kind === "select" && j.columnNames).toEqual(["auto_increment_increment", "character_set_client", "max_allowed_packet"])
    expect(j.kind === "select" && j.sqlite.args.map((a) => a._tag === "SysVar" && `${a.scope}:${a.name}`)).toEqual(["session:auto_increment_increment", "default:character_set_client", "default:max_allowed_packet"])
  })
  it("MySQL operators", () => {
    expectSql("SELECT * FROM t WHERE a || b", `SELECT * FROM "t" WHERE "a" OR "b"`)
    expectSql("SELECT * FROM t WHERE !a AND b <=> NULL AND c <=> d", `SELECT * FROM "t" WHERE NOT "a" AND "b" IS NULL AND "c" IS "d"`)
    expectSql("SELECT a DIV b, a MOD b, a % b FROM t", `SELECT CAST("a" / "b" AS INTEGER) AS "a DIV b", "a" % "b" AS "a MOD b", "a" % "b" AS "a % b" FROM "t"`)
    expectSql("SELECT * FROM t WHERE a REGEXP '^x' OR a RLIKE 'y' OR a NOT REGEXP 'z'",
      `SELECT * FROM "t" WHERE "a" REGEXP ? OR "a" REGEXP ? OR "a" NOT REGEXP ?`)
    expectSql("SELECT * FROM t WHERE a IS TRUE AND b IS NOT FALSE AND c IS NULL", `SELECT * FROM "t" WHERE "a" IS TRUE AND "b" IS NOT FALSE AND "c" IS NULL`)
    expectSql("SELECT * FROM t WHERE a IN (1,2) AND b NOT IN ('x') AND c BETWEEN 1 AND 2",
      `SELECT * FROM "t" WHERE "a" IN (?, ?) AND "b" NOT IN (?) AND "c" BETWEEN CAST(? AS NUMERIC) AND CAST(? AS NUMERIC)`)
    expectSql("SELECT * FROM t WHERE BINARY a = 'X'", `SELECT * FROM "t" WHERE "a" = ?`)
  })
  it("|| and && group like OR and AND", () => {
    expectSql("SELECT * FROM t WHERE a = 1 || b = 2 && c = 3", `SELECT * FROM "t" WHERE "a" = CAST(? AS NUMERIC) OR "b" = CAST(? AS NUMERIC) AND "c" = CAST(? AS NUMERIC)`)
    expectSql("SELECT * FROM t WHERE a = 1 && b = 2 || c", `SELECT * FROM "t" WHERE "a" = CAST(? AS NUMERIC) AND "b" = CAST(? AS NUMERIC) OR "c"`)
  })
  it("XOR sits between AND and OR", () => {
    expectSql("SELECT * FROM t WHERE a = 1 XOR b = 2", `SELECT * FROM "t" WHERE ((("a" = CAST(? AS NUMERIC)) <> 0) <> (("b" = CAST(? AS NUMERIC)) <> 0))`)
    expectSql("SELECT * FROM t WHERE a XOR b AND c OR d", `SELECT * FROM "t" WHERE ((("a") <> 0) <> (("b" AND "c") <> 0)) OR "d"`)
    const db = memoryDb()
    expect(exec(db, "SELECT 1 XOR 1 AS a, 1 XOR 0 AS b, 1 XOR 1 XOR 1 AS c, 0 XOR 1 AND 0 AS d, NULL XOR 1 AS e")).toEqual([{ a: 0n, b: 1n, c: 1n, d: 0n, e: null }])
  })
  it("bitwise operators bind below + and *, as in MySQL", () => {
    expectSql("SELECT a | b & c AS x, a + b | c AS y FROM t", `SELECT "a" | ("b" & "c") AS "x", "a" + "b" | "c" AS "y" FROM "t"`)
    const db = memoryDb()
    expect(exec(db, "SELECT 1 | 2 & 3 AS a, 1 + 2 | 4 AS b, 6 & 3 << 1 AS c, 2 ^ 3 * 2 AS d")).toEqual([{ a: 3n, b: 7n, c: 6n, d: 2n }])
  })
  it("parentheses and arithmetic precedence", () => {
    expectSql("SELECT * FROM t WHERE (a = 1 OR b = 2) AND c = 3", `SELECT * FROM "t" WHERE ("a" = CAST(? AS NUMERIC) OR "b" = CAST(? AS NUMERIC)) AND "c" = CAST(? AS NUMERIC)`)
    expectSql("SELECT (a + b) * c FROM t", `SELECT ("a" + "b") * "c" AS "(a + b) * c" FROM "t"`)
  })
  it("LIKE gets MySQL's default backslash escape", () => {
    expectSql("SELECT * FROM t WHERE a LIKE 'x\\_%'", `SELECT * FROM "t" WHERE "a" LIKE ? ESCAPE '\\'`, ["x\\_%"])
    expectSql("SELECT * FROM t WHERE a NOT LIKE 'x!%' ESCAPE '!'", `SELECT * FROM "t" WHERE "a" NOT LIKE ? ESCAPE ?`, ["x!%", "!"])
  })
  it("CASE, CAST and CONVERT", () => {
    expectSql("SELECT CASE a WHEN 1 THEN 'x' ELSE 'y' END AS r FROM t", `SELECT CASE "a" WHEN ? THEN ? ELSE ? END AS "r" FROM "t"`)
    expectSql("SELECT CAST(a AS SIGNED) s, CAST(a AS UNSIGNED) u, CAST(a AS CHAR) c, CAST(a AS BINARY) b, CAST(a AS DECIMAL(10,2)) d, CAST(a AS DATE) dt, CAST(a AS DATETIME) dtt FROM t",
      `SELECT CAST("a" AS INTEGER) AS "s", CAST("a" AS INTEGER) AS "u", CAST("a" AS TEXT) AS "c", CAST("a" AS BLOB) AS "b", round(CAST("a" AS REAL), 2) AS "d", date("a") AS "dt", datetime("a") AS "dtt" FROM "t"`)
    expectSql("SELECT CONVERT(a, CHAR) x, CONVERT(a USING utf8mb4) y FROM t", `SELECT CAST("a" AS TEXT) AS "x", "a" AS "y" FROM "t"`)
  })
  it("INTERVAL arithmetic → date_add/date_sub", () => {
    expectSql("SELECT * FROM t WHERE d > NOW() - INTERVAL 1 DAY", `SELECT * FROM "t" WHERE "d" > date_sub(now(), ?, 'DAY')`, [1n])
    expectSql("SELECT DATE_ADD(d, INTERVAL 3 HOUR) x, DATE_SUB(d, INTERVAL ? MINUTE) y, d + INTERVAL 1 MONTH z FROM t",
      `SELECT date_add("d", ?, 'HOUR') AS "x", date_sub("d", ?, 'MINUTE') AS "y", date_add("d", ?, 'MONTH') AS "z" FROM "t"`)
  })
  it("GROUP_CONCAT, COUNT(DISTINCT)", () => {
    expectSql("SELECT GROUP_CONCAT(x ORDER BY y DESC SEPARATOR ';') g, COUNT(DISTINCT a) c FROM t",
      `SELECT group_concat("x", ? ORDER BY "y" DESC) AS "g", count(DISTINCT "a") AS "c" FROM "t"`, [";"])
    expectSql("SELECT GROUP_CONCAT(DISTINCT x) g FROM t", `SELECT group_concat(DISTINCT "x") AS "g" FROM "t"`)
  })
  it("functions are emitted lower-case; IF → iif", () => {
    expectSql("SELECT IF(a, 1, 2) i, IFNULL(a, 0) n, CONCAT(a, b) c, UNIX_TIMESTAMP() u, DATE_FORMAT(d, '%Y') f FROM t",
      `SELECT iif("a", ?, ?) AS "i", ifnull("a", ?) AS "n", concat("a", "b") AS "c", unix_timestamp() AS "u", date_format("d", ?) AS "f" FROM "t"`)
  })
  it("qualified names are reported", () => {
    const st = ok("SELECT t.a, db2.u.b FROM db1.t JOIN db2.u ON t.id = u.id")
    if (st.kind !== "select") throw new Error()
    expect(st.sqlite.sql).toBe(`SELECT "t"."a", "db2"."u"."b" FROM "db1"."t" JOIN "db2"."u" ON "t"."id" = "u"."id"`)
    expect(st.tables).toEqual([{ database: "db1", table: "t" }, { database: "db2", table: "u" }])
  })
  it("joins, USING, derived tables, subqueries, CTEs and UNION", () => {
    expectSql("SELECT * FROM (SELECT a FROM t) AS d LEFT JOIN u USING (a) RIGHT JOIN v ON v.a = d.a CROSS JOIN w, x",
      `SELECT * FROM (SELECT "a" FROM "t") AS "d" LEFT JOIN "u" USING ("a") RIGHT JOIN "v" ON "v"."a" = "d"."a" CROSS JOIN "w", "x"`)
    expectSql("WITH c AS (SELECT 1 AS x) SELECT * FROM c UNION ALL SELECT 2 ORDER BY 1 LIMIT 5",
      `WITH "c" AS (SELECT ? AS "x") SELECT * FROM "c" UNION ALL SELECT ? ORDER BY 1 LIMIT ?`)
    const st = ok("WITH c AS (SELECT 1 AS x) SELECT * FROM c")
    expect(st.kind === "select" && st.tables).toEqual([])
    expectSql("SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c = 1) AND EXISTS (SELECT 1 FROM v)",
      `SELECT * FROM "t" WHERE "a" IN (SELECT "b" FROM "u" WHERE "c" = CAST(? AS NUMERIC)) AND EXISTS (SELECT ?)`.replace("(SELECT ?)", `(SELECT ? FROM "v")`))
  })
  it("window functions", () => {
    expectSql("SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) rn FROM t",
      `SELECT row_number() OVER (PARTITION BY "a" ORDER BY "b") AS "rn" FROM "t"`)
  })
  it("syntax errors are 1064 with MySQL's message; never throws", () => {
    const e = errorOf("SELECT * FORM t")
    expect(e.code).toBe(1064)
    expect(e.sqlState).toBe("42000")
    expect(e.message).toMatch(/^You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '.*' at line 1$/)
    expect(errorOf("SELECT 'unterminated").code).toBe(1064)
    expect(errorOf("FROB the widget").code).toBe(1064)
    expect(errorOf("SELECT 1; SELECT 2").code).toBe(1064)
    expect(translate("")).toBeInstanceOf(TranslateError)
  })
  it("unsupported constructs are 1235", () => {
    expect(errorOf("SELECT a FROM t GROUP BY a WITH ROLLUP").code).toBe(1235)
    expect(errorOf("SELECT MATCH(a) AGAINST ('x') FROM t").code).toBe(1235)
  })
})

describe("SELECT executes on SQLite", () => {
  it("AND binds tighter than OR (node-sql-parser groups WHERE chains left to right)", () => {
    const db = memoryDb()
    exec(db, "CREATE TABLE t (a INT, b INT, c INT)")
    exec(db, "INSERT INTO t VALUES (1, 0, 0), (0, 2, 3), (0, 2, 0)")
    expect(exec(db, "SELECT a, b, c FROM t WHERE a = 1 OR b = 2 AND c = 3 ORDER BY a")).toEqual([{ a: 0n, b: 2n, c: 3n }, { a: 1n, b: 0n, c: 0n }])
    expect(exec(db, "SELECT a, b, c FROM t WHERE b = 2 AND c = 3 OR a = 1 ORDER BY a")).toEqual([{ a: 0n, b: 2n, c: 3n }, { a: 1n, b: 0n, c: 0n }])
    expect(exec(db, "SELECT a = 1 OR b = 2 AND c = 3 AS x FROM t ORDER BY a, c")).toEqual([{ x: 0n }, { x: 1n }, { x: 1n }])
    expect(exec(db, "SELECT COUNT(*) AS n FROM t WHERE (a = 1 OR b = 2) AND c = 3")).toEqual([{ n: 1n }])
  })

  it("LIMIT offset, count", () => {
    const db = memoryDb()
    exec(db, "CREATE TABLE t (id INT PRIMARY KEY)")
    for (let i = 1; i <= 5; i++) exec(db, `INSERT INTO t VALUES (${i})`)
    expect(exec(db, "SELECT id FROM t ORDER BY id LIMIT 1,2")).toEqual([{ id: 2n }, { id: 3n }])
    expect(exec(db, "SELECT COUNT(*), 1+1, 'abc', 7/2, 7 DIV 2 FROM t")).toEqual([{ "COUNT(*)": 5n, "1+1": 2n, abc: "abc", "7/2": 3.5, "7 DIV 2": 3n }])
  })

  it("HAVING without GROUP BY filters a non-aggregate query by its result columns (Connector/J getTables)", () => {
    const db = memoryDb()
    exec(db, "CREATE TABLE t (id INT PRIMARY KEY, kind VARCHAR(10))")
    exec(db, "INSERT INTO t VALUES (1, 'BASE'), (2, 'VIEW'), (3, 'BASE')")
    const sql = "SELECT id, CASE WHEN kind = 'BASE' THEN 'TABLE' ELSE kind END AS kind FROM t HAVING kind IN ('TABLE') ORDER BY id DESC LIMIT 1"
    expect(exec(db, sql)).toEqual([{ id: 3n, kind: "TABLE" }])
    // an aggregate query keeps its HAVING
    expect(exec(db, "SELECT COUNT(*) AS n FROM t HAVING n > 1")).toEqual([{ n: 3n }])
    expect(exec(db, "SELECT 'many' AS x FROM t HAVING COUNT(*) > 2")).toEqual([{ x: "many" }])
  })
})
