/**
 * Time zones for NOW(), UNIX_TIMESTAMP(), FROM_UNIXTIME() and CONVERT_TZ().
 *
 * The session time zone is MySQL's SYSTEM zone, which is the process's local zone (TZ); named
 * zones come from Intl (the IANA database Node ships), offsets are '+hh:mm'.
 * Local times that do not exist (a DST gap) map to the end of the gap and ambiguous ones (a DST
 * overlap) to their first occurrence, as MySQL does.
 */

export interface Zone {
  /** Offset from UTC in seconds at a UTC instant (seconds since the epoch). */
  readonly offsetAt: (utcSeconds: number) => number
}

export const systemZone: Zone = {
  offsetAt: (utc) => -new Date(utc * 1000).getTimezoneOffset() * 60
}

export const utcZone: Zone = { offsetAt: () => 0 }

const fixedZone = (offset: number): Zone => ({ offsetAt: () => offset })

const intlZone = (name: string): Zone | undefined => {
  let fmt: Intl.DateTimeFormat
  try {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short"
    })
  } catch {
    return undefined
  }
  return {
    offsetAt: (utc) => {
      const parts = fmt.formatToParts(new Date(utc * 1000))
      const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0)
      const bc = parts.find((p) => p.type === "era")?.value === "BC"
      const year = bc ? 1 - get("year") : get("year")
      const d = new Date(0)
      d.setUTCFullYear(year, get("month") - 1, get("day"))
      d.setUTCHours(get("hour"), get("minute"), get("second"), 0)
      return Math.round(d.getTime() / 1000) - Math.floor(utc)
    }
  }
}

const OFFSET_RE = /^([+-])(\d{1,2}):(\d{2})$/
const zoneCache = new Map<string, Zone | undefined>()

/** A time zone by MySQL name: 'SYSTEM', '+hh:mm' (within ±13:00) or an IANA name (any case). */
export const findZone = (name: string): Zone | undefined => {
  const key = name.trim()
  if (key.toUpperCase() === "SYSTEM") return systemZone
  const m = OFFSET_RE.exec(key)
  if (m !== null) {
    const minutes = Number(m[3])
    const secs = Number(m[2]) * 3600 + minutes * 60
    if (minutes > 59 || secs > 13 * 3600) return undefined
    return fixedZone(m[1] === "-" ? -secs : secs)
  }
  if (zoneCache.has(key)) return zoneCache.get(key)
  const zone = intlZone(key)
  if (zoneCache.size > 1000) zoneCache.clear()
  zoneCache.set(key, zone)
  return zone
}

/** The UTC instant of a wall-clock time (seconds since the epoch, read as if UTC) in a zone. */
export const localToUtc = (zone: Zone, wall: number): number => {
  const before = zone.offsetAt(wall - 86400)
  const after = zone.offsetAt(wall + 86400)
  const candidates: Array<number> = []
  for (const o of before === after ? [before] : [before, after]) {
    if (zone.offsetAt(wall - o) === o) candidates.push(wall - o)
  }
  if (candidates.length > 0) return Math.min(...candidates)
  // In a gap: the first instant that has the later offset.
  let lo = Math.min(wall - before, wall - after)
  let hi = Math.max(wall - before, wall - after)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (zone.offsetAt(mid) === after) hi = mid
    else lo = mid
  }
  return hi
}
