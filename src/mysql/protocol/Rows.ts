/**
 * Result-set row encoders (text and binary protocol). Re-exported from Encode.ts.
 *
 * SQLite is dynamically typed, so a value need not match its column's declared type. The text
 * protocol carries everything as strings anyway. The binary protocol cannot: each value must be
 * encoded in its column's wire type, so mismatches are coerced the way MySQL converts values:
 *   - numeric columns: numbers as is (rounded half away from zero and clamped for integer
 *     columns), bigints clamped, booleans 1/0, strings and bytes by their leading numeric prefix
 *     ('12abc' → 12, 'abc' → 0);
 *   - DATE/DATETIME/TIMESTAMP and TIME columns: parsed from the value's text; anything
 *     unparseable becomes the zero value (length 0);
 *   - every other column: bytes as is, everything else as its text form.
 */
import { ColumnFlag, ColumnType } from "./Constants.ts"
import type { ColumnDef } from "./Encode.ts"
import type { ResponseBuffer } from "./ResponseBuffer.ts"
import { numericOf, parseDateTime, parseTime, textOf, toInt64, toIntegerInRange } from "./Values.ts"

/** Writes one text-protocol row: each value a length-encoded string, NULL as 0xfb. */
export const writeTextRow = (out: ResponseBuffer, values: ReadonlyArray<unknown>): void => {
  out.begin()
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined) out.u8(0xfb)
    else if (typeof v === "string") out.lenencString(v)
    else if (v instanceof Uint8Array) out.lenencString(v)
    else out.lenencString(textOf(v))
  }
  out.end()
}

/** Writes one binary-protocol row (COM_STMT_EXECUTE result sets). */
export const writeBinaryRow = (
  out: ResponseBuffer,
  columns: ReadonlyArray<ColumnDef>,
  values: ReadonlyArray<unknown>
): void => {
  const n = values.length
  out.begin().u8(0x00)
  // NULL bitmap with an offset of 2 bits.
  const bitmapBytes = (n + 9) >> 3
  for (let b = 0; b < bitmapBytes; b++) {
    let byte = 0
    for (let bit = 0; bit < 8; bit++) {
      const idx = b * 8 + bit - 2
      if (idx >= 0 && idx < n) {
        const v = values[idx]
        if (v === null || v === undefined) byte |= 1 << bit
      }
    }
    out.u8(byte)
  }
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (v === null || v === undefined) continue
    const col = columns[i]
    writeBinaryValue(out, col === undefined ? ColumnType.VAR_STRING : col.type, col?.flags ?? 0, v)
  }
  out.end()
}

const writeBinaryValue = (out: ResponseBuffer, type: number, flags: number, v: unknown): void => {
  const unsigned = (flags & ColumnFlag.UNSIGNED) !== 0
  switch (type) {
    case ColumnType.TINY:
      out.u8(unsigned ? toIntegerInRange(v, 0, 0xff) : toIntegerInRange(v, -0x80, 0x7f))
      return
    case ColumnType.SHORT:
      out.u16(unsigned ? toIntegerInRange(v, 0, 0xffff) : toIntegerInRange(v, -0x8000, 0x7fff))
      return
    case ColumnType.YEAR:
      out.u16(toIntegerInRange(v, 0, 0xffff))
      return
    case ColumnType.LONG:
    case ColumnType.INT24:
      out.u32(unsigned ? toIntegerInRange(v, 0, 0xffffffff) : toIntegerInRange(v, -0x80000000, 0x7fffffff))
      return
    case ColumnType.LONGLONG:
      out.u64(typeof v === "number" && Number.isSafeInteger(v) && (v >= 0 || !unsigned) ? v : toInt64(v, unsigned))
      return
    case ColumnType.FLOAT:
      out.floatLE(Number(numericOf(v)))
      return
    case ColumnType.DOUBLE:
      out.doubleLE(typeof v === "number" ? v : Number(numericOf(v)))
      return
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
      writeDateTime(out, v, true)
      return
    case ColumnType.DATETIME:
    case ColumnType.DATETIME2:
    case ColumnType.TIMESTAMP:
    case ColumnType.TIMESTAMP2:
      writeDateTime(out, v, false)
      return
    case ColumnType.TIME:
    case ColumnType.TIME2:
      writeTime(out, v)
      return
    default:
      if (typeof v === "string") out.lenencString(v)
      else if (v instanceof Uint8Array) out.lenencString(v)
      else out.lenencString(textOf(v))
  }
}

const textForTemporal = (v: unknown): string =>
  v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("latin1") : textOf(v)

/** Compact DATE/DATETIME: length 0, 4 (date), 7 (+ time) or 11 (+ microseconds). */
const writeDateTime = (out: ResponseBuffer, v: unknown, dateOnly: boolean): void => {
  const t = parseDateTime(textForTemporal(v))
  if (t === undefined) {
    out.u8(0)
    return
  }
  const micro = dateOnly ? 0 : t.micro
  const hasTime = !dateOnly && (t.hour | t.minute | t.second) !== 0
  const len = micro !== 0 ? 11 : hasTime ? 7 : (t.year | t.month | t.day) !== 0 ? 4 : 0
  out.u8(len)
  if (len === 0) return
  out.u16(t.year).u8(t.month).u8(t.day)
  if (len === 4) return
  out.u8(t.hour).u8(t.minute).u8(t.second)
  if (len === 11) out.u32(micro)
}

/** TIME: length 0, 8 or 12 (sign, days, h, m, s[, microseconds]). */
const writeTime = (out: ResponseBuffer, v: unknown): void => {
  const t = parseTime(textForTemporal(v))
  if (t === undefined || (t.day | t.hour | t.minute | t.second | t.micro) === 0) {
    out.u8(0)
    return
  }
  out
    .u8(t.micro !== 0 ? 12 : 8)
    .u8(t.negative ? 1 : 0)
    .u32(t.day)
    .u8(t.hour)
    .u8(t.minute)
    .u8(t.second)
  if (t.micro !== 0) out.u32(t.micro)
}
