/**
 * How SQLite values are read with MySQL semantics inside the function library.
 *
 * Values arrive from better-sqlite3 as `bigint` (INTEGER, the connections use safe integers),
 * `number` (REAL), `string` (TEXT), `Buffer` (BLOB) or `null`. Integer results go back as
 * `bigint`, approximate ones as `number`, strings as `string`, binary strings as `Buffer`.
 */
import { formatDouble, parseNumericPrefix } from "../mysql/protocol/Values.ts"

export type SqlValue = null | bigint | number | string | Buffer

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n
export const UINT64_MAX = 2n ** 64n - 1n
export const UINT64_MOD = 2n ** 64n

/** The text of a value: numbers as MySQL prints them, bytes as UTF-8. */
export const toText = (v: Exclude<SqlValue, null>): string =>
  typeof v === "string"
    ? v
    : typeof v === "bigint"
      ? v.toString()
      : typeof v === "number"
        ? formatDouble(v)
        : v.toString("utf8")

/** The bytes of a value (text as UTF-8). */
export const toBytes = (v: Exclude<SqlValue, null>): Buffer =>
  Buffer.isBuffer(v) ? v : Buffer.from(toText(v), "utf8")

/** MySQL's numeric value of a string or bytes: the longest numeric prefix, else 0. */
const prefixNumber = (v: string | Buffer): number | bigint =>
  parseNumericPrefix(typeof v === "string" ? v : v.toString("latin1"))

/** The value as a double (val_real). */
export const toDouble = (v: Exclude<SqlValue, null>): number => {
  if (typeof v === "number") return v
  if (typeof v === "bigint") return Number(v)
  const n = prefixNumber(v)
  return typeof n === "bigint" ? Number(n) : n
}

const clampInt64 = (n: bigint): bigint => (n < INT64_MIN ? INT64_MIN : n > INT64_MAX ? INT64_MAX : n)

/** Rounds a double half away from zero into the 64-bit signed range. */
export const roundToInt = (x: number): bigint => {
  if (x !== x) return 0n
  if (x >= 9.223372036854776e18) return INT64_MAX
  if (x <= -9.223372036854776e18) return INT64_MIN
  return BigInt(x < 0 ? -Math.round(-x) : Math.round(x))
}

const INT_PREFIX = /^[ \t\n\r]*([+-]?\d+)/

/**
 * The value as an integer (val_int): doubles round half away from zero, strings take their
 * integer prefix ('2.7' → 2, 'abc' → 0), as MySQL does for integer arguments.
 */
export const toInteger = (v: Exclude<SqlValue, null>): bigint => {
  if (typeof v === "bigint") return v
  if (typeof v === "number") return roundToInt(v)
  const s = typeof v === "string" ? v : v.toString("latin1")
  const m = INT_PREFIX.exec(s)
  if (m === null || m[1] === undefined) return 0n
  return clampInt64(BigInt(m[1]))
}

/** A small integer argument (positions, lengths, counts), saturated to ±2^53. */
export const toInt = (v: Exclude<SqlValue, null>): number => {
  const n = toInteger(v)
  return n > 9007199254740991n ? Number.MAX_SAFE_INTEGER : n < -9007199254740991n ? -Number.MAX_SAFE_INTEGER : Number(n)
}

/** True when the value is a number (INTEGER or REAL) rather than a string. */
export const isNumeric = (v: SqlValue): v is bigint | number => typeof v === "bigint" || typeof v === "number"

/** An integer result: bigint when it fits SQLite's 64-bit INTEGER, else its decimal text (unsigned values). */
export const intResult = (n: bigint): bigint | string => (n > INT64_MAX || n < INT64_MIN ? n.toString() : n)

/** A double result; NaN and infinities (MySQL has neither) become NULL. */
export const doubleResult = (x: number): number | null => (Number.isFinite(x) ? x : null)

/** Whole-number doubles as integers (CEIL, FLOOR of exact values print without a fraction either way). */
export const integralResult = (x: number): bigint | number | null =>
  !Number.isFinite(x) ? null : Number.isSafeInteger(x) ? BigInt(x) : x
