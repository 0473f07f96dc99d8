import { describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import { translate, TranslateError } from "../../src/sql/Translator.ts"
import { exec, expectSql, memoryDb, ok } from "./helpers.ts"

describe("fingerprint sharing", () => {
  it("statements differing only in literals share SQL, not values", () => {
    const a = ok("SELECT c FROM sbtest2 WHERE id=17")
    const b = ok("SELECT c FROM sbtest2 WHERE id=4242")
    if (a.kind !== "select" || b.kind !== "select") throw new Error()
    expect(a.sqlite.sql).toBe(b.sqlite.sql)
    expect(a.sqlite.args).toEqual([{ _tag: "Value", value: 17n }])
    expect(b.sqlite.args).toEqual([{ _tag: "Value", value: 4242n }])
  })
  it("a string and a number in the same place do not share a template", () => {
    expectSql("SELECT * FROM t WHERE a = 5", `SELECT * FROM "t" WHERE "a" = CAST(? AS NUMERIC)`)
    expectSql("SELECT * FROM t WHERE a = '5'", `SELECT * FROM "t" WHERE "a" = ?`)
  })
  it("client placeholders and lifted literals are numbered apart", () => {
    const st = ok("SELECT * FROM t WHERE a = ? AND b = 'x' AND c = ? LIMIT 3")
    expect(st.kind === "select" && st.sqlite.args).toEqual([
      { _tag: "Placeholder", index: 0 }, { _tag: "Value", value: "x" }, { _tag: "Placeholder", index: 1 }, { _tag: "Value", value: 3n }
    ])
  })
  it("literals that are syntax stay literals", () => {
    expectSql("SELECT a, b FROM t ORDER BY 2, 1 DESC", `SELECT "a", "b" FROM "t" ORDER BY 2, 1 DESC`)
    expectSql("SELECT a FROM t GROUP BY 1", `SELECT "a" FROM "t" GROUP BY 1`)
    expectSql("SELECT CAST(a AS DECIMAL(10,2)) AS d FROM t", `SELECT round(CAST("a" AS REAL), 2) AS "d" FROM "t"`)
    expectSql("SELECT CAST(a AS DECIMAL(8,3)) AS d FROM t", `SELECT round(CAST("a" AS REAL), 3) AS "d" FROM "t"`)
    expectSql("SELECT COUNT(*) AS 'n' FROM t", `SELECT count(*) AS "n" FROM "t"`)
  })
  it("typed literals, SUBSTRING FROM/FOR, string concatenation", () => {
    expectSql("SELECT * FROM t WHERE d = DATE '2020-01-01'", `SELECT * FROM "t" WHERE "d" = ?`, ["2020-01-01"])
    expectSql("SELECT SUBSTRING(a FROM 2 FOR 3) s FROM t", `SELECT substr("a", ?, ?) AS "s" FROM "t"`, [2n, 3n])
    expectSql("SELECT 'a' 'b' AS x", `SELECT ? AS "x"`, ["ab"])
  })
  it("results are cached by text when the text has no literals", () => {
    expect(translate("SELECT a AS one FROM t WHERE b = ?")).toBe(translate("SELECT a AS one FROM t WHERE b = ?"))
    expect(translate("SET autocommit = 1")).toBe(translate("SET autocommit = 1"))
    expect(translate("SELECT 1 AS one")).toEqual(translate("SELECT 1 AS one"))
  })
})

describe("sysbench prepare INSERT", () => {
  const rows = Array.from({ length: 2700 }, (_, i) =>
    `(${i * 7 % 10000}, '${"68487932199-96439406143-93774651418-41631865787-96406072701-20604855487-25459966574-28203206787-41238978918-19503783441".slice(0, 119)}', '${"22195207048-70116052123-74140395089-76317954521-98694025897".slice(0, 59)}')`)
  const sql = `INSERT INTO sbtest1(k, c, pad) VALUES${rows.join(",")}`
  it("translates 2,700 rows (~500 KB) in well under a second", () => {
    expect(sql.length).toBeGreaterThan(500_000)
    const t = performance.now()
    const st = ok(sql)
    const ms = performance.now() - t
    if (st.kind !== "insert") throw new Error()
    expect(st.rows?.length).toBe(2700)
    expect(st.sqlite.args.length).toBe(8100)
    expect(st.columns).toEqual(["k", "c", "pad"])
    expect(ms).toBeLessThan(1000)
  })
  it("runs on SQLite", () => {
    const db = memoryDb()
    exec(db, "CREATE TABLE sbtest1(id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL, c CHAR(120) DEFAULT '' NOT NULL, pad CHAR(60) DEFAULT '' NOT NULL, PRIMARY KEY (id)) /*! ENGINE = innodb */")
    exec(db, sql)
    expect(exec(db, "SELECT COUNT(*) AS n, MAX(id) AS m FROM sbtest1")).toEqual([{ n: 2700n, m: 2700n }])
  })
})

describe("INSERTs with more values than SQLite can bind", () => {
  it("write the literals inline", () => {
    const rows = Array.from({ length: 11_000 }, (_, i) => `(${i}, 'it''s ${i}', -1.5)`)
    const st = ok(`INSERT INTO big (a, b, c) VALUES ${rows.join(",")}`)
    if (st.kind !== "insert") throw new Error()
    expect(st.sqlite.args).toEqual([])
    expect(st.rows?.length).toBe(11_000)
    expect(st.rows?.[0]).toEqual([-1, -1, -1])
    const db = memoryDb()
    exec(db, "CREATE TABLE big (a INT, b TEXT, c DOUBLE)")
    db.prepare(st.sqlite.sql).run()
    expect(exec(db, "SELECT COUNT(*) AS n, MAX(b) AS m, SUM(c) AS s FROM big WHERE a >= 0")).toEqual([{ n: 11_000n, m: "it's 9999", s: -16500 }])
  })
})

describe("robustness", () => {
  it("never throws, whatever the input", () => {
    const text = readFileSync(new URL("./fixtures/wordpress-install-queries.sql", import.meta.url), "utf8").slice(0, 60_000)
    let seed = 42
    const next = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed }
    for (let i = 0; i < 3000; i++) {
      const a = next() % text.length
      const piece = text.slice(a, a + (next() % 300))
      const r = translate(piece)
      expect(r instanceof TranslateError || typeof r.kind === "string").toBe(true)
    }
  })
})
