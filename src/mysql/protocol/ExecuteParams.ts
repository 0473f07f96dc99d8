/**
 * Decoding of COM_STMT_EXECUTE parameter values (binary protocol). Re-exported from Decode.ts.
 */
import { isUtf8 } from "node:buffer"
import { Cursor } from "./Buffers.ts"
import { ColumnType, CursorFlag } from "./Constants.ts"
import { ProtocolError } from "./ProtocolError.ts"
import { formatDate, formatDateTime, formatTime } from "./Values.ts"

export interface ParamType {
  readonly type: number
  readonly unsigned: boolean
}

export type ParamValue = null | number | bigint | string | Buffer

export interface ExecuteParams {
  readonly values: Array<ParamValue>
  readonly types: ReadonlyArray<ParamType>
}

/** What decodeExecuteParams needs to know about query attributes (a StmtExecute command fits). */
export interface ExecuteAttributesInfo {
  /** The COM_STMT_EXECUTE flags byte. */
  readonly flags: number
  /** Whether CLIENT_QUERY_ATTRIBUTES was negotiated. */
  readonly queryAttributes: boolean
}

const truncated = (what: string) => new ProtocolError({ message: `truncated ${what}` })

/**
 * Decodes the parameter block of COM_STMT_EXECUTE. `body` is everything after the 10-byte
 * header (command, statement id, flags, iteration count). With CLIENT_QUERY_ATTRIBUTES, pass the
 * command as `attributes`: a parameter count may then lead the block and every type carries a
 * name; attribute values beyond `paramCount` are decoded (to validate the packet) and dropped.
 * Parameters present in `longData` (COM_STMT_SEND_LONG_DATA chunks) are not read from `body`.
 */
export const decodeExecuteParams = (
  body: Buffer,
  paramCount: number,
  previousTypes: ReadonlyArray<ParamType> | undefined,
  longData: ReadonlyMap<number, ReadonlyArray<Buffer>> | undefined,
  attributes?: ExecuteAttributesInfo
): ExecuteParams | ProtocolError => {
  const c = new Cursor(body)
  const named = attributes?.queryAttributes === true
  let total = paramCount
  if (named && (attributes.flags & CursorFlag.PARAMETER_COUNT_AVAILABLE) !== 0) {
    total = c.lenencInt()
    if (!c.ok) return truncated("parameter count")
    if (total < paramCount) {
      return new ProtocolError({ message: `expected ${paramCount} parameters, got ${total}` })
    }
  }
  const r = readParams(c, total, previousTypes, longData, named)
  if (r instanceof ProtocolError || total === paramCount) return r
  r.values.length = paramCount
  return { values: r.values, types: r.types.slice(0, paramCount) }
}

/**
 * Reads a parameter block (NULL bitmap, new-params-bound flag, types[, names], values) of
 * `count` parameters from `c`. Shared by COM_STMT_EXECUTE and COM_QUERY query attributes.
 */
export const readParams = (
  c: Cursor,
  count: number,
  previousTypes: ReadonlyArray<ParamType> | undefined,
  longData: ReadonlyMap<number, ReadonlyArray<Buffer>> | undefined,
  named: boolean
): ExecuteParams | ProtocolError => {
  if (count === 0) return { values: [], types: [] }
  if (count > c.remaining * 8) return truncated("NULL bitmap")
  const bitmap = c.bytes((count + 7) >> 3)
  const bound = c.u8()
  if (!c.ok) return truncated("parameter block")
  let types: ReadonlyArray<ParamType>
  if (bound === 1) {
    if (count * 2 > c.remaining) return truncated("parameter types")
    const fresh = new Array<ParamType>(count)
    for (let i = 0; i < count; i++) {
      const type = c.u8()
      const flag = c.u8()
      if (named) c.lenencBytes() // parameter name: unused
      fresh[i] = { type, unsigned: (flag & 0x80) !== 0 }
    }
    if (!c.ok) return truncated("parameter types")
    types = fresh
  } else if (bound === 0) {
    if (previousTypes === undefined || previousTypes.length < count) {
      return new ProtocolError({ message: "parameter types were never sent" })
    }
    types = previousTypes
  } else {
    return new ProtocolError({ message: `invalid new-params-bound flag ${bound}` })
  }
  const values = new Array<ParamValue>(count)
  for (let i = 0; i < count; i++) {
    const t = types[i]!
    const chunks = longData?.get(i)
    if (chunks !== undefined) {
      values[i] = fromBytes(t.type, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
    } else if ((bitmap[i >> 3]! & (1 << (i & 7))) !== 0) {
      values[i] = null
    } else {
      const v = readValue(c, t.type, t.unsigned)
      if (v instanceof ProtocolError) return v
      if (!c.ok) return truncated(`value of parameter ${i}`)
      values[i] = v
    }
  }
  return { values, types }
}

const isBinaryType = (type: number): boolean =>
  type === ColumnType.TINY_BLOB ||
  type === ColumnType.MEDIUM_BLOB ||
  type === ColumnType.LONG_BLOB ||
  type === ColumnType.BLOB ||
  type === ColumnType.GEOMETRY ||
  type === ColumnType.BIT

/** Blob types stay bytes; everything else is text when it is valid UTF-8. */
const fromBytes = (type: number, b: Buffer): string | Buffer =>
  isBinaryType(type) || !isUtf8(b) ? b : b.toString("utf8")

const readValue = (c: Cursor, type: number, unsigned: boolean): ParamValue | ProtocolError => {
  switch (type) {
    case ColumnType.NULL:
      return null
    case ColumnType.TINY: {
      const v = c.u8()
      return unsigned || v < 0x80 ? v : v - 0x100
    }
    case ColumnType.SHORT:
    case ColumnType.YEAR: {
      const v = c.u16()
      return unsigned || v < 0x8000 ? v : v - 0x10000
    }
    case ColumnType.LONG:
    case ColumnType.INT24: {
      const v = c.u32()
      return unsigned ? v : v | 0
    }
    case ColumnType.LONGLONG:
      return c.int64(unsigned)
    case ColumnType.FLOAT: {
      const b = c.bytes(4)
      return b.length === 4 ? b.readFloatLE(0) : 0
    }
    case ColumnType.DOUBLE: {
      const b = c.bytes(8)
      return b.length === 8 ? b.readDoubleLE(0) : 0
    }
    case ColumnType.DECIMAL:
    case ColumnType.NEWDECIMAL:
      return c.lenencString()
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
      return readDateTime(c, true)
    case ColumnType.DATETIME:
    case ColumnType.DATETIME2:
    case ColumnType.TIMESTAMP:
    case ColumnType.TIMESTAMP2:
      return readDateTime(c, false)
    case ColumnType.TIME:
    case ColumnType.TIME2:
      return readTime(c)
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
    case ColumnType.STRING:
    case ColumnType.ENUM:
    case ColumnType.SET:
    case ColumnType.JSON:
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.BLOB:
    case ColumnType.GEOMETRY:
    case ColumnType.BIT:
      return fromBytes(type, c.lenencBytes())
    default:
      return new ProtocolError({ message: `unsupported parameter type ${type}` })
  }
}

/**
 * DATE → 'YYYY-MM-DD'; DATETIME/TIMESTAMP → 'YYYY-MM-DD HH:MM:SS[.ffffff]', whatever the
 * compact length (0, 4, 7 or 11) the client chose.
 */
const readDateTime = (c: Cursor, dateOnly: boolean): string | ProtocolError => {
  const len = c.u8()
  if (len !== 0 && len !== 4 && len !== 7 && len !== 11) {
    return new ProtocolError({ message: `invalid date/time length ${len}` })
  }
  const y = len >= 4 ? c.u16() : 0
  const mo = len >= 4 ? c.u8() : 0
  const d = len >= 4 ? c.u8() : 0
  if (dateOnly) {
    if (len >= 7) c.bytes(len - 4)
    return formatDate(y, mo, d)
  }
  const h = len >= 7 ? c.u8() : 0
  const mi = len >= 7 ? c.u8() : 0
  const s = len >= 7 ? c.u8() : 0
  const micro = len === 11 ? c.u32() : 0
  return formatDateTime(y, mo, d, h, mi, s, micro)
}

/** TIME → '[-]HH:MM:SS[.ffffff]' with the days folded into the hours. */
const readTime = (c: Cursor): string | ProtocolError => {
  const len = c.u8()
  if (len === 0) return "00:00:00"
  if (len !== 8 && len !== 12) return new ProtocolError({ message: `invalid time length ${len}` })
  const negative = c.u8() === 1
  const days = c.u32()
  const h = c.u8()
  const mi = c.u8()
  const s = c.u8()
  const micro = len === 12 ? c.u32() : 0
  return formatTime(negative, days, h, mi, s, micro)
}
