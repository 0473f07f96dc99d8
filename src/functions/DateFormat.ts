/**
 * DATE_FORMAT / TIME_FORMAT output and STR_TO_DATE input with MySQL's format specifiers.
 */
import {
  calcWeek,
  DAY_NAMES,
  dateOfDayNumber,
  dayNumber,
  daysInMonth,
  makeDate,
  makeDateTime,
  makeTime,
  MONTH_NAMES,
  type Temporal,
  weekdayOf,
  WEEK_FIRST_WEEKDAY,
  WEEK_MONDAY_FIRST,
  WEEK_YEAR
} from "./Temporal.ts"

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

const daySuffix = (d: number): string => {
  if (d >= 10 && d <= 19) return "th"
  switch (d % 10) {
    case 1:
      return "st"
    case 2:
      return "nd"
    case 3:
      return "rd"
    default:
      return "th"
  }
}

/**
 * Formats a value with a DATE_FORMAT pattern. With `timeOnly` (TIME_FORMAT) the date specifiers
 * give NULL. Also NULL when a name is asked of a zero month or a weekday of a zero date.
 */
export const formatWithPattern = (t: Temporal, format: string, timeOnly: boolean): string | null => {
  let out = t.neg ? "-" : ""
  const n = format.length
  const h12 = (t.hour % 24 + 11) % 12 + 1
  for (let i = 0; i < n; i++) {
    const c = format[i]!
    if (c !== "%" || i + 1 === n) {
      out += c
      continue
    }
    const spec = format[++i]!
    if (timeOnly && "MbWaDYymcdejUuVvXxw".includes(spec)) return null
    switch (spec) {
      case "M":
        if (t.month === 0) return null
        out += MONTH_NAMES[t.month - 1]
        break
      case "b":
        if (t.month === 0) return null
        out += MONTH_NAMES[t.month - 1]!.slice(0, 3)
        break
      case "W":
      case "a": {
        if (t.month === 0 && t.year === 0) return null
        const name = DAY_NAMES[weekdayOf(dayNumber(t.year, t.month, t.day), false)]!
        out += spec === "W" ? name : name.slice(0, 3)
        break
      }
      case "D":
        out += String(t.day) + daySuffix(t.day)
        break
      case "Y":
        out += pad(t.year, 4)
        break
      case "y":
        out += pad(t.year % 100, 2)
        break
      case "m":
        out += pad(t.month, 2)
        break
      case "c":
        out += String(t.month)
        break
      case "d":
        out += pad(t.day, 2)
        break
      case "e":
        out += String(t.day)
        break
      case "f":
        out += pad(t.micro, 6)
        break
      case "H":
        out += pad(t.hour, 2)
        break
      case "h":
      case "I":
        out += pad(h12, 2)
        break
      case "i":
        out += pad(t.minute, 2)
        break
      case "j":
        if (t.month === 0 || t.year === 0) return null
        out += pad(dayNumber(t.year, t.month, t.day) - dayNumber(t.year, 1, 1) + 1, 3)
        break
      case "k":
        out += String(t.hour)
        break
      case "l":
        out += String(h12)
        break
      case "p":
        out += t.hour % 24 < 12 ? "AM" : "PM"
        break
      case "r":
        out += pad((t.hour + 11) % 12 + 1, 2) + ":" + pad(t.minute, 2) + ":" + pad(t.second, 2) +
          (t.hour % 24 < 12 ? " AM" : " PM")
        break
      case "S":
      case "s":
        out += pad(t.second, 2)
        break
      case "T":
        out += pad(t.hour, 2) + ":" + pad(t.minute, 2) + ":" + pad(t.second, 2)
        break
      case "U":
      case "u":
        out += pad(calcWeek(t.year, t.month, t.day, spec === "U" ? WEEK_FIRST_WEEKDAY : WEEK_MONDAY_FIRST).week, 2)
        break
      case "V":
      case "v":
        out += pad(
          calcWeek(t.year, t.month, t.day, WEEK_YEAR | (spec === "V" ? WEEK_FIRST_WEEKDAY : WEEK_MONDAY_FIRST)).week,
          2
        )
        break
      case "X":
      case "x":
        out += pad(
          calcWeek(t.year, t.month, t.day, WEEK_YEAR | (spec === "X" ? WEEK_FIRST_WEEKDAY : WEEK_MONDAY_FIRST)).year,
          4
        )
        break
      case "w":
        if (t.month === 0 && t.year === 0) return null
        out += String(weekdayOf(dayNumber(t.year, t.month, t.day), true))
        break
      default:
        out += spec
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// STR_TO_DATE

type ResultKind = "date" | "time" | "time6" | "datetime" | "datetime6"

/** What STR_TO_DATE returns for a format: DATE, TIME or DATETIME, with microseconds when %f is used. */
const resultKind = (format: string): ResultKind => {
  let date = false
  let time = false
  let frac = false
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== "%" || i + 1 === format.length) continue
    const c = format[++i]!
    if (c === "f") frac = time = true
    else if ("HISThiklrs".includes(c)) time = true
    else if ("MVUXYWabcjmvuxyw".includes(c)) date = true
  }
  if (frac) return date ? "datetime6" : "time6"
  if (time) return date ? "datetime" : "time"
  return "date"
}

interface Parsed {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  micro: number
}

const isSpace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\r"
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9"
const isAlpha = (c: string | undefined): boolean => c !== undefined && /[A-Za-z]/.test(c)
const isPunct = (c: string | undefined): boolean => c !== undefined && /[!-/:-@[-`{-~]/.test(c)

/** Reads up to `max` characters as a signed integer (MySQL my_strtoll10); undefined when no digit. */
const readInt = (s: string, pos: number, max: number): { value: number; end: number } | undefined => {
  let i = pos
  const limit = Math.min(s.length, pos + max)
  let neg = false
  if (i < limit && (s[i] === "-" || s[i] === "+")) {
    neg = s[i] === "-"
    i++
  }
  const start = i
  while (i < limit && isDigit(s[i])) i++
  if (i === start) return undefined
  const v = Number(s.slice(start, i))
  return { value: neg ? -v : v, end: i }
}

/** Index (1-based) of the name that starts the text, by unique case-insensitive prefix. */
const readWord = (s: string, pos: number, names: ReadonlyArray<string>): { value: number; end: number } | undefined => {
  let end = pos
  while (end < s.length && isAlpha(s[end])) end++
  const word = s.slice(pos, end).toLowerCase()
  if (word.length === 0) return undefined
  const hits = names.flatMap((name, k) => (name.toLowerCase().startsWith(word) ? [k] : []))
  const exact = names.findIndex((name) => name.toLowerCase() === word)
  const k = exact >= 0 ? exact : hits.length === 1 ? hits[0]! : -1
  return k < 0 ? undefined : { value: k + 1, end }
}

const ABBR_MONTHS = MONTH_NAMES.map((m) => m.slice(0, 3))
const ABBR_DAYS = DAY_NAMES.map((d) => d.slice(0, 3))

interface Extra {
  weekday: number
  yearday: number
  daypart: number
  usaTime: boolean
  weekNumber: number
  sundayFirst: boolean
  strictWeek: boolean
  strictYear: number
  strictYearSundayFirst: boolean
}

/** Matches `value` against `format` from `pos`; returns the end position, or undefined on mismatch. */
const extract = (format: string, value: string, start: number, p: Parsed, x: Extra): number | undefined => {
  let v = start
  const n = value.length
  for (let f = 0; f < format.length && v < n; f++) {
    while (v < n && isSpace(value[v])) v++
    if (v >= n) break
    const fc = format[f]!
    if (fc === "%" && f + 1 < format.length) {
      const spec = format[++f]!
      let r: { value: number; end: number } | undefined
      switch (spec) {
        case "Y":
          r = readInt(value, v, 4)
          if (r === undefined) return undefined
          p.year = r.end - v <= 2 ? (r.value < 70 ? r.value + 2000 : r.value + 1900) : r.value
          v = r.end
          break
        case "y":
          r = readInt(value, v, 2)
          if (r === undefined) return undefined
          p.year = r.value < 70 ? r.value + 2000 : r.value + 1900
          v = r.end
          break
        case "m":
        case "c":
          if ((r = readInt(value, v, 2)) === undefined) return undefined
          p.month = r.value
          v = r.end
          break
        case "M":
        case "b":
          if ((r = readWord(value, v, spec === "M" ? MONTH_NAMES : ABBR_MONTHS)) === undefined) return undefined
          p.month = r.value
          v = r.end
          break
        case "d":
        case "e":
          if ((r = readInt(value, v, 2)) === undefined) return undefined
          p.day = r.value
          v = r.end
          break
        case "D":
          if ((r = readInt(value, v, 2)) === undefined) return undefined
          p.day = r.value
          v = Math.min(n, r.end + 2)
          break
        case "h":
        case "I":
        case "l":
        case "k":
        case "H":
          if (spec === "h" || spec === "I" || spec === "l") x.usaTime = true
          if ((r = readInt(value, v, 2)) === undefined) return undefined
          p.hour = r.value
          v = r.end
          break
        case "i":
          if ((r = readInt(value, v, 2)) === undefined) return undefined
          p.minute = r.value
          v = r.end
          break
        case "s":
        case "S":
          if ((r = readInt(value, v, 2)) === undefined) return undefined
          p.second = r.value
          v = r.end
          break
        case "f": {
          let e = v
          while (e < n && e - v < 6 && isDigit(value[e])) e++
          if (e === v) return undefined
          p.micro = Number(value.slice(v, e).padEnd(6, "0"))
          v = e
          break
        }
        case "p": {
          if (n - v < 2 || !x.usaTime) return undefined
          const ap = value.slice(v, v + 2).toUpperCase()
          if (ap === "PM") x.daypart = 12
          else if (ap !== "AM") return undefined
          v += 2
          break
        }
        case "W":
        case "a":
          if ((r = readWord(value, v, spec === "W" ? DAY_NAMES : ABBR_DAYS)) === undefined) return undefined
          x.weekday = r.value
          v = r.end
          break
        case "w":
          if ((r = readInt(value, v, 1)) === undefined || r.value < 0 || r.value >= 7) return undefined
          x.weekday = r.value === 0 ? 7 : r.value
          v = r.end
          break
        case "j":
          if ((r = readInt(value, v, 3)) === undefined) return undefined
          x.yearday = r.value
          v = r.end
          break
        case "V":
        case "U":
        case "v":
        case "u":
          x.sundayFirst = spec === "U" || spec === "V"
          x.strictWeek = spec === "V" || spec === "v"
          r = readInt(value, v, 2)
          if (r === undefined || r.value < 0 || (x.strictWeek && r.value === 0) || r.value > 53) return undefined
          x.weekNumber = r.value
          v = r.end
          break
        case "X":
        case "x":
          x.strictYearSundayFirst = spec === "X"
          if ((r = readInt(value, v, 4)) === undefined) return undefined
          x.strictYear = r.value
          v = r.end
          break
        case "r": {
          const sub = { ...x, usaTime: false, daypart: 0 }
          const e = extract("%I:%i:%S %p", value, v, p, sub)
          if (e === undefined || p.hour > 12 || p.hour < 1) return undefined
          p.hour = (p.hour % 12) + sub.daypart
          v = e
          break
        }
        case "T": {
          const e = extract("%H:%i:%S", value, v, p, { ...x })
          if (e === undefined) return undefined
          v = e
          break
        }
        case ".":
          while (v < n && isPunct(value[v])) v++
          break
        case "@":
          while (v < n && isAlpha(value[v])) v++
          break
        case "#":
          while (v < n && isDigit(value[v])) v++
          break
        default:
          return undefined
      }
    } else if (!isSpace(fc)) {
      if (value[v] !== fc) return undefined
      v++
    }
  }
  return v
}

/** STR_TO_DATE(value, format): a DATE, TIME or DATETIME, or null when the value does not match. */
export const strToDate = (value: string, format: string): Temporal | null => {
  const p: Parsed = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, micro: 0 }
  const x: Extra = {
    weekday: 0,
    yearday: 0,
    daypart: 0,
    usaTime: false,
    weekNumber: -1,
    sundayFirst: false,
    strictWeek: false,
    strictYear: -1,
    strictYearSundayFirst: false
  }
  if (extract(format, value, 0, p, x) === undefined) return null
  if (x.usaTime) {
    if (p.hour > 12 || p.hour < 1) return null
    p.hour = (p.hour % 12) + x.daypart
  }
  if (x.yearday > 0) {
    const date = dateOfDayNumber(dayNumber(p.year, 1, 1) + x.yearday - 1)
    if (date === undefined) return null
    ;[p.year, p.month, p.day] = date
  }
  if (x.weekNumber >= 0 && x.weekday !== 0) {
    if (
      (x.strictWeek && (x.strictYear < 0 || x.strictYearSundayFirst !== x.sundayFirst)) ||
      (!x.strictWeek && x.strictYear >= 0)
    ) return null
    let days = dayNumber(x.strictWeek ? x.strictYear : p.year, 1, 1)
    const weekdayB = weekdayOf(days, x.sundayFirst)
    if (x.sundayFirst) days += (weekdayB === 0 ? 0 : 7) - weekdayB + (x.weekNumber - 1) * 7 + (x.weekday % 7)
    else days += (weekdayB <= 3 ? 0 : 7) - weekdayB + (x.weekNumber - 1) * 7 + (x.weekday - 1)
    const date = dateOfDayNumber(days)
    if (date === undefined) return null
    ;[p.year, p.month, p.day] = date
  }
  if (p.month > 12 || p.day > 31 || p.hour > 23 || p.minute > 59 || p.second > 59) return null
  if (p.year < 0 || p.year > 9999 || p.month < 0 || p.day < 0 || p.hour < 0 || p.minute < 0 || p.second < 0) return null
  if (p.month !== 0 && p.day > daysInMonth(p.year, p.month) && p.day > 31) return null
  switch (resultKind(format)) {
    case "date":
      return makeDate(p.year, p.month, p.day)
    case "time":
    case "time6":
      return makeTime(false, p.hour + p.day * 24, p.minute, p.second, p.micro, resultKind(format) === "time6" ? 6 : 0)
    case "datetime":
      return makeDateTime(p.year, p.month, p.day, p.hour, p.minute, p.second, 0, 0)
    case "datetime6":
      return makeDateTime(p.year, p.month, p.day, p.hour, p.minute, p.second, p.micro, 6)
  }
}
