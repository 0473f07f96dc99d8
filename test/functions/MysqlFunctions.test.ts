process.env["TZ"] = "UTC"

import Database from "better-sqlite3"
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { registerFunctions, resetStatementClock } from "../../src/functions/index.ts"
import { textOf } from "../../src/mysql/protocol/Values.ts"
import type { RecordedCase } from "./fixtures/expressions.ts"

const recorded = JSON.parse(
  readFileSync(new URL("./fixtures/mariadb-values.json", import.meta.url), "utf8")
) as ReadonlyArray<RecordedCase>

const open = (): Database.Database => {
  const db = new Database(":memory:")
  db.defaultSafeIntegers(true)
  registerFunctions(db)
  return db
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** A value as the text protocol sends it; bytes as UTF-8, or hex when they are not UTF-8. */
const render = (v: unknown): { text: string | null; hex: boolean } => {
  if (v === null || v === undefined) return { text: null, hex: false }
  if (Buffer.isBuffer(v)) {
    try {
      return { text: utf8.decode(v), hex: false }
    } catch {
      return { text: v.toString("hex"), hex: true }
    }
  }
  return { text: textOf(v), hex: false }
}

type Outcome = { readonly ok: true; readonly text: string | null; readonly hex: boolean } | { readonly ok: false; readonly error: string }

const evaluate = (db: Database.Database, sql: string): Outcome => {
  try {
    const row = db.prepare("SELECT " + sql).raw(true).get() as Array<unknown>
    return { ok: true, ...render(row[0]) }
  } catch (e) {
    return { ok: false, error: (e as Error).message }
  }
}

describe("MySQL functions against MariaDB's recorded values", () => {
  let db: Database.Database
  beforeAll(() => {
    db = open()
  })
  afterAll(() => db.close())

  const compared = recorded.filter((c) => c.knownDifference === undefined)

  it("has a fixture of a few hundred expressions with a short list of known differences", () => {
    expect(recorded.length).toBeGreaterThan(300)
    expect(recorded.length - compared.length).toBeLessThan(15)
  })

  it.each(compared.map((c) => [c.mysql, c] as const))("%s", (_name, c) => {
    const got = evaluate(db, c.sqlite)
    if (c.error !== undefined) {
      expect(got.ok, `MariaDB failed with: ${c.error}`).toBe(false)
      return
    }
    if (!got.ok) throw new Error(`${c.sqlite} failed: ${got.error}`)
    expect({ value: got.text, hex: got.hex }, c.sqlite).toEqual({ value: c.expected, hex: c.hex === true })
  })
})

describe("MySQL functions beyond the recorded values", () => {
  let db: Database.Database
  beforeAll(() => {
    db = open()
  })
  afterAll(() => db.close())

  const one = (sql: string, ...params: Array<unknown>): unknown => (db.prepare("SELECT " + sql).raw(true).get(...params) as Array<unknown>)[0]

  it("returns integers as bigint and takes bigint, number, string, Buffer and NULL arguments", () => {
    expect(one("year(?)", "2024-05-06")).toBe(2024n)
    expect(one("year(?)", 20240506n)).toBe(2024n)
    expect(one("left(?, ?)", "abcdef", 2.6)).toBe("abc")
    expect(one("length(?)", Buffer.from([0, 1, 2]))).toBe(3n)
    expect(one("hex(?)", Buffer.from([0xde, 0xad]))).toBe("DEAD")
    expect(one("concat(?, ?)", null, "x")).toBeNull()
  })

  it("NOW, CURDATE and CURTIME read the process clock in its time zone", () => {
    const before = Math.floor(Date.now() / 1000)
    const now = one("now()") as string
    const after = Math.ceil(Date.now() / 1000)
    expect(now).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    const t = Date.parse(now.replace(" ", "T") + "Z") / 1000
    expect(t).toBeGreaterThanOrEqual(before)
    expect(t).toBeLessThanOrEqual(after)
    expect(one("now(6)") as string).toMatch(/\.\d{6}$/)
    expect(one("curdate()")).toBe(now.slice(0, 10))
    expect(() => one("now(7)")).toThrow(/precision/)
  })

  it("NOW() is fixed for a statement, SYSDATE() is not", async () => {
    resetStatementClock()
    const first = one("now(6)")
    await new Promise((r) => setTimeout(r, 5))
    expect(one("now(6)")).not.toBe(first)
    db.exec("CREATE TABLE many (x INTEGER)")
    db.prepare("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) INSERT INTO many SELECT x FROM n").run()
    resetStatementClock()
    expect(db.prepare("SELECT count(DISTINCT now(6)) FROM many").raw(true).get()).toEqual([1n])
    // Within one synchronous run and without a reset, NOW() keeps its value while SYSDATE() moves on.
    resetStatementClock()
    const now1 = one("now(6)")
    const sys1 = one("sysdate(6)")
    const ms = Date.now()
    while (Date.now() === ms) {
      // let the clock advance
    }
    expect(one("now(6)")).toBe(now1)
    expect(one("sysdate(6)")).not.toBe(sys1)
  })

  it("SQLite's date('now'), time('now') and datetime('now') idioms keep working (UTC)", () => {
    const utc = new Date().toISOString()
    expect(one("date('now')")).toBe(utc.slice(0, 10))
    expect(one("datetime('now')") as string).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(one("time('now')") as string).toMatch(/^\d\d:\d\d:\d\d$/)
    // SQLite's forms with modifiers are untouched
    expect(one("date('2024-01-31', '+1 month')")).toBe("2024-03-02")
  })

  it("UNIX_TIMESTAMP and FROM_UNIXTIME follow the process time zone (TZ)", () => {
    const saved = process.env["TZ"]
    try {
      process.env["TZ"] = "Europe/Paris"
      expect(one("unix_timestamp('2024-07-01 12:00:00')")).toBe(1719828000n)
      expect(one("from_unixtime(1719828000)")).toBe("2024-07-01 12:00:00")
      // CET or CEST, whichever is in force now
      expect(one("timestampdiff('HOUR', utc_timestamp(), now())")).toBe(BigInt(-new Date().getTimezoneOffset() / 60))
      // 02:30 does not exist on 2024-03-31 in Paris: the end of the gap, as MySQL does
      expect(one("unix_timestamp('2024-03-31 02:30:00')")).toBe(1711846800n)
    } finally {
      process.env["TZ"] = saved
    }
    expect(one("unix_timestamp('2024-07-01 12:00:00')")).toBe(1719835200n)
  })

  it("REGEXP_LIKE (MySQL 8; MariaDB has no such function)", () => {
    expect(one("regexp_like('abc', '^A')")).toBe(1n)
    expect(one("regexp_like('abc', 'x')")).toBe(0n)
    expect(one("regexp_like(null, 'a')")).toBeNull()
    expect(() => one("'a' regexp '('")).toThrow(/regexp/)
  })

  it("RAND(seed) starts MySQL's seeded sequence; RAND() and UUID() differ per call", () => {
    expect(one("rand(1)")).toBe(0.40540353712197724)
    expect(one("rand() = rand()")).toBe(0n)
    expect(one("uuid() <> uuid()")).toBe(1n)
    expect(one("uuid_short() < uuid_short()")).toBe(1n)
  })

  it("aggregates BIT_* and the variance family over a table", () => {
    db.exec("CREATE TABLE nums (x INTEGER, g TEXT)")
    db.exec("INSERT INTO nums VALUES (1, 'a'), (3, 'a'), (5, 'b'), (NULL, 'b'), (-1, 'c')")
    const rows = db
      .prepare("SELECT g, bit_or(x), bit_and(x), bit_xor(x), var_samp(x), stddev_pop(x) FROM nums GROUP BY g ORDER BY g")
      .raw(true)
      .all()
    expect(rows).toEqual([
      ["a", 3n, 1n, 2n, 2, 1],
      ["b", 5n, 5n, 5n, null, 0],
      ["c", "18446744073709551615", "18446744073709551615", "18446744073709551615", null, 0]
    ])
  })

  it("overriding SQLite built-ins (length, substr, upper, trim, ...) does not break ALTER TABLE", () => {
    db.exec("CREATE TABLE café (naïve TEXT DEFAULT 'é', n INTEGER)")
    db.exec("CREATE INDEX café_n ON café (n)")
    db.exec("INSERT INTO café (n) VALUES (1)")
    db.exec("ALTER TABLE café ADD COLUMN über TEXT DEFAULT 'ß'")
    db.exec("ALTER TABLE café RENAME COLUMN naïve TO naive")
    db.exec("ALTER TABLE café RENAME TO cafe2")
    db.exec("ALTER TABLE cafe2 DROP COLUMN über")
    expect(db.prepare("SELECT naive, n FROM cafe2").raw(true).all()).toEqual([["é", 1n]])
    expect(db.prepare("PRAGMA integrity_check").raw(true).get()).toEqual(["ok"])
  })

  it("deterministic functions can be used in indexes and generated columns", () => {
    db.exec("CREATE TABLE posts (d TEXT, y INTEGER GENERATED ALWAYS AS (year(d)) VIRTUAL)")
    db.exec("CREATE INDEX posts_month ON posts (date_format(d, '%Y-%m'))")
    db.exec("INSERT INTO posts (d) VALUES ('2024-02-29 10:00:00')")
    expect(db.prepare("SELECT y FROM posts WHERE date_format(d, '%Y-%m') = '2024-02'").raw(true).get()).toEqual([2024n])
  })

  it("rejects unknown INTERVAL units instead of guessing", () => {
    expect(() => one("date_add('2024-01-01', 1, 'FORTNIGHT')")).toThrow(/unit/)
  })
})
