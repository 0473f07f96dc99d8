/**
 * INTERVAL arithmetic: DATE_ADD/DATE_SUB/ADDDATE/SUBDATE/TIMESTAMPADD. The translator passes the
 * unit as an upper-case string: `date_add(d, n, 'DAY')`, `date_add(d, '1:30', 'HOUR_MINUTE')`.
 */
import {
  dateOfDayNumber,
  dateTimeArg,
  dayNumber,
  daysInMonth,
  daysInYear,
  hasFullDate,
  makeDate,
  makeDateTime,
  MAX_DAY_NUMBER,
  type Temporal
} from "./Temporal.ts"
import { type SqlValue, toInteger, toText } from "./Values.ts"
import { formatDouble, parseNumericPrefix } from "../mysql/protocol/Values.ts"

/** An interval's amounts per field; `dec` is the fractional digits the result shows because of it. */
export type Interval = Omit<Temporal, "type">

/** Compound units: the fields their string holds, and whether the last one is microseconds. */
const COMPOUND: Record<string, { readonly fields: ReadonlyArray<keyof Interval>; readonly micro: boolean }> = {
  YEAR_MONTH: { fields: ["year", "month"], micro: false },
  DAY_HOUR: { fields: ["day", "hour"], micro: false },
  DAY_MINUTE: { fields: ["day", "hour", "minute"], micro: false },
  DAY_SECOND: { fields: ["day", "hour", "minute", "second"], micro: false },
  HOUR_MINUTE: { fields: ["hour", "minute"], micro: false },
  HOUR_SECOND: { fields: ["hour", "minute", "second"], micro: false },
  MINUTE_SECOND: { fields: ["minute", "second"], micro: false },
  DAY_MICROSECOND: { fields: ["day", "hour", "minute", "second", "micro"], micro: true },
  HOUR_MICROSECOND: { fields: ["hour", "minute", "second", "micro"], micro: true },
  MINUTE_MICROSECOND: { fields: ["minute", "second", "micro"], micro: true },
  SECOND_MICROSECOND: { fields: ["second", "micro"], micro: true }
}

const SIMPLE: Record<string, keyof Interval> = {
  YEAR: "year",
  MONTH: "month",
  DAY: "day",
  HOUR: "hour",
  MINUTE: "minute",
  SECOND: "second",
  MICROSECOND: "micro"
}

/** Units that move the date only: a DATE stays a DATE. */
const DATE_UNITS = new Set(["YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "YEAR_MONTH"])

export const isIntervalUnit = (unit: string): boolean =>
  unit in COMPOUND || unit in SIMPLE || unit === "QUARTER" || unit === "WEEK"

const zero: Interval = { neg: false, year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, micro: 0, dec: 0 }

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9"

/** MySQL's reading of a compound interval string such as '1 2:30:15.5'. Undefined when malformed. */
const parseCompound = (text: string, unit: { readonly fields: ReadonlyArray<keyof Interval>; readonly micro: boolean }): Interval | undefined => {
  let s = text.trimStart()
  let neg = false
  if (s.startsWith("-")) {
    neg = true
    s = s.slice(1)
  }
  const count = unit.fields.length
  const values: Array<number> = []
  let i = 0
  const n = s.length
  while (i < n && !isDigit(s[i])) i++
  let lastLen = 0
  for (let k = 0; k < count; k++) {
    const start = i
    while (i < n && isDigit(s[i])) i++
    lastLen = i - start
    if (lastLen >= 20) return undefined
    values.push(lastLen === 0 ? 0 : Number(s.slice(start, i)))
    while (i < n && !isDigit(s[i])) i++
    if (i === n && k !== count - 1) break
  }
  if (i !== n) return undefined
  // Fewer fields than the unit has: they are the low-order ones.
  while (values.length < count) values.unshift(0)
  if (unit.micro && lastLen > 0) {
    const last = values[count - 1] ?? 0
    values[count - 1] = lastLen < 6 ? last * 10 ** (6 - lastLen) : Math.trunc(last / 10 ** (lastLen - 6))
  }
  const iv: Record<string, number | boolean> = { ...zero, neg, dec: unit.micro ? 6 : 0 }
  unit.fields.forEach((f, k) => {
    iv[f] = values[k] ?? 0
  })
  return iv as unknown as Interval
}

/** Seconds with a fraction (INTERVAL 1.5 SECOND): exact from the value's decimal text. */
const parseSeconds = (v: number | string | Buffer): Interval => {
  const num = typeof v === "number" ? v : parseNumericPrefix(toText(v))
  const text = typeof num === "bigint" ? num.toString() : formatDouble(num)
  const m = /^(-)?(\d+)(?:\.(\d+))?/.exec(text)
  if (m === null) return zero
  const frac = m[3] ?? ""
  return {
    ...zero,
    neg: m[1] !== undefined,
    second: Number(m[2]),
    micro: Number(frac.slice(0, 6).padEnd(6, "0")),
    dec: Math.min(6, frac.length)
  }
}

/** The interval `value unit` (unit upper-case), or undefined when it is NULL or malformed. */
export const parseInterval = (value: SqlValue, unit: string): Interval | undefined => {
  if (value === null) return undefined
  const compound = COMPOUND[unit]
  if (compound !== undefined) return parseCompound(toText(value), compound)
  if (unit === "SECOND" && typeof value !== "bigint") {
    const iv = parseSeconds(value)
    return typeof value === "number" ? iv : { ...iv, dec: iv.micro === 0 ? 0 : 6 }
  }
  let n = toInteger(value)
  const neg = n < 0n
  if (neg) n = -n
  if (n > 10n ** 15n) n = 10n ** 15n
  const amount = Number(n)
  switch (unit) {
    case "QUARTER":
      return { ...zero, neg, month: amount * 3 }
    case "WEEK":
      return { ...zero, neg, day: amount * 7 }
    case "MICROSECOND":
      return { ...zero, neg, micro: amount, dec: 6 }
  }
  const field = SIMPLE[unit]
  if (field === undefined) return undefined
  return { ...zero, neg, [field]: amount }
}

/** Adds an interval to a date or datetime (MySQL date_add_interval); undefined when out of range. */
export const addInterval = (t: Temporal, unit: string, iv: Interval, subtract: boolean): Temporal | undefined => {
  const sign = iv.neg !== subtract ? -1 : 1
  const dec = Math.max(t.dec, iv.dec)
  if (unit === "YEAR") {
    const year = t.year + sign * iv.year
    if (year < 0 || year >= 10000) return undefined
    const day = t.month === 2 && t.day === 29 && daysInYear(year) !== 366 ? 28 : t.day
    return { ...t, year, day, dec }
  }
  if (unit === "MONTH" || unit === "QUARTER" || unit === "YEAR_MONTH") {
    const period = t.year * 12 + sign * iv.year * 12 + t.month - 1 + sign * iv.month
    if (period < 0 || period >= 120000) return undefined
    const year = Math.floor(period / 12)
    const month = (period % 12) + 1
    const dim = daysInMonth(year, month)
    return { ...t, year, month, day: t.day > dim ? dim : t.day, dec }
  }
  if (unit === "DAY" || unit === "WEEK") {
    const daynr = dayNumber(t.year, t.month, t.day) + sign * iv.day
    if (daynr > MAX_DAY_NUMBER) return undefined
    const date = dateOfDayNumber(daynr)
    if (date === undefined) return undefined
    return { ...t, year: date[0], month: date[1], day: date[2], dec }
  }
  // Units with a time part: the result is a DATETIME.
  let micro = t.micro + sign * iv.micro
  const extraSec = Math.trunc(micro / 1_000_000)
  micro %= 1_000_000
  let sec =
    (t.day - 1) * 86400 + t.hour * 3600 + t.minute * 60 + t.second +
    sign * (iv.day * 86400 + iv.hour * 3600 + iv.minute * 60 + iv.second) + extraSec
  if (micro < 0) {
    micro += 1_000_000
    sec--
  }
  let days = Math.trunc(sec / 86400)
  sec -= days * 86400
  if (sec < 0) {
    days--
    sec += 86400
  }
  const daynr = dayNumber(t.year, t.month, 1) + days
  if (daynr < 0 || daynr > MAX_DAY_NUMBER) return undefined
  const date = dateOfDayNumber(daynr)
  if (date === undefined) return undefined
  return makeDateTime(date[0], date[1], date[2], Math.floor(sec / 3600), Math.floor(sec / 60) % 60, sec % 60, micro, dec)
}

/** DATE_ADD(d, INTERVAL value unit) / DATE_SUB with MySQL's NULL rules and result type. */
export const dateAdd = (d: SqlValue, value: SqlValue, unitArg: SqlValue, subtract: boolean): Temporal | null => {
  if (d === null || value === null || unitArg === null) return null
  const unit = toText(unitArg).toUpperCase()
  if (!isIntervalUnit(unit)) throw new Error(`unknown INTERVAL unit '${unit}'`)
  const t = dateTimeArg(d)
  if (t === undefined || !hasFullDate(t)) return null
  const iv = parseInterval(value, unit)
  if (iv === undefined) return null
  const r = addInterval(t, unit, iv, subtract)
  if (r === undefined) return null
  if (t.type === "date" && DATE_UNITS.has(unit)) return makeDate(r.year, r.month, r.day)
  return r.type === "datetime" ? r : { ...r, type: "datetime" }
}
