import Database from "better-sqlite3"
import { expect } from "vitest"
import type { Arg, Sqlite, Statement } from "../../src/sql/Statement.ts"
import { translate, TranslateError } from "../../src/sql/Translator.ts"

export type Db = Database.Database

/** A fresh in-memory database with stub UDFs for the MySQL functions the executor provides. */
export const memoryDb = (): Db => {
  const db = new Database(":memory:")
  db.defaultSafeIntegers(true)
  const fn = (name: string, f: (...a: Array<unknown>) => unknown, varargs = true): void => {
    db.function(name, { varargs, deterministic: false, safeIntegers: true }, f as never)
  }
  fn("now", () => "2026-01-02 03:04:05")
  fn("curdate", () => "2026-01-02")
  fn("curtime", () => "03:04:05")
  fn("concat", (...a) => (a.some((x) => x === null) ? null : a.map(String).join("")))
  fn("if", (c, a, b) => (c ? a : b))
  fn("unix_timestamp", () => 1767322245n)
  fn("date_format", (d) => (d === null ? null : String(d)))
  fn("date_add", (d, n, u) => `${String(d)} + ${String(n)} ${String(u)}`)
  fn("date_sub", (d, n, u) => `${String(d)} - ${String(n)} ${String(u)}`)
  fn("regexp", (p, v) => (v === null || p === null ? null : new RegExp(String(p)).test(String(v)) ? 1n : 0n))
  fn("year", (d) => (d === null ? null : BigInt(String(d).slice(0, 4))))
  fn("month", (d) => (d === null ? null : BigInt(String(d).slice(5, 7))))
  fn("dayofmonth", (d) => (d === null ? null : BigInt(String(d).slice(8, 10))))
  fn("left", (s, n) => (s === null ? null : String(s).slice(0, Number(n))))
  fn("char_length", (s) => (s === null ? null : BigInt(String(s).length)))
  fn("md5", (s) => (s === null ? null : String(s)))
  fn("rand", () => 0.5)
  fn("version", () => "8.0.36")
  return db
}

export const sessionValue = (a: Arg, params: ReadonlyArray<unknown>): unknown => {
  switch (a._tag) {
    case "Value": return a.value
    case "Placeholder": return params[a.index]
    case "SysVar": return a.name === "version" ? "8.0.36-marmot" : a.name === "sql_mode" ? "STRICT_TRANS_TABLES" : null
    case "UserVar": return null
    case "SessionFn": return a.fn === "database" ? "test" : a.fn === "version" ? "8.0.36-marmot" : 1n
  }
}

export const bind = (s: Sqlite, params: ReadonlyArray<unknown> = []): Array<unknown> =>
  s.args.map((a) => sessionValue(a, params))

export const ok = (sql: string): Statement => {
  const r = translate(sql)
  if (r instanceof TranslateError) throw new Error(`${sql}\n → ${r.code} ${r.message}`)
  return r
}

export const sqliteOf = (sql: string): Sqlite => {
  const r = ok(sql)
  if (!("sqlite" in r)) throw new Error(`${sql} has no sqlite form (${r.kind})`)
  return r.sqlite
}

/** Asserts the SQLite text and the Value args. */
export const expectSql = (sql: string, text: string, values?: ReadonlyArray<unknown>): void => {
  const s = sqliteOf(sql)
  expect(s.sql).toBe(text)
  if (values !== undefined) expect(s.args.map((a) => (a._tag === "Value" ? a.value : a))).toEqual(values)
}

export const errorOf = (sql: string): TranslateError => {
  const r = translate(sql)
  if (!(r instanceof TranslateError)) throw new Error(`${sql} translated: ${JSON.stringify(r)}`)
  return r
}

/** Translates and runs every statement; returns the rows of the last one. */
export const exec = (db: Db, sql: string, params: ReadonlyArray<unknown> = []): Array<Record<string, unknown>> => {
  const st = ok(sql)
  const list: Array<Sqlite> = st.kind === "ddl" ? [...st.statements] : "sqlite" in st ? [st.sqlite] : []
  let rows: Array<Record<string, unknown>> = []
  for (const s of list) {
    const p = db.prepare(s.sql)
    const args = bind(s, params)
    if (p.reader) rows = p.all(...args) as Array<Record<string, unknown>>
    else { p.run(...args); rows = [] }
  }
  return rows
}
