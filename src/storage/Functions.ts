import type Database from "better-sqlite3"
import { createHash } from "node:crypto"

/**
 * MySQL functions that SQLite lacks, registered on every connection. The translator emits
 * MySQL function calls by their lower-case names; SQLite built-ins with the same meaning
 * (lower, upper, length, abs, round, ...) are used as they are.
 */
type Value = null | number | bigint | string | Buffer

const text = (v: Value): string => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v))

const pad2 = (n: number) => (n < 10 ? "0" + n : String(n))

export const formatDateTime = (d: Date): string =>
  `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${
    pad2(d.getSeconds())
  }`

const regexCache = new Map<string, RegExp>()
const regex = (pattern: string): RegExp => {
  let re = regexCache.get(pattern)
  if (re === undefined) {
    re = new RegExp(pattern, "i")
    if (regexCache.size > 500) regexCache.clear()
    regexCache.set(pattern, re)
  }
  return re
}

const truthy = (v: Value): boolean => {
  if (v === null) return false
  if (typeof v === "bigint") return v !== 0n
  if (typeof v === "number") return v !== 0
  const n = Number.parseFloat(text(v))
  return Number.isFinite(n) && n !== 0
}

export const registerFunctions = (db: Database.Database): void => {
  const fn = (name: string, impl: (...args: Array<Value>) => Value, deterministic = true) =>
    db.function(name, { varargs: true, deterministic }, impl as (...args: Array<unknown>) => unknown)

  // REGEXP operator: SQLite calls regexp(pattern, subject). MySQL matching is case-insensitive by default.
  fn("regexp", (pattern, subject) => {
    if (pattern === null || subject === null) return null
    return regex(text(pattern)).test(text(subject)) ? 1n : 0n
  })
  fn("concat", (...args) => {
    let out = ""
    for (const a of args) {
      if (a === null) return null
      out += text(a)
    }
    return out
  })
  fn("concat_ws", (sep, ...args) => {
    if (sep === null) return null
    return args.filter((a) => a !== null).map(text).join(text(sep))
  })
  fn("if", (cond, a, b) => (truthy(cond ?? null) ? (a ?? null) : (b ?? null)))
  fn("md5", (v) => (v === null ? null : createHash("md5").update(text(v)).digest("hex")))
  fn("sha1", (v) => (v === null ? null : createHash("sha1").update(text(v)).digest("hex")))
  fn("now", () => formatDateTime(new Date()), false)
  fn("current_timestamp", () => formatDateTime(new Date()), false)
  fn("curdate", () => formatDateTime(new Date()).slice(0, 10), false)
  fn("unix_timestamp", (v) => {
    if (v === undefined) return BigInt(Math.floor(Date.now() / 1000))
    if (v === null) return null
    const ms = new Date(text(v).replace(" ", "T")).getTime()
    return Number.isNaN(ms) ? 0n : BigInt(Math.floor(ms / 1000))
  }, false)
  fn("rand", () => Math.random(), false)
}
