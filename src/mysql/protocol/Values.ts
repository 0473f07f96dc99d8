/**
 * Conversions between JavaScript values (as SQLite hands them over) and MySQL's text and binary
 * representations: MariaDB-compatible DOUBLE formatting, MySQL-like numeric coercion of strings,
 * and parsing of DATE/DATETIME/TIME strings for the binary protocol.
 */

/**
 * Formats a double the way MariaDB prints DOUBLE values in the text protocol: the shortest
 * round-trip digits (as JavaScript) in fixed notation when the decimal exponent is within
 * [-14, 15] (or when all digits of a 16-digit-integer-part value fit), otherwise
 * `d.ddde[-]x` without '+' or padding (`1e21`, `1.5e-16`, `1.2345678901234568e17`).
 * Mirrors `my_gcvt` in MariaDB's strings/dtoa.c with MAX_DECPT_FOR_F_FORMAT = 15.
 */
export const formatDouble = (n: number): string => {
  const abs = n < 0 ? -n : n
  // Both JavaScript and MariaDB use fixed notation here, with the same digits.
  if (abs >= 1e-6 && abs < 1e15) return String(n)
  if (n === 0) return "0"
  if (!Number.isFinite(n)) return n !== n ? "nan" : n > 0 ? "inf" : "-inf"
  const e = n.toExponential() // shortest round-trip digits, "d.ddde±x"
  const ePos = e.indexOf("e")
  const neg = n < 0
  const mantissa = e.slice(neg ? 1 : 0, ePos)
  const digits = mantissa.length > 1 ? mantissa[0] + mantissa.slice(2) : mantissa
  const exp = Number(e.slice(ePos + 1))
  const decpt = exp + 1 // value = 0.digits × 10^decpt
  const len = digits.length
  let body: string
  if (decpt >= -14 && (decpt <= 15 || len > decpt)) {
    body =
      decpt <= 0
        ? "0." + "0".repeat(-decpt) + digits
        : decpt < len
          ? digits.slice(0, decpt) + "." + digits.slice(decpt)
          : digits + "0".repeat(decpt - len)
  } else {
    body = (len > 1 ? digits[0] + "." + digits.slice(1) : digits) + "e" + exp
  }
  return neg ? "-" + body : body
}

const TWO_63 = 2 ** 63

/**
 * Text form of a scalar for the text protocol and for string-typed binary columns. Integral
 * numbers below 2^63 print as plain digits (they are almost always INTEGER values); other
 * numbers follow `formatDouble`.
 */
export const textOf = (v: unknown): string => {
  switch (typeof v) {
    case "string":
      return v
    case "number":
      if (Number.isInteger(v) && v < TWO_63 && v >= -TWO_63) {
        return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString()
      }
      return formatDouble(v)
    case "bigint":
      return v.toString()
    case "boolean":
      return v ? "1" : "0"
    default:
      return String(v)
  }
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57

/**
 * MySQL-like numeric value of a string: leading spaces, then the longest numeric prefix
 * (`[+-]digits[.digits][e[+-]digits]`); no numeric prefix gives 0 ('abc' → 0, '12abc' → 12).
 * Integer prefixes too long for a double come back as a bigint so 64-bit values stay exact.
 */
export const parseNumericPrefix = (s: string): number | bigint => {
  let i = 0
  const n = s.length
  while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9 || s.charCodeAt(i) === 10)) i++
  const start = i
  if (i < n && (s[i] === "-" || s[i] === "+")) i++
  const intStart = i
  while (i < n && isDigit(s.charCodeAt(i))) i++
  const intDigits = i - intStart
  let fracDigits = 0
  let isInteger = true
  if (i < n && s[i] === ".") {
    let j = i + 1
    while (j < n && isDigit(s.charCodeAt(j))) j++
    fracDigits = j - i - 1
    if (intDigits + fracDigits > 0) {
      i = j
      isInteger = false
    }
  }
  if (intDigits + fracDigits === 0) return 0
  if (i < n && (s[i] === "e" || s[i] === "E")) {
    let j = i + 1
    if (j < n && (s[j] === "-" || s[j] === "+")) j++
    const expStart = j
    while (j < n && isDigit(s.charCodeAt(j))) j++
    if (j > expStart) {
      i = j
      isInteger = false
    }
  }
  const text = s.slice(start, i)
  if (isInteger && intDigits > 15) return BigInt(text)
  return Number(text)
}

/** Numeric value of any scalar: numbers as is, bigints as is, strings/bytes by prefix, else 0. */
export const numericOf = (v: unknown): number | bigint =>
  typeof v === "number" || typeof v === "bigint"
    ? v
    : typeof v === "string"
      ? parseNumericPrefix(v)
      : typeof v === "boolean"
        ? v
          ? 1
          : 0
        : v instanceof Uint8Array
          ? parseNumericPrefix(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("latin1"))
          : 0

/** Rounds half away from zero and clamps into [min, max] (numbers) for integer columns. */
export const toIntegerInRange = (v: unknown, min: number, max: number): number => {
  const x = numericOf(v)
  const f = typeof x === "bigint" ? Number(x) : x
  if (f !== f) return 0
  const r = f < 0 ? -Math.round(-f) : Math.round(f)
  return r < min ? min : r > max ? max : r
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

/** Integer for an 8-byte column: a safe-integer number, or a bigint clamped to the 64-bit range. */
export const toInt64 = (v: unknown, unsigned: boolean): number | bigint => {
  const x = numericOf(v)
  if (typeof x === "number") {
    if (x !== x) return 0
    const r = x < 0 ? -Math.round(-x) : Math.round(x)
    if (Number.isSafeInteger(r)) return unsigned && r < 0 ? 0 : r
    if (!Number.isFinite(r)) return r > 0 ? (unsigned ? UINT64_MAX : INT64_MAX) : unsigned ? 0 : INT64_MIN
    return toInt64(BigInt(r), unsigned)
  }
  const lo = unsigned ? 0n : INT64_MIN
  const hi = unsigned ? UINT64_MAX : INT64_MAX
  return x < lo ? lo : x > hi ? hi : x
}

/** Broken-down DATE/DATETIME/TIMESTAMP or TIME value. */
export interface TemporalParts {
  readonly negative: boolean
  readonly year: number
  readonly month: number
  /** For TIME: whole days (hours beyond 23 are folded in here). */
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
  readonly micro: number
}

const DATETIME_RE =
  /^\s*(\d{1,4})\D(\d{1,2})\D(\d{1,2})(?:(?:T|\s+)(\d{1,2})\D(\d{1,2})(?:\D(\d{1,2})(?:\.(\d{1,9}))?)?)?/
const COMPACT_DATETIME_RE = /^\s*(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?)?\s*$/
const TIME_RE = /^\s*(-)?(?:(\d{1,9})\s+)?(\d{1,9}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?/
const COMPACT_TIME_RE = /^\s*(-)?(\d{1,9})(?:\.(\d{1,9}))?\s*$/

const int = (s: string | undefined): number => (s === undefined ? 0 : Number(s))

/** Fraction digits ('5', '123456789') to microseconds (truncating beyond 6 digits). */
const micros = (s: string | undefined): number =>
  s === undefined ? 0 : Number(s.length >= 6 ? s.slice(0, 6) : s.padEnd(6, "0"))

/**
 * Parses 'YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]]' (any single non-digit delimiters, as MySQL
 * allows; trailing text such as 'Z' is ignored) or the compact 'YYYYMMDD[HHMMSS[.ffffff]]'.
 * Returns undefined for anything else.
 */
export const parseDateTime = (s: string): TemporalParts | undefined => {
  const m = DATETIME_RE.exec(s) ?? COMPACT_DATETIME_RE.exec(s)
  if (m === null) return undefined
  return {
    negative: false,
    year: int(m[1]),
    month: int(m[2]),
    day: int(m[3]),
    hour: int(m[4]),
    minute: int(m[5]),
    second: int(m[6]),
    micro: micros(m[7])
  }
}

/**
 * Parses a TIME '[-][D ]HH:MM[:SS[.ffffff]]' or MySQL's numeric '[-]HHMMSS[.ffffff]'. Hours
 * beyond 23 are folded into days. Returns undefined when no time can be recognised.
 */
export const parseTime = (s: string): TemporalParts | undefined => {
  let negative: boolean
  let days: number
  let h: number
  let mi: number
  let sec: number
  let micro: number
  const m = TIME_RE.exec(s)
  if (m !== null) {
    negative = m[1] !== undefined
    days = int(m[2])
    h = int(m[3])
    mi = int(m[4])
    sec = int(m[5])
    micro = micros(m[6])
  } else {
    const c = COMPACT_TIME_RE.exec(s)
    if (c === null) return undefined
    const v = int(c[2])
    negative = c[1] !== undefined
    days = 0
    h = Math.floor(v / 10000)
    mi = Math.floor(v / 100) % 100
    sec = v % 100
    micro = micros(c[3])
  }
  days += Math.floor(h / 24)
  return { negative, year: 0, month: 0, day: days, hour: h % 24, minute: mi, second: sec, micro }
}

const pad2 = (n: number): string => (n < 10 ? "0" + n : String(n))
const pad4 = (n: number): string => (n < 10 ? "000" : n < 100 ? "00" : n < 1000 ? "0" : "") + n
const pad6 = (n: number): string => String(n).padStart(6, "0")

/** 'YYYY-MM-DD' */
export const formatDate = (y: number, mo: number, d: number): string =>
  pad4(y) + "-" + pad2(mo) + "-" + pad2(d)

/** 'YYYY-MM-DD HH:MM:SS[.ffffff]' (fraction only when non-zero) */
export const formatDateTime = (
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  micro: number
): string =>
  formatDate(y, mo, d) + " " + pad2(h) + ":" + pad2(mi) + ":" + pad2(s) + (micro ? "." + pad6(micro) : "")

/** '[-]HH:MM:SS[.ffffff]' with days folded into the hours. */
export const formatTime = (
  negative: boolean,
  days: number,
  h: number,
  mi: number,
  s: number,
  micro: number
): string =>
  (negative ? "-" : "") +
  pad2(days * 24 + h) +
  ":" +
  pad2(mi) +
  ":" +
  pad2(s) +
  (micro ? "." + pad6(micro) : "")
