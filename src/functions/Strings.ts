/**
 * MySQL string functions. Positions and lengths count characters (code points) for text and
 * bytes for binary strings (BLOB values arrive as Buffers); comparisons use the default
 * case-insensitive collation (see Collation.ts).
 */
import type Database from "better-sqlite3"
import { compareCi, equalsCi, fold } from "./Collation.ts"
import { define } from "./Register.ts"
import {
  intResult,
  isNumeric,
  type SqlValue,
  toBytes,
  toInt,
  toInteger,
  toText,
  UINT64_MAX,
  UINT64_MOD
} from "./Values.ts"

/** MariaDB's default max_allowed_packet: longer results are NULL. */
export const MAX_RESULT_BYTES = 16 * 1024 * 1024

const ASTRAL = /[\uD800-\uDFFF]/

/** A string as an indexable sequence of characters (code points). */
interface Chars {
  readonly length: number
  slice(start: number, end?: number): string
}

const charsOf = (s: string): Chars => {
  if (!ASTRAL.test(s)) return s
  const arr = Array.from(s)
  return { length: arr.length, slice: (a, b) => arr.slice(a, b).join("") }
}

export const charLength = (s: string): number => (ASTRAL.test(s) ? Array.from(s).length : s.length)

/** Character index of a UTF-16 index. */
const charIndex = (s: string, utf16: number): number => (ASTRAL.test(s) ? Array.from(s.slice(0, utf16)).length : utf16)

/** 1-based character position of `needle` in `hay` at or after character `from` (0 when absent). */
const locateCi = (needle: string, hay: string, from = 1): number => {
  const n = charLength(hay)
  if (needle === "") return from >= 1 && from <= Math.max(n, 1) ? from : 0
  if (from < 1 || from > n + 1) return 0
  const fh = fold(hay)
  const fn = fold(needle)
  const startUtf16 = ASTRAL.test(hay) ? Array.from(hay).slice(0, from - 1).join("").length : from - 1
  const i = fh.indexOf(fn, startUtf16)
  return i < 0 ? 0 : charIndex(hay, i) + 1
}

/** Upper case, one character for one, as MySQL maps them ('ß' stays 'ß', not 'SS'). */
const upper = (s: string): string => {
  const u = s.toUpperCase()
  if (u.length === s.length) return u
  return Array.from(s, (c) => {
    const cu = c.toUpperCase()
    return cu.length === c.length ? cu : c
  }).join("")
}

/** Lower case, one character for one and without context ('İ' → 'i', a final 'Σ' → 'σ'), as MySQL maps them. */
const lower = (s: string): string => {
  const l = s.toLowerCase()
  if (l.length === s.length && !s.includes("Σ")) return l
  return Array.from(s, (c) => (c === "Σ" ? "σ" : String.fromCodePoint(c.toLowerCase().codePointAt(0)!))).join("")
}

/** LOCATE on values: bytes and case-sensitive when either is binary, else characters by collation. */
const locate = (needle: Exclude<SqlValue, null>, hay: Exclude<SqlValue, null>, from = 1): bigint => {
  if (!Buffer.isBuffer(needle) && !Buffer.isBuffer(hay)) return BigInt(locateCi(toText(needle), toText(hay), from))
  const n = toBytes(needle)
  const h = toBytes(hay)
  if (from < 1 || from > Math.max(h.length, 1) + (n.length === 0 ? 0 : 1)) return 0n
  return BigInt(h.indexOf(n, from - 1) + 1)
}

/** Binary strings work on bytes: read them as latin1 so one character is one byte. */
const asBinary = (b: Buffer): string => b.toString("latin1")
const fromBinary = (s: string): Buffer => Buffer.from(s, "latin1")

/** Runs a character-based function on text, or on bytes when the value is binary. */
const onChars = (v: Exclude<SqlValue, null>, f: (s: string) => string): string | Buffer =>
  Buffer.isBuffer(v) ? fromBinary(f(asBinary(v))) : f(toText(v))

/** MySQL SUBSTRING(str, pos[, len]). */
export const substring = (s: string, pos: number, len?: number): string => {
  const c = charsOf(s)
  const n = c.length
  if (pos === 0 || (len !== undefined && len <= 0)) return ""
  const start = pos > 0 ? pos - 1 : n + pos
  if (start < 0 || start >= n) return ""
  return len === undefined ? c.slice(start) : c.slice(start, Math.min(n, start + len))
}

const repeatCapped = (s: string, count: number): string | null => {
  if (count <= 0 || s === "") return ""
  if (Buffer.byteLength(s, "utf8") * count > MAX_RESULT_BYTES) return null
  return s.repeat(count)
}

const pad = (v: SqlValue, lenArg: SqlValue, padArg: SqlValue, left: boolean): string | null => {
  if (v === null || lenArg === null || padArg === null) return null
  const len = toInt(lenArg)
  if (len < 0) return null
  const s = charsOf(toText(v))
  if (len <= s.length) return s.slice(0, len)
  const p = charsOf(toText(padArg))
  if (p.length === 0) return null
  const need = len - s.length
  const whole = repeatCapped(p.slice(0), Math.floor(need / p.length))
  if (whole === null) return null
  const padding = whole + p.slice(0, need % p.length)
  const body = s.slice(0)
  return left ? padding + body : body + padding
}

/** MySQL's removal of a whole string from either end, repeatedly (TRIM(BOTH 'ab' FROM s)). */
const trimString = (s: string, rem: string, leading: boolean, trailing: boolean): string => {
  if (rem === "") return s
  let start = 0
  let end = s.length
  if (leading) while (s.startsWith(rem, start) && start + rem.length <= end) start += rem.length
  if (trailing) while (end - rem.length >= start && s.slice(end - rem.length, end) === rem) end -= rem.length
  return s.slice(start, end)
}

const soundexCode = (c: string): string => {
  const i = c.charCodeAt(0) - 65
  return i >= 0 && i < 26 ? "01230120022455012623010202"[i]! : "0"
}

const isLetter = (c: string): boolean => /\p{L}/u.test(c)

/** MySQL's SOUNDEX: the first letter, then codes of the following letters, no adjacent repeats, at least 4 characters. */
const soundex = (s: string): string => {
  const letters = Array.from(s).filter(isLetter)
  const first = letters[0]
  if (first === undefined) return ""
  const up = (c: string): string => (c < "\u0080" ? c.toUpperCase() : c)
  let out = up(first)
  let last = soundexCode(up(first))
  for (const c of letters.slice(1)) {
    const code = soundexCode(up(c))
    if (code !== "0" && code !== last) {
      out += code
      last = code
    }
  }
  return out.length < 4 ? out.padEnd(4, "0") : out
}

const quote = (v: SqlValue): string => {
  if (v === null) return "NULL"
  let out = "'"
  for (const ch of toText(v)) {
    if (ch === "\\" || ch === "'") out += "\\" + ch
    else if (ch === "\0") out += "\\0"
    else if (ch === "\x1a") out += "\\Z"
    else out += ch
  }
  return out + "'"
}

/** Unsigned 64-bit value of an integer argument (two's complement for negatives). */
const toUint64 = (v: Exclude<SqlValue, null>): bigint => {
  if (typeof v === "number") {
    if (v >= 18446744073709551615) return UINT64_MAX
    if (v >= 9223372036854775807) return BigInt(Math.round(v))
  }
  const n = toInteger(v)
  return n < 0n ? n + UINT64_MOD : n
}

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

/** MySQL CONV(n, from_base, to_base). */
const conv = (v: Exclude<SqlValue, null>, fromArg: Exclude<SqlValue, null>, toArg: Exclude<SqlValue, null>): string | null => {
  const from = toInt(fromArg)
  const to = toInt(toArg)
  const fb = Math.abs(from)
  const tb = Math.abs(to)
  if (fb < 2 || fb > 36 || tb < 2 || tb > 36) return null
  let value: bigint
  {
    // The argument is read as text in `from` base, even when it is a number ('12.9' → 12).
    const s = toText(v).trimStart()
    if (s === "") return null
    let i = 0
    let neg = false
    if (s[i] === "-" || s[i] === "+") {
      neg = s[i] === "-"
      i++
    }
    let acc = 0n
    let overflow = false
    const limit = from < 0 ? 2n ** 63n : UINT64_MAX
    for (; i < s.length; i++) {
      const d = DIGITS.indexOf(s[i]!.toUpperCase())
      if (d < 0 || d >= fb) break
      acc = acc * BigInt(fb) + BigInt(d)
      if (acc > limit) overflow = true
    }
    if (from < 0) {
      if (overflow || (!neg && acc > 2n ** 63n - 1n)) acc = neg ? 2n ** 63n : 2n ** 63n - 1n
      value = neg ? UINT64_MOD - acc : acc
    } else {
      if (overflow) acc = UINT64_MAX
      value = neg && acc !== 0n ? UINT64_MOD - acc : acc
    }
    value %= UINT64_MOD
  }
  let neg = false
  if (to < 0 && value >= 2n ** 63n) {
    neg = true
    value = UINT64_MOD - value
  }
  if (value === 0n) return "0"
  let out = ""
  const base = BigInt(tb)
  while (value > 0n) {
    out = DIGITS[Number(value % base)]! + out
    value /= base
  }
  return neg ? "-" + out : out
}

const hex = (v: Exclude<SqlValue, null>): string => {
  if (isNumeric(v)) return toUint64(v).toString(16).toUpperCase()
  return toBytes(v).toString("hex").toUpperCase()
}

const unhex = (v: Exclude<SqlValue, null>): Buffer | null => {
  let s = toText(v)
  if (!/^[0-9a-fA-F]*$/.test(s)) return null
  if (s.length % 2 === 1) s = "0" + s
  return Buffer.from(s, "hex")
}

/** CHAR(n, ...): each integer as its big-endian bytes (no leading zero bytes), NULLs skipped. */
const charFn = (...args: Array<SqlValue>): Buffer => {
  const bytes: Array<number> = []
  for (const a of args) {
    if (a === null) continue
    let n = Number(toUint64(a) & 0xffffffffn)
    const one: Array<number> = []
    do {
      one.unshift(n & 0xff)
      n = Math.floor(n / 256)
    } while (n > 0)
    bytes.push(...one)
  }
  return Buffer.from(bytes)
}

const inetAton = (s: string): bigint | null => {
  let result = 0n
  let byte = 0
  let dots = 0
  let last = "."
  for (const c of s) {
    last = c
    if (c >= "0" && c <= "9") {
      byte = byte * 10 + (c.charCodeAt(0) - 48)
      if (byte > 255) return null
    } else if (c === ".") {
      dots++
      result = (result << 8n) + BigInt(byte)
      byte = 0
    } else return null
  }
  if (last === ".") return null
  if (dots === 1) result <<= 16n
  else if (dots === 2) result <<= 8n
  return (result << 8n) + BigInt(byte)
}

const inetNtoa = (v: Exclude<SqlValue, null>): string | null => {
  const n = toInteger(v)
  if (n < 0n || n > 0xffffffffn) return null
  const x = Number(n)
  return [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join(".")
}

/** TO_BASE64 with MySQL's line breaks every 76 characters. */
const toBase64 = (b: Buffer): string => {
  const s = b.toString("base64")
  if (s.length <= 76) return s
  const lines: Array<string> = []
  for (let i = 0; i < s.length; i += 76) lines.push(s.slice(i, i + 76))
  return lines.join("\n")
}

const fromBase64 = (s: string): Buffer | null => {
  const clean = s.replace(/[ \t\r\n]/g, "")
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) return null
  return Buffer.from(clean, "base64")
}

export const registerStringFunctions = (db: Database.Database): void => {
  const pure = { nullIfAnyNull: true } as const

  define(db, "concat", { ...pure }, (...args) => {
    if (args.length === 0) throw new Error("Incorrect parameter count in the call to native function 'concat'")
    if (args.some((a) => Buffer.isBuffer(a))) return Buffer.concat(args.map((a) => toBytes(a!)))
    return args.map((a) => toText(a!)).join("")
  })
  define(db, "concat_ws", {}, (sep, ...args) => {
    if (sep === null || sep === undefined) return null
    return args.filter((a) => a !== null).map((a) => toText(a!)).join(toText(sep))
  })
  define(db, "substring_index", { arity: 3, ...pure }, (v, d, c) => {
    const s = toText(v!)
    const delim = toText(d!)
    const count = toInteger(c!)
    if (delim === "" || count === 0n) return ""
    const parts = s.split(delim)
    if (count > 0n) return count >= BigInt(parts.length) ? s : parts.slice(0, Number(count)).join(delim)
    return -count >= BigInt(parts.length) ? s : parts.slice(parts.length + Number(count)).join(delim)
  })
  define(db, "find_in_set", { arity: 2, ...pure }, (needle, set) => {
    const n = toText(needle!)
    const s = toText(set!)
    if (n.includes(",")) return 0n
    if (s === "") return 0n
    const items = s.split(",")
    // Collation-insensitive, but trailing spaces count here ('b ' is not in 'a,b').
    const fn = fold(n)
    const i = items.findIndex((x) => fold(x) === fn)
    return BigInt(i + 1)
  })
  define(db, "field", {}, (needle, ...list) => {
    if (needle === null || needle === undefined) return 0n
    if (isNumeric(needle) && list.every((x) => x === null || isNumeric(x))) {
      const i = list.findIndex((x) => x !== null && Number(x) === Number(needle))
      return BigInt(i + 1)
    }
    if (isNumeric(needle) || list.some((x) => isNumeric(x))) {
      const n = Number(isNumeric(needle) ? needle : Number.parseFloat(toText(needle)) || 0)
      const i = list.findIndex((x) => x !== null && (isNumeric(x) ? Number(x) : Number.parseFloat(toText(x)) || 0) === n)
      return BigInt(i + 1)
    }
    const t = toText(needle)
    const i = list.findIndex((x) => x !== null && equalsCi(toText(x), t))
    return BigInt(i + 1)
  })
  define(db, "elt", {}, (n, ...list) => {
    if (n === null || n === undefined) return null
    const i = toInteger(n)
    if (i < 1n || i > BigInt(list.length)) return null
    return list[Number(i) - 1] ?? null
  })
  define(db, "lpad", { arity: 3 }, (v, l, p) => pad(v, l, p, true))
  define(db, "rpad", { arity: 3 }, (v, l, p) => pad(v, l, p, false))
  define(db, "locate", { arity: [2, 3], ...pure }, (needle, hay, pos) => locate(needle!, hay!, pos === undefined ? 1 : toInt(pos!)))
  define(db, "position", { arity: 2, ...pure }, (needle, hay) => locate(needle!, hay!))
  define(db, "instr", { arity: 2, ...pure }, (hay, needle) => locate(needle!, hay!))
  define(db, "left", { arity: 2, ...pure }, (v, n) => {
    const len = toInt(n!)
    return onChars(v!, (s) => (len <= 0 ? "" : charsOf(s).slice(0, len)))
  })
  define(db, "right", { arity: 2, ...pure }, (v, n) => {
    const len = toInt(n!)
    return onChars(v!, (s) => {
      const c = charsOf(s)
      return len <= 0 ? "" : c.slice(Math.max(0, c.length - len))
    })
  })
  define(db, "reverse", { arity: 1, ...pure }, (v) => onChars(v!, (s) => Array.from(s).reverse().join("")))
  define(db, "repeat", { arity: 2, ...pure }, (v, n) => repeatCapped(toText(v!), toInt(n!)))
  define(db, "space", { arity: 1, ...pure }, (n) => repeatCapped(" ", toInt(n!)))
  define(db, "insert", { arity: 4, ...pure }, (v, p, l, ins) => {
    const s = charsOf(toText(v!))
    const pos = toInt(p!)
    let len = toInt(l!)
    const n = s.length
    if (pos < 1 || pos > n) return s.slice(0)
    if (len < 0 || len > n - pos + 1) len = n - pos + 1
    return s.slice(0, pos - 1) + toText(ins!) + s.slice(pos - 1 + len)
  })
  define(db, ["lcase", "lower"], { arity: 1, ...pure }, (v) => (Buffer.isBuffer(v) ? v : lower(toText(v!))))
  define(db, ["ucase", "upper"], { arity: 1, ...pure }, (v) => (Buffer.isBuffer(v) ? v : upper(toText(v!))))
  define(db, ["substring", "substr", "mid"], { arity: [2, 3], ...pure }, (v, p, l) =>
    onChars(v!, (s) => substring(s, toInt(p!), l === undefined ? undefined : toInt(l!))))
  define(db, ["char_length", "character_length"], { arity: 1, ...pure }, (v) =>
    BigInt(Buffer.isBuffer(v) ? v.length : charLength(toText(v!))))
  define(db, ["length", "octet_length"], { arity: 1, ...pure }, (v) =>
    BigInt(Buffer.isBuffer(v) ? v.length : Buffer.byteLength(toText(v!), "utf8")))
  define(db, "bit_length", { arity: 1, ...pure }, (v) => BigInt(toBytes(v!).length * 8))
  define(db, "ascii", { arity: 1, ...pure }, (v) => BigInt(toBytes(v!)[0] ?? 0))
  define(db, "ord", { arity: 1, ...pure }, (v) => {
    const b = toBytes(v!)
    if (b.length === 0) return 0n
    const first = b[0]!
    const len = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1
    let n = 0n
    for (let i = 0; i < len && i < b.length; i++) n = n * 256n + BigInt(b[i]!)
    return n
  })
  define(db, "char", {}, charFn)
  define(db, "hex", { arity: 1, ...pure }, (v) => hex(v!))
  define(db, "unhex", { arity: 1, ...pure }, (v) => unhex(v!))
  define(db, "bin", { arity: 1, ...pure }, (v) => conv(v!, 10n, 2n))
  define(db, "oct", { arity: 1, ...pure }, (v) => conv(v!, 10n, 8n))
  define(db, "conv", { arity: 3, ...pure }, (v, f, t) => conv(v!, f!, t!))
  define(db, "strcmp", { arity: 2, ...pure }, (a, b) => BigInt(compareCi(toText(a!), toText(b!))))
  define(db, "soundex", { arity: 1, ...pure }, (v) => soundex(toText(v!)))
  define(db, "quote", { arity: 1 }, (v) => quote(v ?? null))
  define(db, "trim", { arity: 2, ...pure }, (v, r) => trimString(toText(v!), toText(r!), true, true))
  define(db, "ltrim", { arity: 2, ...pure }, (v, r) => trimString(toText(v!), toText(r!), true, false))
  define(db, "rtrim", { arity: 2, ...pure }, (v, r) => trimString(toText(v!), toText(r!), false, true))
  define(db, "to_base64", { arity: 1, ...pure }, (v) => toBase64(toBytes(v!)))
  define(db, "from_base64", { arity: 1, ...pure }, (v) => fromBase64(toText(v!)))
  define(db, "inet_aton", { arity: 1, ...pure }, (v) => {
    const n = inetAton(toText(v!))
    return n === null ? null : intResult(n)
  })
  define(db, "inet_ntoa", { arity: 1, ...pure }, (v) => inetNtoa(v!))
}
