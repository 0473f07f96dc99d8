/**
 * MySQL temporal values: the calendar (MySQL's day numbers, weeks), parsing of DATE, DATETIME
 * and TIME arguments from strings and numbers with MySQL's leniency, and their text forms.
 *
 * Day numbers follow MySQL's TO_DAYS: day 1 is 0000-01-01, the Gregorian rules apply to every
 * year (year 0 is not a leap year), and 0000-00-00 is day 0.
 */
import { type SqlValue } from "./Values.ts"

export type TemporalType = "date" | "datetime" | "time"

export interface Temporal {
  readonly type: TemporalType
  /** Only TIME values are negative. */
  readonly neg: boolean
  readonly year: number
  readonly month: number
  readonly day: number
  /** For TIME: total hours (days folded in), up to 838. */
  readonly hour: number
  readonly minute: number
  readonly second: number
  readonly micro: number
  /** Fractional digits shown when printed (0..6), as MySQL derives them from the argument. */
  readonly dec: number
}

export const MAX_DAY_NUMBER = 3652424 // 9999-12-31
export const TIME_MAX_HOUR = 838

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

export const MONTH_NAMES = [
  "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
  "December"
] as const
export const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const

const div = (a: number, b: number): number => Math.trunc(a / b)

export const daysInYear = (y: number): number => ((y & 3) === 0 && (y % 100 !== 0 || (y % 400 === 0 && y !== 0)) ? 366 : 365)

export const daysInMonth = (y: number, m: number): number =>
  m === 2 && daysInYear(y) === 366 ? 29 : (DAYS_IN_MONTH[m - 1] ?? 31)

/** MySQL's day number of a date (TO_DAYS); also defined for zero month or day parts. */
export const dayNumber = (y: number, m: number, d: number): number => {
  if (y === 0 && m === 0) return 0
  let delsum = 365 * y + 31 * (m - 1) + d
  let yy = y
  if (m <= 2) yy--
  else delsum -= div(m * 4 + 23, 10)
  const temp = div((div(yy, 100) + 1) * 3, 4)
  return delsum + div(yy, 4) - temp
}

/** The date of a day number, or undefined outside 0000-12-31 < day ≤ 9999-12-31 (FROM_DAYS gives a zero date there). */
export const dateOfDayNumber = (daynr: number): readonly [number, number, number] | undefined => {
  if (daynr <= 365 || daynr >= 3652500) return undefined
  let year = div(daynr * 100, 36525)
  const temp = div((div(year - 1, 100) + 1) * 3, 4)
  let dayOfYear = daynr - year * 365 - div(year - 1, 4) + temp
  let diy = daysInYear(year)
  while (dayOfYear > diy) {
    dayOfYear -= diy
    year++
    diy = daysInYear(year)
  }
  let leapDay = 0
  if (diy === 366 && dayOfYear > 59) {
    dayOfYear--
    if (dayOfYear === 59) leapDay = 1
  }
  let month = 1
  for (const dim of DAYS_IN_MONTH) {
    if (dayOfYear <= dim) break
    dayOfYear -= dim
    month++
  }
  return [year, month, dayOfYear + leapDay]
}

/** Day of the week of a day number: 0 = Monday (or 0 = Sunday when `sundayFirst`). */
export const weekdayOf = (daynr: number, sundayFirst: boolean): number => (daynr + 5 + (sundayFirst ? 1 : 0)) % 7

export const WEEK_MONDAY_FIRST = 1
export const WEEK_YEAR = 2
export const WEEK_FIRST_WEEKDAY = 4

/** WEEK()'s mode argument (0..7) to the behaviour bits used by `calcWeek`. */
export const weekMode = (mode: number): number => {
  let f = mode & 7
  if ((f & WEEK_MONDAY_FIRST) === 0) f ^= WEEK_FIRST_WEEKDAY
  return f
}

/** Week number and the year it belongs to, for MySQL's week behaviour bits. */
export const calcWeek = (y: number, m: number, d: number, behaviour: number): { week: number; year: number } => {
  const daynr = dayNumber(y, m, d)
  let firstDaynr = dayNumber(y, 1, 1)
  const mondayFirst = (behaviour & WEEK_MONDAY_FIRST) !== 0
  let weekYear = (behaviour & WEEK_YEAR) !== 0
  const firstWeekday = (behaviour & WEEK_FIRST_WEEKDAY) !== 0
  let weekday = weekdayOf(firstDaynr, !mondayFirst)
  let year = y
  if (m === 1 && d <= 7 - weekday) {
    if (!weekYear && ((firstWeekday && weekday !== 0) || (!firstWeekday && weekday >= 4))) return { week: 0, year }
    weekYear = true
    year--
    const days = daysInYear(year)
    firstDaynr -= days
    weekday = (weekday + 53 * 7 - days) % 7
  }
  let days: number
  if ((firstWeekday && weekday !== 0) || (!firstWeekday && weekday >= 4)) days = daynr - (firstDaynr + (7 - weekday))
  else days = daynr - (firstDaynr - weekday)
  if (weekYear && days >= 52 * 7) {
    weekday = (weekday + daysInYear(year)) % 7
    if ((!firstWeekday && weekday < 4) || (firstWeekday && weekday === 0)) return { week: 1, year: year + 1 }
  }
  return { week: div(days, 7) + 1, year }
}

// ---------------------------------------------------------------------------------------------
// construction

export const makeDate = (year: number, month: number, day: number): Temporal => ({
  type: "date",
  neg: false,
  year,
  month,
  day,
  hour: 0,
  minute: 0,
  second: 0,
  micro: 0,
  dec: 0
})

export const makeDateTime = (
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  micro: number,
  dec: number
): Temporal => ({ type: "datetime", neg: false, year, month, day, hour, minute, second, micro, dec })

export const makeTime = (neg: boolean, hour: number, minute: number, second: number, micro: number, dec: number): Temporal => ({
  type: "time",
  neg: neg && (hour !== 0 || minute !== 0 || second !== 0 || micro !== 0),
  year: 0,
  month: 0,
  day: 0,
  hour,
  minute,
  second,
  micro,
  dec
})

/** A TIME from a signed number of microseconds, clamped to ±838:59:59(.999999 with decimals). */
export const timeFromMicros = (total: bigint, dec: number): Temporal => {
  const neg = total < 0n
  let abs = neg ? -total : total
  const max = (BigInt(TIME_MAX_HOUR) * 3600n + 3599n) * 1_000_000n + (dec > 0 ? maxFraction(dec) : 0n)
  if (abs > max) abs = max
  const secs = Number(abs / 1_000_000n)
  return makeTime(neg, Math.floor(secs / 3600), Math.floor(secs / 60) % 60, secs % 60, Number(abs % 1_000_000n), dec)
}

const maxFraction = (dec: number): bigint => BigInt(10 ** 6 - 10 ** (6 - dec))

/** A DATETIME from a day number and microseconds within the day; undefined out of range. */
export const dateTimeFromDayMicros = (daynr: number, microsOfDay: number, dec: number): Temporal | undefined => {
  const date = dateOfDayNumber(daynr)
  if (date === undefined || daynr > MAX_DAY_NUMBER) return undefined
  const secs = Math.floor(microsOfDay / 1_000_000)
  return makeDateTime(date[0], date[1], date[2], Math.floor(secs / 3600), Math.floor(secs / 60) % 60, secs % 60,
    microsOfDay % 1_000_000, dec)
}

/** Microseconds of the time-of-day part (TIME: the whole signed value). */
export const timeMicros = (t: Temporal): bigint => {
  const v = (BigInt(t.hour) * 3600n + BigInt(t.minute) * 60n + BigInt(t.second)) * 1_000_000n + BigInt(t.micro)
  return t.neg ? -v : v
}

/** Microseconds since 0000-00-00 00:00:00 by MySQL day numbers (a TIME counts from day 0). */
export const totalMicros = (t: Temporal): bigint =>
  (t.type === "time" ? 0n : BigInt(dayNumber(t.year, t.month, t.day)) * 86_400_000_000n) + timeMicros(t)


/** A date with no zero parts (MySQL's NO_ZERO_DATE | NO_ZERO_IN_DATE checks). */
export const hasFullDate = (t: Temporal): boolean => t.type !== "time" && t.month !== 0 && t.day !== 0


// ---------------------------------------------------------------------------------------------
// text

const pad2 = (n: number): string => (n < 10 ? "0" + n : String(n))
const pad4 = (n: number): string => String(n).padStart(4, "0")

export const fraction = (micro: number, dec: number): string =>
  dec > 0 ? "." + String(micro).padStart(6, "0").slice(0, dec) : ""

export const formatDatePart = (t: Temporal): string => pad4(t.year) + "-" + pad2(t.month) + "-" + pad2(t.day)

export const formatTimePart = (t: Temporal): string =>
  pad2(t.hour) + ":" + pad2(t.minute) + ":" + pad2(t.second) + fraction(t.micro, t.dec)

/** MySQL's text of a temporal value. */
export const formatTemporal = (t: Temporal): string => {
  switch (t.type) {
    case "date":
      return formatDatePart(t)
    case "datetime":
      return formatDatePart(t) + " " + formatTimePart(t)
    case "time":
      return (t.neg ? "-" : "") + formatTimePart(t)
  }
}

// ---------------------------------------------------------------------------------------------
// parsing

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12
const isPunct = (c: number): boolean =>
  (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)

const year2000 = (y: number): number => (y < 70 ? y + 2000 : y + 1900)

/** Microseconds and shown decimals from fraction digits ('5' → 500000, 1). */
const parseFraction = (digits: string): { micro: number; dec: number } => {
  if (digits.length === 0) return { micro: 0, dec: 0 }
  const six = digits.length >= 6 ? digits.slice(0, 6) : digits.padEnd(6, "0")
  return { micro: Number(six), dec: Math.min(6, digits.length) }
}

const validDateTime = (
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number
): boolean =>
  y <= 9999 && mo <= 12 && d <= 31 && h <= 23 && mi <= 59 && s <= 59 && (mo === 0 || d === 0 || d <= daysInMonth(y, mo))

/** 'YYYYMMDD[HHMMSS]' or 'YYMMDD[HHMMSS]' digit runs. */
const parseCompact = (digits: string, frac: string): Temporal | undefined => {
  const n = digits.length
  const yl = n === 4 || n === 8 || n >= 14 ? 4 : 2
  const widths = [yl, 2, 2, 2, 2, 2]
  const parts: Array<number> = []
  let pos = 0
  for (const w of widths) {
    if (pos >= n) break
    parts.push(Number(digits.slice(pos, pos + w)))
    pos += w
  }
  if (pos < n || parts.length < 3 || (parts.length === 3 && frac !== "")) return undefined
  let [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = parts
  if (yl === 2) y = year2000(y)
  if (!validDateTime(y, mo, d, h, mi, s)) return undefined
  if (parts.length <= 3 && frac === "") return makeDate(y, mo, d)
  const f = parseFraction(frac)
  return makeDateTime(y, mo, d, h, mi, s, f.micro, f.dec)
}

/**
 * Parses a DATE or DATETIME string as MySQL does: 'Y-M-D[( |T)h:m[:s[.f]]]' with any punctuation
 * as delimiters, 1–4 digit years (two digits mean 1970–2069), compact digit runs, and trailing
 * garbage ignored (MySQL only warns). Undefined when no valid value is there.
 */
export const parseDateTimeString = (str: string): Temporal | undefined => {
  const n = str.length
  let i = 0
  while (i < n && isSpace(str.charCodeAt(i))) i++
  const start = i
  while (i < n && isDigit(str.charCodeAt(i))) i++
  const firstLen = i - start
  if (firstLen === 0) return undefined
  if (firstLen >= 5 || i === n) {
    // Compact form, possibly followed by a fraction.
    let frac = ""
    if (str[i] === ".") {
      let j = i + 1
      while (j < n && isDigit(str.charCodeAt(j))) j++
      frac = str.slice(i + 1, j)
    }
    return parseCompact(str.slice(start, start + firstLen), frac)
  }
  const yearText = str.slice(start, i)
  const groups: Array<number> = [Number(yearText)]
  // month and day, each after one punctuation character
  while (groups.length < 3) {
    if (i >= n || !isPunct(str.charCodeAt(i))) return undefined
    i++
    const s0 = i
    while (i < n && isDigit(str.charCodeAt(i))) i++
    if (i === s0) return undefined
    groups.push(Number(str.slice(s0, i)))
  }
  let y = groups[0] ?? 0
  if (yearText.length <= 2) y = year2000(y)
  const mo = groups[1] ?? 0
  const d = groups[2] ?? 0
  // time part: after 'T' or whitespace (or one punctuation character)
  let j = i
  let sawSep = false
  if (j < n && (str[j] === "T" || isSpace(str.charCodeAt(j)))) {
    j++
    while (j < n && isSpace(str.charCodeAt(j))) j++
    sawSep = true
  } else if (j < n && isPunct(str.charCodeAt(j)) && j + 1 < n && isDigit(str.charCodeAt(j + 1))) {
    j++
    sawSep = true
  }
  const time: Array<number> = []
  let frac = ""
  if (sawSep && j < n && isDigit(str.charCodeAt(j))) {
    while (time.length < 3) {
      const s0 = j
      while (j < n && isDigit(str.charCodeAt(j))) j++
      if (j === s0) break
      time.push(Number(str.slice(s0, j)))
      if (time.length < 3 && j < n && isPunct(str.charCodeAt(j)) && j + 1 < n && isDigit(str.charCodeAt(j + 1))) j++
      else break
    }
    if (time.length === 3 && str[j] === "." && isDigit(str.charCodeAt(j + 1))) {
      const s0 = j + 1
      let k = s0
      while (k < n && isDigit(str.charCodeAt(k))) k++
      frac = str.slice(s0, k)
    }
  }
  const [h = 0, mi = 0, s = 0] = time
  if (!validDateTime(y, mo, d, h, mi, s)) return undefined
  if (time.length === 0) return makeDate(y, mo, d)
  const f = parseFraction(frac)
  return makeDateTime(y, mo, d, h, mi, s, f.micro, f.dec)
}

/** MySQL's reading of an integer as a date or datetime (YYMMDD, YYYYMMDD, YYMMDDhhmmss, YYYYMMDDhhmmss). */
export const dateTimeFromInteger = (v: bigint, micro = 0, dec = 0): Temporal | undefined => {
  let n = v
  if (n === 0n) return makeDateTime(0, 0, 0, 0, 0, 0, 0, 0)
  if (n < 101n) return undefined
  let dateOnly = true
  if (n <= 691231n) n = (n + 20000000n) * 1000000n
  else if (n < 700101n) return undefined
  else if (n <= 991231n) n = (n + 19000000n) * 1000000n
  else if (n < 10000101n) return undefined
  else if (n <= 99991231n) n = n * 1000000n
  else {
    dateOnly = false
    if (n < 101000000n) return undefined
    else if (n <= 691231235959n) n = n + 20000000000000n
    else if (n < 700101000000n) return undefined
    else if (n <= 991231235959n) n = n + 19000000000000n
    else if (n > 99991231235959n) return undefined
  }
  const s = Number(n % 100n)
  const mi = Number((n / 100n) % 100n)
  const h = Number((n / 10000n) % 100n)
  const d = Number((n / 1000000n) % 100n)
  const mo = Number((n / 100000000n) % 100n)
  const y = Number(n / 10000000000n)
  if (!validDateTime(y, mo, d, h, mi, s)) return undefined
  return dateOnly && micro === 0 && dec === 0 ? makeDate(y, mo, d) : makeDateTime(y, mo, d, h, mi, s, micro, dec)
}

/** Integer part, microseconds and decimals of a double as MySQL's exact decimal text shows it. */
const splitDouble = (x: number): { int: bigint; micro: number; dec: number; neg: boolean } => {
  const neg = x < 0
  const text = Math.abs(x).toFixed(6).replace(/0+$/, "")
  const dot = text.indexOf(".")
  const intPart = dot < 0 ? text : text.slice(0, dot)
  const fracPart = dot < 0 ? "" : text.slice(dot + 1)
  const f = parseFraction(fracPart)
  return { int: BigInt(intPart), micro: f.micro, dec: f.dec, neg }
}

/** A DATE/DATETIME argument (MySQL get_date). Undefined for NULL, garbage and invalid dates. */
export const dateTimeArg = (v: SqlValue): Temporal | undefined => {
  if (v === null) return undefined
  if (typeof v === "bigint") return dateTimeFromInteger(v)
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v < 0) return undefined
    const p = splitDouble(v)
    return dateTimeFromInteger(p.int, p.micro, p.dec)
  }
  return parseDateTimeString(typeof v === "string" ? v : v.toString("latin1"))
}

const TIME_RE = /^(-)?(?:(\d+)\s+)?(\d+):(\d+)(?::(\d+))?(?:\.(\d*))?/
const DATE_LIKE_RE = /^-?\d{1,4}[^\d\s:]\d{1,2}[^\d\s:]\d{1,2}/

/** A TIME from hours/minutes/seconds, clamping hours above 838 like MySQL. */
const clampedTime = (neg: boolean, h: number, mi: number, s: number, micro: number, dec: number): Temporal | undefined => {
  if (mi > 59 || s > 59) return undefined
  if (h > TIME_MAX_HOUR) return makeTime(neg, TIME_MAX_HOUR, 59, 59, dec > 0 ? Number(maxFraction(dec)) : 0, dec)
  return makeTime(neg, h, mi, s, micro, dec)
}

/** [-]HHH…MMSS digits as a TIME (hours beyond 838 clamp; minutes or seconds above 59 are invalid). */
const timeFromDigits = (neg: boolean, v: bigint, micro: number, dec: number): Temporal | undefined =>
  clampedTime(neg, v / 10000n > 100000n ? 100000 : Number(v / 10000n), Number((v / 100n) % 100n), Number(v % 100n), micro, dec)

/** MySQL's TIME from an integer [-]HHMMSS; integers of eight digits or more are read as datetimes. */
const timeFromInteger = (v: bigint, micro: number, dec: number): Temporal | undefined => {
  const neg = v < 0n
  const abs = neg ? -v : v
  if (abs >= 10000000n) return neg ? undefined : dateTimeFromInteger(abs, micro, dec)
  return timeFromDigits(neg, abs, micro, dec)
}

/**
 * Parses a TIME string: '[-][D ]h:m[:s[.f]]', '[-]hhmmss[.f]' digits, or a datetime (whose
 * time part is then used). Undefined when nothing valid is there.
 */
export const parseTimeString = (str: string): Temporal | undefined => {
  const s = str.trimStart()
  const date = DATE_LIKE_RE.exec(s)
  if (date !== null) {
    // A datetime gives its time of day; a bare date is read as a number of the leading digits ('2024-01-05' → 00:20:24).
    const dt = parseDateTimeString(s)
    if (dt !== undefined && dt.type === "datetime") return dt
    if (/^[T\s]+\d/.test(s.slice(date[0].length))) return undefined
  }
  const m = TIME_RE.exec(s)
  if (m !== null) {
    const f = parseFraction(m[6] ?? "")
    const days = m[2] === undefined ? 0 : Number(m[2])
    return clampedTime(m[1] !== undefined, days * 24 + Number(m[3]), Number(m[4]), Number(m[5] ?? 0), f.micro, f.dec)
  }
  const d = /^(-)?(\d+)(?:\.(\d*))?/.exec(s)
  if (d === null || d[2] === undefined) return undefined
  const f = parseFraction(d[3] ?? "")
  // Twelve digits or more are a datetime; shorter runs are [H…]HHMMSS.
  if (d[2].length >= 12) return d[1] === undefined ? parseCompact(d[2], d[3] ?? "") : undefined
  return timeFromDigits(d[1] !== undefined, BigInt(d[2]), f.micro, f.dec)
}

/** A TIME argument (MySQL's Time with cast options): datetimes give their time of day. */
export const timeArg = (v: SqlValue): Temporal | undefined => {
  if (v === null) return undefined
  if (typeof v === "bigint") return timeFromInteger(v, 0, 0)
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return undefined
    const p = splitDouble(v)
    return timeFromInteger(p.neg ? -p.int : p.int, p.micro, p.dec)
  }
  return parseTimeString(typeof v === "string" ? v : v.toString("latin1"))
}

/** The time-of-day of a value read by `timeArg` as a TIME (a datetime's date is dropped). */
export const asTime = (t: Temporal): Temporal =>
  t.type === "time" ? t : makeTime(false, t.hour, t.minute, t.second, t.micro, t.dec)
