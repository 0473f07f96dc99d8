/**
 * MySQL date and time functions.
 */
import type Database from "better-sqlite3"
import { formatWithPattern, strToDate } from "./DateFormat.ts"
import { dateAdd } from "./Interval.ts"
import { define } from "./Register.ts"
import {
  asTime,
  calcWeek,
  DAY_NAMES,
  dateOfDayNumber,
  dateTimeArg,
  dateTimeFromDayMicros,
  dayNumber,
  daysInMonth,
  formatTemporal,
  hasFullDate,
  makeDate,
  makeDateTime,
  makeTime,
  MONTH_NAMES,
  type Temporal,
  timeArg,
  timeFromMicros,
  timeMicros,
  TIME_MAX_HOUR,
  totalMicros,
  weekdayOf,
  weekMode,
  WEEK_YEAR
} from "./Temporal.ts"
import { findZone, localToUtc, systemZone, utcZone, type Zone } from "./TimeZones.ts"
import { type SqlValue, toDouble, toInt, toInteger, toText } from "./Values.ts"

const TIMESTAMP_MAX = 2147483647

// ---------------------------------------------------------------------------------------------
// clock

/** The current instant in microseconds since the epoch. */
const liveMicros = (): number => Date.now() * 1000

let statementStart: number | undefined

/**
 * The instant the current statement started. MySQL evaluates NOW() and its relatives once per
 * statement; here the first read is kept until `resetStatementClock()` (which the query engine may
 * call before each statement) or until the current synchronous run of JavaScript ends.
 */
const statementMicros = (): number => {
  if (statementStart === undefined) {
    statementStart = liveMicros()
    queueMicrotask(resetStatementClock)
  }
  return statementStart
}

/** Starts a new statement: the next NOW(), CURDATE(), UNIX_TIMESTAMP(), ... read the clock again. */
export const resetStatementClock = (): void => {
  statementStart = undefined
}

/** Wall-clock parts of a UTC instant (seconds) in a zone, as a DATETIME. */
const wallClock = (zone: Zone, utcSeconds: number, micro: number, dec: number): Temporal => {
  const wall = utcSeconds + zone.offsetAt(utcSeconds)
  const days = Math.floor(wall / 86400)
  const secs = wall - days * 86400
  // 1970-01-01 is MySQL day 719528
  const dt = dateTimeFromDayMicros(719528 + days, secs * 1_000_000 + micro, dec)
  return dt ?? makeDateTime(0, 0, 0, 0, 0, 0, 0, 0)
}

/** Seconds since the epoch (with microseconds) of a DATETIME read in a zone; undefined outside TIMESTAMP's range. */
const toEpoch = (zone: Zone, t: Temporal): { seconds: number; micro: number } | undefined => {
  const wall = (dayNumber(t.year, t.month, t.day) - 719528) * 86400 + t.hour * 3600 + t.minute * 60 + t.second
  const seconds = localToUtc(zone, wall)
  if (seconds < 0 || seconds > TIMESTAMP_MAX) return undefined
  return { seconds, micro: t.micro }
}

const fsp = (v: SqlValue | undefined): number => {
  if (v === undefined || v === null) return 0
  const n = toInt(v)
  if (n < 0 || n > 6) throw new Error(`Too big precision ${n} specified. Maximum is 6`)
  return n
}

const clock = (zone: Zone, dec: number, us = statementMicros()): Temporal => {
  const seconds = Math.floor(us / 1_000_000)
  const micro = us - seconds * 1_000_000
  const truncated = dec === 0 ? 0 : Math.floor(micro / 10 ** (6 - dec)) * 10 ** (6 - dec)
  return wallClock(zone, seconds, truncated, dec)
}

/** NOW()'s DATETIME text in the session (process) time zone. */
export const nowText = (dec = 0): string => formatTemporal(clock(systemZone, dec))

// ---------------------------------------------------------------------------------------------
// helpers

const text = (t: Temporal | null | undefined): string | null => (t === null || t === undefined ? null : formatTemporal(t))

const fullDate = (v: SqlValue): Temporal | undefined => {
  const t = dateTimeArg(v)
  return t !== undefined && hasFullDate(t) ? t : undefined
}

const daynrOf = (t: Temporal): number => dayNumber(t.year, t.month, t.day)

const int = (n: number): bigint => BigInt(n)

/** A decimal number of seconds with microseconds (UNIX_TIMESTAMP, TIME_TO_SEC with fractions). */
const secondsResult = (seconds: number, micro: number, dec: number): bigint | number =>
  dec === 0 ? BigInt(seconds) : seconds + (seconds < 0 ? -micro : micro) / 1_000_000

/**
 * Seconds and microseconds of a numeric argument (get_seconds), with the decimals it shows;
 * -1 for a string, whose decimals MySQL does not know in advance.
 */
const secondsArg = (v: Exclude<SqlValue, null>): { neg: boolean; seconds: number; micro: number; dec: number } => {
  if (typeof v === "bigint") return { neg: v < 0n, seconds: Number(v < 0n ? -v : v), micro: 0, dec: 0 }
  const x = toDouble(v)
  const neg = x < 0
  if (!(Math.abs(x) < 1e15)) return { neg, seconds: Number.MAX_SAFE_INTEGER, micro: 0, dec: 0 }
  const fixed = Math.abs(x).toFixed(6)
  const dot = fixed.indexOf(".")
  const frac = fixed.slice(dot + 1).replace(/0+$/, "")
  const dec = typeof v === "number" ? frac.length : -1
  return { neg, seconds: Number(fixed.slice(0, dot)), micro: Number(fixed.slice(dot + 1)), dec: Math.min(dec, 6) }
}

const unitOf = (v: SqlValue): string => (v === null ? "" : toText(v).toUpperCase())

/** TIMESTAMPDIFF(unit, a, b) in MySQL's whole units. */
const timestampDiff = (unit: string, a: Temporal, b: Temporal): bigint | null => {
  const diff = totalMicros(b) - totalMicros(a)
  const neg = diff < 0n ? -1n : 1n
  const abs = diff < 0n ? -diff : diff
  const seconds = abs / 1_000_000n
  switch (unit) {
    case "MICROSECOND":
      return abs * neg
    case "SECOND":
      return seconds * neg
    case "MINUTE":
      return (seconds / 60n) * neg
    case "HOUR":
      return (seconds / 3600n) * neg
    case "DAY":
      return (seconds / 86400n) * neg
    case "WEEK":
      return (seconds / 86400n / 7n) * neg
    case "MONTH":
    case "QUARTER":
    case "YEAR": {
      const [beg, end] = neg < 0n ? [b, a] : [a, b]
      const secBeg = beg.hour * 3600 + beg.minute * 60 + beg.second
      const secEnd = end.hour * 3600 + end.minute * 60 + end.second
      const before = end.month < beg.month || (end.month === beg.month && end.day < beg.day)
      const years = end.year - beg.year - (before ? 1 : 0)
      let months = 12 * years + (before ? 12 - (beg.month - end.month) : end.month - beg.month)
      if (end.day < beg.day) months -= 1
      else if (end.day === beg.day && (secEnd < secBeg || (secEnd === secBeg && end.micro < beg.micro))) months -= 1
      const m = BigInt(months)
      return (unit === "MONTH" ? m : unit === "QUARTER" ? m / 3n : m / 12n) * neg
    }
    default:
      throw new Error(`unknown TIMESTAMPDIFF unit '${unit}'`)
  }
}

/** EXTRACT(unit FROM v). */
const extract = (unit: string, v: SqlValue): bigint | null => {
  if (v === null) return null
  const timeish = /^(HOUR|MINUTE|SECOND|MICROSECOND)/.test(unit)
  const t = timeish ? timeArg(v) : dateTimeArg(v)
  if (t === undefined) return null
  const sign = t.neg ? -1 : 1
  // A TIME's hours beyond 23 count as days for the DAY_* units.
  const day = t.type === "time" ? Math.floor(t.hour / 24) : t.day
  const hour = t.type === "time" && !timeish ? t.hour % 24 : t.hour
  const s = (n: number): bigint => BigInt(n * sign)
  switch (unit) {
    case "YEAR":
      return int(t.year)
    case "YEAR_MONTH":
      return int(t.year * 100 + t.month)
    case "QUARTER":
      return int(Math.trunc((t.month + 2) / 3))
    case "MONTH":
      return int(t.month)
    case "WEEK":
      return int(calcWeek(t.year, t.month, t.day, weekMode(0)).week)
    case "DAY":
      return int(day)
    case "DAY_HOUR":
      return s(day * 100 + hour)
    case "DAY_MINUTE":
      return s(day * 10000 + hour * 100 + t.minute)
    case "DAY_SECOND":
      return s(day * 1000000 + hour * 10000 + t.minute * 100 + t.second)
    case "HOUR":
      return s(t.hour)
    case "HOUR_MINUTE":
      return s(t.hour * 100 + t.minute)
    case "HOUR_SECOND":
      return s(t.hour * 10000 + t.minute * 100 + t.second)
    case "MINUTE":
      return s(t.minute)
    case "MINUTE_SECOND":
      return s(t.minute * 100 + t.second)
    case "SECOND":
      return s(t.second)
    case "MICROSECOND":
      return s(t.micro)
    case "DAY_MICROSECOND":
      return BigInt(sign) * ((BigInt(day) * 1000000n + BigInt(hour * 10000 + t.minute * 100 + t.second)) * 1000000n + BigInt(t.micro))
    case "HOUR_MICROSECOND":
      return BigInt(sign) * (BigInt(t.hour * 10000 + t.minute * 100 + t.second) * 1000000n + BigInt(t.micro))
    case "MINUTE_MICROSECOND":
      return BigInt(sign) * (BigInt(t.minute * 100 + t.second) * 1000000n + BigInt(t.micro))
    case "SECOND_MICROSECOND":
      return BigInt(sign) * (BigInt(t.second) * 1000000n + BigInt(t.micro))
    default:
      throw new Error(`unknown EXTRACT unit '${unit}'`)
  }
}

/**
 * ADDTIME / SUBTIME. With string arguments MySQL does not know the decimals in advance: the
 * result shows six when it has a fraction and none otherwise.
 */
const addTime = (a: SqlValue, b: SqlValue, sign: 1 | -1): string | null => {
  if (a === null || b === null) return null
  const t1 = timeArg(a)
  const t2 = timeArg(b)
  if (t1 === undefined || t2 === undefined || t2.type !== "time") return null
  const exact = typeof a === "bigint" && typeof b === "bigint"
  const shown = (t: Temporal): Temporal => (exact ? t : { ...t, dec: t.micro === 0 ? 0 : 6 })
  if (t1.type === "time") {
    return formatTemporal(shown(timeFromMicros(timeMicros(t1) + BigInt(sign) * timeMicros(t2), exact ? 0 : 6)))
  }
  const total = totalMicros(t1) + BigInt(sign) * timeMicros(t2)
  if (total < 0n) return null
  const days = Number(total / 86_400_000_000n)
  const r = dateTimeFromDayMicros(days, Number(total % 86_400_000_000n), 6)
  return r === undefined ? null : formatTemporal(shown(r))
}

/** TIMEDIFF(a, b): both TIMEs or both DATETIMEs. */
const timeDiff = (a: SqlValue, b: SqlValue): string | null => {
  if (a === null || b === null) return null
  const t1 = timeArg(a)
  const t2 = timeArg(b)
  if (t1 === undefined || t2 === undefined) return null
  const kind = (t: Temporal): string => (t.type === "time" ? "time" : "datetime")
  if (kind(t1) !== kind(t2)) return null
  return formatTemporal(timeFromMicros(totalMicros(t1) - totalMicros(t2), Math.max(t1.dec, t2.dec)))
}

const convertTz = (v: SqlValue, from: SqlValue, to: SqlValue): string | null => {
  if (v === null || from === null || to === null) return null
  const fromZone = findZone(toText(from))
  const toZone = findZone(toText(to))
  const t = fullDate(v)
  if (fromZone === undefined || toZone === undefined || t === undefined) return null
  const dt = t.type === "date" ? makeDateTime(t.year, t.month, t.day, 0, 0, 0, 0, 0) : t
  const epoch = toEpoch(fromZone, dt)
  // Outside TIMESTAMP's range MySQL returns the value unchanged.
  if (epoch === undefined || epoch.seconds === 0) return formatTemporal(dt)
  return formatTemporal(wallClock(toZone, epoch.seconds, dt.micro, dt.dec))
}

const periodToMonths = (p: bigint): bigint => {
  if (p === 0n) return 0n
  let year = p / 100n
  if (year < 70n) year += 2000n
  else if (year < 100n) year += 1900n
  return year * 12n + (p % 100n) - 1n
}

const monthsToPeriod = (m: bigint): bigint => {
  if (m === 0n) return 0n
  let year = m / 12n
  if (year < 100n) year += year < 70n ? 2000n : 1900n
  return year * 100n + (m % 12n) + 1n
}

// ---------------------------------------------------------------------------------------------

export const registerDateTimeFunctions = (db: Database.Database): void => {
  const clockFn = { deterministic: false } as const
  const pure = { nullIfAnyNull: true } as const

  // CURRENT_TIMESTAMP/CURRENT_DATE/CURRENT_TIME are SQLite keywords: the translator emits NOW()/CURDATE()/CURTIME().
  define(db, ["now", "localtime", "localtimestamp"], { ...clockFn, arity: [0, 1] }, (p) =>
    formatTemporal(clock(systemZone, fsp(p))))
  // SYSDATE() is the time it is evaluated, not the statement's.
  define(db, "sysdate", { ...clockFn, arity: [0, 1] }, (p) => formatTemporal(clock(systemZone, fsp(p), liveMicros())))
  define(db, "curdate", { ...clockFn, arity: 0 }, () => text(withDateOnly(clock(systemZone, 0))))
  define(db, "curtime", { ...clockFn, arity: [0, 1] }, (p) => text(asTime(clock(systemZone, fsp(p)))))
  define(db, "utc_timestamp", { ...clockFn, arity: [0, 1] }, (p) => formatTemporal(clock(utcZone, fsp(p))))
  define(db, "utc_date", { ...clockFn, arity: 0 }, () => text(withDateOnly(clock(utcZone, 0))))
  define(db, "utc_time", { ...clockFn, arity: [0, 1] }, (p) => text(asTime(clock(utcZone, fsp(p)))))
  define(db, "unix_timestamp", { ...clockFn, arity: 0 }, () => BigInt(Math.floor(statementMicros() / 1_000_000)))
  define(db, "unix_timestamp", { arity: 1, nullIfAnyNull: true }, (v) => {
    const t = dateTimeArg(v)
    if (t === undefined || !hasFullDate(t)) return null
    const e = toEpoch(systemZone, t)
    return e === undefined ? null : secondsResult(e.seconds, e.micro, t.dec)
  })
  define(db, "from_unixtime", { arity: [1, 2], nullIfAnyNull: true }, (v, format) => {
    const s = secondsArg(v!)
    if (s.neg || s.seconds > TIMESTAMP_MAX) return null
    const t = wallClock(systemZone, s.seconds, s.micro, s.dec >= 0 ? s.dec : s.micro === 0 ? 0 : 6)
    return format === undefined ? formatTemporal(t) : formatWithPattern(t, toText(format!), false)
  })

  // parts
  define(db, "year", { arity: 1, ...pure }, (v) => {
    const t = dateTimeArg(v)
    return t === undefined ? null : int(t.year)
  })
  define(db, "month", { arity: 1, ...pure }, (v) => {
    const t = dateTimeArg(v)
    return t === undefined ? null : int(t.month)
  })
  define(db, ["day", "dayofmonth"], { arity: 1, ...pure }, (v) => {
    const t = dateTimeArg(v)
    return t === undefined ? null : int(t.day)
  })
  define(db, "quarter", { arity: 1, ...pure }, (v) => {
    const t = dateTimeArg(v)
    return t === undefined ? null : int(Math.trunc((t.month + 2) / 3))
  })
  define(db, "hour", { arity: 1, ...pure }, (v) => {
    const t = timeArg(v)
    return t === undefined ? null : int(t.hour)
  })
  define(db, "minute", { arity: 1, ...pure }, (v) => {
    const t = timeArg(v)
    return t === undefined ? null : int(t.minute)
  })
  define(db, "second", { arity: 1, ...pure }, (v) => {
    const t = timeArg(v)
    return t === undefined ? null : int(t.second)
  })
  define(db, "microsecond", { arity: 1, ...pure }, (v) => {
    const t = timeArg(v)
    return t === undefined ? null : int(t.micro)
  })
  define(db, "dayofyear", { arity: 1, ...pure }, (v) => {
    const t = fullDate(v)
    return t === undefined ? null : int(daynrOf(t) - dayNumber(t.year, 1, 1) + 1)
  })
  define(db, "dayofweek", { arity: 1, ...pure }, (v) => {
    const t = fullDate(v)
    return t === undefined ? null : int(weekdayOf(daynrOf(t), true) + 1)
  })
  define(db, "weekday", { arity: 1, ...pure }, (v) => {
    const t = fullDate(v)
    return t === undefined ? null : int(weekdayOf(daynrOf(t), false))
  })
  define(db, "dayname", { arity: 1, ...pure }, (v) => {
    const t = fullDate(v)
    return t === undefined ? null : DAY_NAMES[weekdayOf(daynrOf(t), false)]
  })
  define(db, "monthname", { arity: 1, ...pure }, (v) => {
    const t = dateTimeArg(v)
    return t === undefined || t.month === 0 ? null : MONTH_NAMES[t.month - 1]
  })
  define(db, "week", { arity: [1, 2] }, (v, mode) => {
    const t = fullDate(v)
    if (t === undefined) return null
    const m = mode === undefined || mode === null ? 0 : toInt(mode)
    return int(calcWeek(t.year, t.month, t.day, weekMode(m)).week)
  })
  define(db, "yearweek", { arity: [1, 2] }, (v, mode) => {
    const t = fullDate(v)
    if (t === undefined) return null
    const m = mode === undefined || mode === null ? 0 : toInt(mode)
    const w = calcWeek(t.year, t.month, t.day, weekMode(m) | WEEK_YEAR)
    return int(w.year * 100 + w.week)
  })
  define(db, "last_day", { arity: 1, ...pure }, (v) => {
    const t = dateTimeArg(v)
    if (t === undefined || t.month === 0) return null
    return text(makeDate(t.year, t.month, daysInMonth(t.year, t.month)))
  })
  // DATE(x), TIME(x) and datetime(x) (the translator's CAST AS DATETIME) replace SQLite's one-argument
  // forms; SQLite's `date('now')` idiom keeps working (UTC), any other SQLite form has more arguments.
  define(db, "date", { arity: 1, ...pure }, (v) => sqliteNow(v, 0, 10) ?? text(withDateOnly(dateTimeArg(v))))
  define(db, "time", { arity: 1, ...pure }, (v) => {
    const now = sqliteNow(v, 11, 19)
    if (now !== undefined) return now
    const t = timeArg(v)
    return t === undefined ? null : formatTemporal(asTime(t))
  })
  define(db, "datetime", { arity: 1, ...pure }, (v) => {
    const now = sqliteNow(v, 0, 19)
    if (now !== undefined) return now
    const t = dateTimeArg(v)
    return t === undefined ? null : formatTemporal(makeDateTime(t.year, t.month, t.day, t.hour, t.minute, t.second, 0, 0))
  })
  define(db, "timestamp", { arity: [1, 2], ...pure }, (v, add) => {
    const t = dateTimeArg(v)
    if (t === undefined) return null
    const dt = makeDateTime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.micro, t.dec)
    if (add === undefined) return formatTemporal(dt)
    const a = timeArg(add)
    if (a === undefined || a.type !== "time") return null
    const total = totalMicros(dt) + timeMicros(a)
    const r = total < 0n ? undefined : dateTimeFromDayMicros(Number(total / 86_400_000_000n), Number(total % 86_400_000_000n), Math.max(dt.dec, a.dec))
    return text(r)
  })
  define(db, "extract", { arity: 2, ...pure }, (unit, v) => extract(unitOf(unit), v))

  // day numbers and seconds
  define(db, "to_days", { arity: 1, ...pure }, (v) => {
    const t = fullDate(v)
    return t === undefined ? null : int(daynrOf(t))
  })
  define(db, "to_seconds", { arity: 1, ...pure }, (v) => {
    const t = fullDate(v)
    return t === undefined ? null : BigInt(daynrOf(t)) * 86400n + BigInt(t.hour * 3600 + t.minute * 60 + t.second)
  })
  define(db, "from_days", { arity: 1, ...pure }, (v) => {
    const n = toInteger(v!)
    const date = n > 0n && n < 3652500n ? dateOfDayNumber(Number(n)) : undefined
    return formatTemporal(date === undefined ? makeDate(0, 0, 0) : makeDate(date[0], date[1], date[2]))
  })
  define(db, "makedate", { arity: 2, ...pure }, (y, n) => {
    let year = toInteger(y!)
    const doy = toInteger(n!)
    if (year < 0n || year > 9999n || doy <= 0n) return null
    if (year < 100n) year += year < 70n ? 2000n : 1900n
    const daynr = dayNumber(Number(year), 1, 1) + Number(doy > 4000000n ? 4000000n : doy) - 1
    const date = daynr <= 3652424 ? dateOfDayNumber(daynr) : undefined
    return date === undefined ? null : formatTemporal(makeDate(date[0], date[1], date[2]))
  })
  define(db, "maketime", { arity: 3, ...pure }, (h, m, s) => {
    const hour = toInteger(h!)
    const minute = toInteger(m!)
    const sec = secondsArg(s!)
    if (minute < 0n || minute > 59n || sec.neg || sec.seconds > 59) return null
    const neg = hour < 0n
    const abs = neg ? -hour : hour
    const dec = sec.dec >= 0 ? sec.dec : 6
    if (abs > BigInt(TIME_MAX_HOUR)) return formatTemporal(makeTime(neg, TIME_MAX_HOUR, 59, 59, 0, dec))
    return formatTemporal(makeTime(neg, Number(abs), Number(minute), sec.seconds, sec.micro, dec))
  })
  define(db, "sec_to_time", { arity: 1, ...pure }, (v) => {
    const s = secondsArg(v!)
    const micros = BigInt(s.seconds) * 1_000_000n + BigInt(s.micro)
    return formatTemporal(timeFromMicros(s.neg ? -micros : micros, s.dec >= 0 ? s.dec : 6))
  })
  define(db, "time_to_sec", { arity: 1, ...pure }, (v) => {
    const t = timeArg(v)
    if (t === undefined) return null
    const secs = t.hour * 3600 + t.minute * 60 + t.second
    return secondsResult(t.neg ? -secs : secs, t.micro, t.dec)
  })
  define(db, "period_add", { arity: 2, ...pure }, (p, n) => {
    const period = toInteger(p!)
    if (period === 0n) return 0n
    return monthsToPeriod(periodToMonths(period) + toInteger(n!))
  })
  define(db, "period_diff", { arity: 2, ...pure }, (a, b) => periodToMonths(toInteger(a!)) - periodToMonths(toInteger(b!)))

  // differences
  define(db, "datediff", { arity: 2, ...pure }, (a, b) => {
    const t1 = fullDate(a)
    const t2 = fullDate(b)
    return t1 === undefined || t2 === undefined ? null : int(daynrOf(t1) - daynrOf(t2))
  })
  define(db, "timediff", { arity: 2 }, timeDiff)
  define(db, "timestampdiff", { arity: 3 }, (unit, a, b) => {
    if (unit === null || a === null || b === null) return null
    const t1 = fullDate(a)
    const t2 = fullDate(b)
    return t1 === undefined || t2 === undefined ? null : timestampDiff(unitOf(unit), t1, t2)
  })

  // arithmetic
  define(db, ["date_add", "adddate"], { arity: 3 }, (d, n, unit) => text(dateAdd(d, n, unit, false)))
  define(db, ["date_sub", "subdate"], { arity: 3 }, (d, n, unit) => text(dateAdd(d, n, unit, true)))
  define(db, "adddate", { arity: 2 }, (d, n) => text(dateAdd(d, n, "DAY", false)))
  define(db, "subdate", { arity: 2 }, (d, n) => text(dateAdd(d, n, "DAY", true)))
  define(db, "timestampadd", { arity: 3 }, (unit, n, d) => text(dateAdd(d, n, unit, false)))
  define(db, "addtime", { arity: 2 }, (a, b) => addTime(a, b, 1))
  define(db, "subtime", { arity: 2 }, (a, b) => addTime(a, b, -1))
  define(db, "convert_tz", { arity: 3 }, convertTz)

  // formatting
  define(db, "date_format", { arity: 2, ...pure }, (v, f) => {
    const t = dateTimeArg(v)
    const format = toText(f!)
    return t === undefined || format === "" ? null : formatWithPattern(t, format, false)
  })
  define(db, "time_format", { arity: 2, ...pure }, (v, f) => {
    const t = timeArg(v)
    const format = toText(f!)
    return t === undefined || format === "" ? null : formatWithPattern(t, format, true)
  })
  define(db, "str_to_date", { arity: 2, ...pure }, (v, f) => text(strToDate(toText(v!), toText(f!))))
}

/** SQLite's `date('now')`/`time('now')`/`datetime('now')`: UTC text, sliced. */
const sqliteNow = (v: SqlValue, from: number, to: number): string | undefined =>
  typeof v === "string" && v.toLowerCase() === "now" ? formatTemporal(clock(utcZone, 0)).slice(from, to) : undefined

const withDateOnly = (t: Temporal | undefined): Temporal | undefined =>
  t === undefined ? undefined : makeDate(t.year, t.month, t.day)
