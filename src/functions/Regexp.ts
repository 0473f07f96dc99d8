/**
 * REGEXP / RLIKE and the REGEXP_* functions. MariaDB uses PCRE; patterns are run as JavaScript
 * regular expressions (the common syntax is the same), with POSIX bracket classes translated,
 * case-insensitive for text as MySQL's default collation is.
 */
import type Database from "better-sqlite3"
import { charLength } from "./Strings.ts"
import { define } from "./Register.ts"
import { type SqlValue, toInt, toText } from "./Values.ts"

const POSIX_CLASSES: Record<string, string> = {
  alpha: "\\p{L}",
  digit: "0-9",
  alnum: "\\p{L}\\p{N}",
  upper: "\\p{Lu}",
  lower: "\\p{Ll}",
  space: "\\s",
  blank: " \\t",
  punct: "!-\\/:-@\\[-`{-~",
  xdigit: "0-9A-Fa-f",
  cntrl: "\\x00-\\x1f\\x7f",
  print: "\\x20-\\x7e\\u00a0-\\uffff",
  graph: "\\x21-\\x7e\\u00a1-\\uffff",
  word: "\\w"
}

/** MySQL/PCRE pattern to JavaScript: POSIX classes inside brackets, old word-boundary markers. */
const translate = (pattern: string): string =>
  pattern
    .replace(/\[\[:<:\]\]/g, "\\b(?=\\w)")
    .replace(/\[\[:>:\]\]/g, "\\b(?<=\\w)")
    .replace(/\[:([a-z]+):\]/g, (m, name: string) => POSIX_CLASSES[name] ?? m)

const cache = new Map<string, RegExp>()

/** PCRE's leading inline options, such as `(?-i)` for a case-sensitive match: the pattern without them, and JavaScript flags. */
const inlineOptions = (pattern: string): { readonly body: string; readonly flags: string } => {
  const m = /^\(\?([imsx]*)(?:-([imsx]+))?\)/.exec(pattern)
  if (m === null) return { body: pattern, flags: "i" }
  const on = m[1] ?? ""
  const off = m[2] ?? ""
  let flags = off.includes("i") ? "" : "i"
  if (on.includes("m")) flags += "m"
  if (on.includes("s")) flags += "s"
  return { body: pattern.slice(m[0].length), flags }
}

/**
 * The compiled pattern (global flag added when `global`). Throws on a syntax error, like MySQL.
 * Matching is case-insensitive unless `binary` (a BLOB operand) or the pattern starts with `(?-i)`.
 */
export const compile = (pattern: string, global = false, binary = false): RegExp => {
  const key = (global ? "g" : "-") + (binary ? "b" : "-") + pattern
  let re = cache.get(key)
  if (re === undefined) {
    const options = inlineOptions(pattern)
    const source = translate(options.body)
    const flags = (binary ? options.flags.replace("i", "") : options.flags) + (global ? "g" : "")
    try {
      re = new RegExp(source, flags + "u")
    } catch {
      try {
        re = new RegExp(source, flags)
      } catch (e) {
        throw new Error(`Got error '${(e as Error).message}' from regexp`)
      }
    }
    if (cache.size > 1000) cache.clear()
    cache.set(key, re)
  }
  re.lastIndex = 0
  return re
}

/** Replacement text with \1..\9 group references (MySQL) applied to a match. */
const expand = (replacement: string, groups: ReadonlyArray<string | undefined>): string =>
  replacement.replace(/\\(\d)|\\\\/g, (_m, d: string | undefined) => (d === undefined ? "\\" : (groups[Number(d)] ?? "")))

const isBinary = (...values: Array<SqlValue | undefined>): boolean => values.some((v) => Buffer.isBuffer(v))

export const registerRegexpFunctions = (db: Database.Database): void => {
  const pure = { nullIfAnyNull: true } as const
  // SQLite calls regexp(pattern, subject) for `subject REGEXP pattern`.
  define(db, "regexp", { arity: 2, ...pure }, (pattern, subject) =>
    compile(toText(pattern!), false, isBinary(pattern, subject)).test(toText(subject!)) ? 1n : 0n)
  define(db, "regexp_like", { arity: 2, ...pure }, (subject, pattern) =>
    compile(toText(pattern!), false, isBinary(pattern, subject)).test(toText(subject!)) ? 1n : 0n)
  define(db, "regexp_replace", { arity: 3, ...pure }, (subject, pattern, replacement) => {
    const p = toText(pattern!)
    const s = toText(subject!)
    if (p === "") return s
    const r = toText(replacement!)
    const re = compile(p, true, isBinary(pattern, subject))
    let out = ""
    let last = 0
    let m: RegExpExecArray | null
    // Like MariaDB, replacing stops at the first empty match.
    while ((m = re.exec(s)) !== null && m[0].length > 0) {
      out += s.slice(last, m.index) + expand(r, m)
      last = m.index + m[0].length
    }
    return out + s.slice(last)
  })
  define(db, "regexp_substr", { arity: 2, ...pure }, (subject, pattern) => {
    const m = compile(toText(pattern!), false, isBinary(pattern, subject)).exec(toText(subject!))
    return m === null ? "" : m[0]
  })
  define(db, "regexp_instr", { arity: [2, 3], ...pure }, (subject, pattern, pos) => {
    const s = toText(subject!)
    const start = pos === undefined ? 1 : toInt(pos!)
    if (start < 1) return 0n
    const chars = Array.from(s)
    const prefix = chars.slice(0, start - 1).join("")
    const re = compile(toText(pattern!), true, isBinary(pattern, subject))
    re.lastIndex = prefix.length
    const m = re.exec(s)
    return m === null ? 0n : BigInt(charLength(s.slice(0, m.index)) + 1)
  })
}
