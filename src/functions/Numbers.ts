/**
 * MySQL numeric, hashing, comparison and random functions.
 *
 * SQLite has one REAL type where MySQL has exact DECIMAL literals and approximate DOUBLEs; REAL
 * arguments are rounded like exact decimals (ROUND(2.5) = 3, ROUND(1.005, 2) = 1.01), which is
 * what literals and DECIMAL columns need.
 */
import type Database from "better-sqlite3"
import { createHash, randomBytes } from "node:crypto"
import { compareCi } from "./Collation.ts"
import { define } from "./Register.ts"
import {
  doubleResult,
  integralResult,
  isNumeric,
  type SqlValue,
  toBytes,
  toDouble,
  toInt,
  toInteger,
  toText
} from "./Values.ts"

// ---------------------------------------------------------------------------------------------
// exact decimal text of doubles

/** The shortest round-trip digits of a double in plain (non-exponent) decimal notation. */
export const plainDecimal = (x: number): string => {
  if (x === 0) return "0"
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential())
  if (m === null) return String(x)
  const digits = m[2]! + (m[3] ?? "")
  const point = Number(m[4]) + 1
  const body =
    point <= 0
      ? "0." + "0".repeat(-point) + digits
      : point >= digits.length
        ? digits + "0".repeat(point - digits.length)
        : digits.slice(0, point) + "." + digits.slice(point)
  return m[1] + body
}

/** Adds one unit in the last place of a digit string ('199' → '200', '99' → '100'). */
const increment = (digits: string): string => {
  const a = digits.split("")
  let i = a.length - 1
  while (i >= 0) {
    if (a[i] === "9") {
      a[i] = "0"
      i--
    } else {
      a[i] = String(Number(a[i]) + 1)
      return a.join("")
    }
  }
  return "1" + a.join("")
}

/**
 * Rounds (half away from zero) or truncates a plain decimal string to `d` places (negative `d`
 * rounds to tens, hundreds, ...). Returns a plain decimal string.
 */
export const roundDecimalText = (text: string, d: number, truncate: boolean): string => {
  const neg = text.startsWith("-")
  const abs = neg ? text.slice(1) : text
  const dot = abs.indexOf(".")
  const int = dot < 0 ? abs : abs.slice(0, dot)
  const frac = dot < 0 ? "" : abs.slice(dot + 1)
  let out: string
  if (d >= 0) {
    if (frac.length <= d) return text
    let keep = int + frac.slice(0, d)
    if (!truncate && frac.charCodeAt(d) >= 53) keep = increment(keep)
    const intLen = keep.length - d
    out = d === 0 ? keep : keep.slice(0, intLen) + "." + keep.slice(intLen)
  } else {
    const k = -d
    if (k > int.length) out = "0"
    else {
      let keep = int.slice(0, int.length - k)
      if (!truncate && int.charCodeAt(int.length - k) >= 53) keep = increment(keep === "" ? "0" : keep)
      out = keep === "" || /^0*$/.test(keep) ? "0" : keep + "0".repeat(k)
    }
  }
  return neg && /[1-9]/.test(out) ? "-" + out : out
}

const roundBigint = (n: bigint, d: number, truncate: boolean): bigint => {
  if (d >= 0) return n
  if (d < -19) return 0n
  const unit = 10n ** BigInt(-d)
  const neg = n < 0n
  const abs = neg ? -n : n
  let q = abs / unit
  if (!truncate && (abs % unit) * 2n >= unit) q += 1n
  const r = q * unit
  return neg ? -r : r
}

const roundOrTruncate = (v: Exclude<SqlValue, null>, dArg: SqlValue | undefined, truncate: boolean): SqlValue => {
  if (dArg === null) return null
  const d = dArg === undefined ? 0 : Math.max(-40, Math.min(40, toInt(dArg)))
  if (typeof v === "bigint") return roundBigint(v, d, truncate)
  const x = toDouble(v)
  if (!Number.isFinite(x)) return null
  return Number(roundDecimalText(plainDecimal(x), d, truncate))
}

/** Number formats of MariaDB's locales (FORMAT's third argument), grouped by their output for 1234567.89. */
interface NumberLocale {
  readonly thousands: string
  readonly decimal: string
  /** Digits per group from the right: [3] for 1,234,567; [3, 2] for 12,34,567; [] for none. */
  readonly grouping: ReadonlyArray<number>
}

const LOCALE_GROUPS: ReadonlyArray<readonly [NumberLocale, string]> = [
  [{ thousands: " ", decimal: ",", grouping: [3] }, "cs_CZ es_CR et_EE fi_FI ka_GE lv_LV mk_MK ru_RU sk_SK sv_FI sv_SE"],
  [{ thousands: "'", decimal: ",", grouping: [3] }, "it_CH rm_CH"],
  [{ thousands: "'", decimal: ".", grouping: [3] }, "de_CH"],
  [{ thousands: "", decimal: ".", grouping: [] }, "ar_SA sr_RS"],
  [{ thousands: "\0", decimal: ",", grouping: [3] }, "bg_BG"],
  [
    { thousands: ".", decimal: ",", grouping: [3] },
    "be_BY da_DK de_BE de_DE de_LU es_AR es_BO es_CL es_CO es_EC es_ES es_PY es_UY es_VE fo_FO hu_HU id_ID is_IS lt_LT " +
      "mn_MN nb_NO no_NO ro_RO ru_UA sq_AL tr_TR uk_UA vi_VN"
  ],
  [
    { thousands: "", decimal: ",", grouping: [] },
    "ca_ES de_AT el_GR eu_ES fr_BE fr_CA fr_CH fr_FR fr_LU gl_ES hr_HR it_IT nl_BE nl_NL pl_PL pt_BR pt_PT sl_SI"
  ],
  [{ thousands: ",", decimal: ".", grouping: [3, 2] }, "en_IN ta_IN te_IN"]
]

const EN_US: NumberLocale = { thousands: ",", decimal: ".", grouping: [3] }

const LOCALES: ReadonlyMap<string, NumberLocale> = new Map(
  LOCALE_GROUPS.flatMap(([locale, names]) => names.split(" ").map((n) => [n.toLowerCase(), locale] as const))
)

/** A locale by name (any case); unknown names and NULL are en_US, as in MariaDB. */
const numberLocale = (name: SqlValue | undefined): NumberLocale =>
  name === undefined || name === null ? EN_US : (LOCALES.get(toText(name).toLowerCase()) ?? EN_US)

const group = (int: string, locale: NumberLocale): string => {
  if (locale.grouping.length === 0) return int
  const groups: Array<string> = []
  let end = int.length
  let k = 0
  while (end > 0) {
    const size = locale.grouping[Math.min(k, locale.grouping.length - 1)]!
    groups.unshift(int.slice(Math.max(0, end - size), end))
    end -= size
    k++
  }
  return groups.join(locale.thousands)
}

/** FORMAT(x, d[, locale]): rounded to d decimals with the locale's separators. */
const format = (v: Exclude<SqlValue, null>, dArg: Exclude<SqlValue, null>, localeArg?: SqlValue): string => {
  const locale = numberLocale(localeArg)
  const d = Math.max(0, Math.min(38, toInt(dArg)))
  const text = typeof v === "bigint" ? v.toString() : plainDecimal(toDouble(v))
  const rounded = roundDecimalText(text, d, false)
  const neg = rounded.startsWith("-")
  const abs = neg ? rounded.slice(1) : rounded
  const dot = abs.indexOf(".")
  const int = dot < 0 ? abs : abs.slice(0, dot)
  const frac = (dot < 0 ? "" : abs.slice(dot + 1)).padEnd(d, "0")
  return (neg ? "-" : "") + group(int, locale) + (d > 0 ? locale.decimal + frac : "")
}

// ---------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

const crc32 = (b: Buffer): number => {
  let c = 0xffffffff
  for (const byte of b) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const hash = (algorithm: string) => (v: SqlValue): string => createHash(algorithm).update(toBytes(v!)).digest("hex")

/** MySQL comparison of two values: numbers numerically, strings by collation (bytes for binary), a mix as doubles. */
const compareValues = (a: Exclude<SqlValue, null>, b: Exclude<SqlValue, null>): number => {
  if (isNumeric(a) && isNumeric(b)) {
    return typeof a === "bigint" && typeof b === "bigint" ? (a > b ? 1 : a < b ? -1 : 0) : Math.sign(Number(a) - Number(b))
  }
  if (!isNumeric(a) && !isNumeric(b)) {
    return Buffer.isBuffer(a) || Buffer.isBuffer(b) ? Buffer.compare(toBytes(a), toBytes(b)) : compareCi(toText(a), toText(b))
  }
  return Math.sign(toDouble(a) - toDouble(b))
}

/** GREATEST / LEAST; with numbers and strings mixed, the result is a double. */
const extreme = (args: Array<SqlValue>, sign: 1 | -1): SqlValue => {
  if (args.length < 2) throw new Error("Incorrect parameter count in the call to native function")
  if (args.some((a) => a === null)) return null
  const values = args as Array<Exclude<SqlValue, null>>
  const mixed = values.some(isNumeric) && !values.every(isNumeric)
  let best = values[0]!
  for (const v of values.slice(1)) if (compareValues(v, best) * sign > 0) best = v
  return mixed ? toDouble(best) : best
}

/** MySQL's RAND(seed): the first value of its seeded generator. */
const seededRand = (seed: SqlValue): number => {
  const max = 0x3fffffff
  const tmp = BigInt.asUintN(32, seed === null ? 0n : toInteger(seed))
  let s1 = Number(BigInt.asUintN(32, tmp * 0x10001n + 55555555n)) % max
  const s2 = Number(BigInt.asUintN(32, tmp * 0x10000001n)) % max
  s1 = (s1 * 3 + s2) % max
  return s1 / max
}

const outOfRange = (name: string): never => {
  throw new Error(`DOUBLE value is out of range in '${name}'`)
}

/** A double result that MySQL reports as an error when it overflows. */
const checked = (name: string, x: number): number => (Number.isFinite(x) ? x : outOfRange(name))

// UUID(): version 1 (time-based), as MySQL generates them, with a random node per process.
const uuidNode = randomBytes(6).toString("hex")
let uuidClockSeq = randomBytes(2).readUInt16BE(0) & 0x3fff
let uuidLastTime = 0n

const uuid = (): string => {
  // 100 ns intervals since 1582-10-15
  let time = BigInt(Date.now()) * 10000n + 122192928000000000n
  if (time <= uuidLastTime) time = uuidLastTime + 1n
  uuidLastTime = time
  if (time === 0n) uuidClockSeq = (uuidClockSeq + 1) & 0x3fff
  const hex = time.toString(16).padStart(15, "0")
  const low = hex.slice(7)
  const mid = hex.slice(3, 7)
  const high = hex.slice(0, 3)
  const seq = (uuidClockSeq | 0x8000).toString(16).padStart(4, "0")
  return `${low}-${mid}-1${high}-${seq}-${uuidNode}`
}

let uuidShortNext = (BigInt(Math.floor(Date.now() / 1000)) & 0xffffffffn) << 24n

export const registerNumberFunctions = (db: Database.Database): void => {
  const pure = { nullIfAnyNull: true } as const
  const math = (name: string | ReadonlyArray<string>, arity: number, f: (...xs: Array<number>) => number): void =>
    define(db, name, { arity, ...pure }, (...args) => doubleResult(f(...args.map((a) => toDouble(a!)))))

  define(db, "sign", { arity: 1, ...pure }, (v) => BigInt(Math.sign(typeof v === "bigint" ? Number(v > 0n ? 1n : v < 0n ? -1n : 0n) : toDouble(v!))))
  define(db, "round", { arity: [1, 2] }, (v, d) => (v === null ? null : roundOrTruncate(v!, d, false)))
  define(db, "truncate", { arity: 2 }, (v, d) => (v === null ? null : roundOrTruncate(v!, d, true)))
  define(db, ["ceil", "ceiling"], { arity: 1, ...pure }, (v) => (typeof v === "bigint" ? v : integralResult(Math.ceil(toDouble(v!)))))
  define(db, "floor", { arity: 1, ...pure }, (v) => (typeof v === "bigint" ? v : integralResult(Math.floor(toDouble(v!)))))
  define(db, "mod", { arity: 2, ...pure }, (a, b) => {
    if (typeof a === "bigint" && typeof b === "bigint") return b === 0n ? null : a % b
    const y = toDouble(b!)
    return y === 0 ? null : doubleResult(toDouble(a!) % y)
  })
  define(db, "pi", { arity: 0 }, () => Math.PI)
  math("degrees", 1, (x) => (x * 180) / Math.PI)
  math("radians", 1, (x) => (x * Math.PI) / 180)
  math("cot", 1, (x) => 1 / Math.tan(x))
  math("ln", 1, (x) => (x > 0 ? Math.log(x) : NaN))
  math("log2", 1, (x) => (x > 0 ? Math.log2(x) : NaN))
  math("log10", 1, (x) => (x > 0 ? Math.log10(x) : NaN))
  define(db, "log", { arity: [1, 2], ...pure }, (a, b) => {
    if (b === undefined) {
      const x = toDouble(a!)
      return x > 0 ? Math.log(x) : null
    }
    const base = toDouble(a!)
    const x = toDouble(b!)
    if (x <= 0 || base <= 0 || base === 1) return null
    return doubleResult(Math.log(x) / Math.log(base))
  })
  define(db, ["pow", "power"], { arity: 2, ...pure }, (a, b) =>
    checked(`pow(${toText(a!)},${toText(b!)})`, Math.pow(toDouble(a!), toDouble(b!))))
  define(db, "exp", { arity: 1, ...pure }, (a) => checked(`exp(${toText(a!)})`, Math.exp(toDouble(a!))))
  math("sqrt", 1, (x) => (x >= 0 ? Math.sqrt(x) : NaN))
  math("sin", 1, Math.sin)
  math("cos", 1, Math.cos)
  math("tan", 1, Math.tan)
  math("asin", 1, Math.asin)
  math("acos", 1, Math.acos)
  define(db, "atan", { arity: [1, 2], ...pure }, (a, b) =>
    b === undefined ? Math.atan(toDouble(a!)) : Math.atan2(toDouble(a!), toDouble(b!)))
  math("atan2", 2, Math.atan2)
  define(db, "format", { arity: [2, 3] }, (v, d, locale) => (v === null || d === null ? null : format(v!, d!, locale)))

  define(db, "crc32", { arity: 1, ...pure }, (v) => BigInt(crc32(toBytes(v!))))
  define(db, "md5", { arity: 1, ...pure }, hash("md5"))
  define(db, ["sha1", "sha"], { arity: 1, ...pure }, hash("sha1"))
  define(db, "sha2", { arity: 2 }, (v, l) => {
    if (v === null) return null
    const bits = l === null ? 0 : toInt(l!)
    const algorithm = { 0: "sha256", 224: "sha224", 256: "sha256", 384: "sha384", 512: "sha512" }[bits]
    return algorithm === undefined ? null : hash(algorithm)(v!)
  })

  // NULLIF compares like MySQL's `=`: numbers numerically, strings by collation ('a' = 'A').
  define(db, "nullif", { arity: 2 }, (a, b) => {
    if (a === null || b === null) return a ?? null
    return compareValues(a, b) === 0 ? null : a
  })
  define(db, "greatest", {}, (...args) => extreme(args, 1))
  define(db, "least", {}, (...args) => extreme(args, -1))

  define(db, "rand", { arity: 0, deterministic: false }, () => Math.random())
  define(db, "rand", { arity: 1 }, seededRand)
  define(db, "uuid", { arity: 0, deterministic: false }, uuid)
  define(db, "uuid_short", { arity: 0, deterministic: false }, () => uuidShortNext++)
}
