/**
 * Binary intent keys (marmot research §4.3): the identity of what a transaction writes, used for
 * write intents, row versions (LWW) and conflict detection. A key is a function of the values
 * only, so every node derives the same bytes for the same row.
 *
 *   DML row:   0x01 | uvarint(len table) | table | uvarint(pkCount) | (tag | value)*   (PK order)
 *   DDL table: 0xFE | uvarint(len table) | table
 *   database:  0xFF | uvarint(len name)  | name
 *
 * Value tags: 0x00 NULL; 0x01 int64 (8 bytes big-endian two's complement); 0x02 float64 (8 bytes
 * big-endian IEEE 754); 0x03 text (uvarint byte length + UTF-8); 0x04 blob (uvarint length +
 * bytes). Names are UTF-8 and lengths are in bytes; uvarint is unsigned LEB128 (Go's PutUvarint).
 *
 * Canonical forms, so values SQLite holds equal give one key:
 * - integers are int64 whether they come as bigint (INTEGER with safeIntegers) or as an integral
 *   number (a REAL such as 2.0, which SQLite compares equal to the INTEGER 2) in int64 range;
 *   -0 is the integer 0;
 * - other numbers are float64, with every NaN written as 0x7FF8000000000000;
 * - text and blob stay apart (SQLite never finds 'a' = x'61').
 * A JS string with a lone surrogate is written as U+FFFD (as SQLite would store it).
 *
 * Runs once per captured row: the size is computed first and the key is written into one Buffer
 * with a memory block of its own (not a slice of the shared pool, so it can be retained or sent to
 * a worker as is), with no per-value allocation for ASCII text and integers within 2^53.
 */
import { Data, Either } from "effect"

/** A primary-key value as better-sqlite3 returns it (Buffer is a Uint8Array). */
export type PkValue = null | number | bigint | string | Uint8Array

export const kindDml = 0x01
export const kindDdl = 0xfe
export const kindDatabase = 0xff

const tagNull = 0x00
const tagInt = 0x01
const tagFloat = 0x02
const tagText = 0x03
const tagBlob = 0x04

const minInt64 = -(2n ** 63n)
const maxInt64 = 2n ** 63n - 1n
const twoTo63 = 2 ** 63
const twoTo32 = 2 ** 32
const minSafe = BigInt(Number.MIN_SAFE_INTEGER)
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER)

const uvarintSize = (n: number): number => n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : n < 0x1000_0000 ? 4 : 5

const writeUvarint = (out: Uint8Array, offset: number, n: number): number => {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  out[offset++] = n
  return offset
}

/** UTF-8 length of a JS string (a lone surrogate counts as U+FFFD, 3 bytes, as TextEncoder writes it). */
const utf8Length = (s: string): number => {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2 // a pair: 2 code units, 4 bytes
      i++
    } else n += 2
  }
  return n
}

const encoder = new TextEncoder()

/** Writes `s` (whose UTF-8 length is `length`) at `offset`. */
const writeUtf8 = (out: Uint8Array, offset: number, s: string, length: number): number => {
  if (length === s.length) {
    for (let i = 0; i < length; i++) out[offset + i] = s.charCodeAt(i)
  } else {
    encoder.encodeInto(s, out.subarray(offset, offset + length))
  }
  return offset + length
}

const writeText = (out: Uint8Array, offset: number, s: string, length: number): number =>
  writeUtf8(out, writeUvarint(out, offset, length), s, length)

const scratch = new DataView(new ArrayBuffer(8))
const scratchBytes = new Uint8Array(scratch.buffer)

/** Writes a safe integer as 8 bytes big-endian two's complement. */
const writeSafeInt = (out: Uint8Array, offset: number, v: number): void => {
  const hi = Math.floor(v / twoTo32)
  const lo = v - hi * twoTo32
  out[offset] = hi >>> 24
  out[offset + 1] = hi >>> 16
  out[offset + 2] = hi >>> 8
  out[offset + 3] = hi
  out[offset + 4] = lo >>> 24
  out[offset + 5] = lo >>> 16
  out[offset + 6] = lo >>> 8
  out[offset + 7] = lo
}

const writeBigInt = (out: Uint8Array, offset: number, v: bigint): void => {
  if (v >= minSafe && v <= maxSafe) return writeSafeInt(out, offset, Number(v))
  if (v < minInt64 || v > maxInt64) throw new RangeError(`intent key: integer ${v} is outside int64`)
  scratch.setBigInt64(0, v)
  out.set(scratchBytes, offset)
}

const isIntegralNumber = (v: number): boolean => Number.isInteger(v) && v >= -twoTo63 && v < twoTo63

const valueSize = (v: PkValue): number => {
  if (v === null) return 1
  switch (typeof v) {
    case "number":
    case "bigint":
      return 9
    case "string": {
      const n = utf8Length(v)
      return 1 + uvarintSize(n) + n
    }
    default:
      return 1 + uvarintSize(v.length) + v.length
  }
}

const writeValue = (out: Uint8Array, offset: number, v: PkValue): number => {
  if (v === null) {
    out[offset] = tagNull
    return offset + 1
  }
  switch (typeof v) {
    case "number": {
      if (isIntegralNumber(v)) {
        out[offset] = tagInt
        if (Number.isSafeInteger(v)) writeSafeInt(out, offset + 1, v)
        else writeBigInt(out, offset + 1, BigInt(v))
      } else {
        out[offset] = tagFloat
        if (Number.isNaN(v)) {
          scratch.setUint32(0, 0x7ff8_0000)
          scratch.setUint32(4, 0)
        } else {
          scratch.setFloat64(0, v)
        }
        out.set(scratchBytes, offset + 1)
      }
      return offset + 9
    }
    case "bigint":
      out[offset] = tagInt
      writeBigInt(out, offset + 1, v)
      return offset + 9
    case "string":
      out[offset] = tagText
      return writeText(out, offset + 1, v, utf8Length(v))
    default:
      out[offset] = tagBlob
      offset = writeUvarint(out, offset + 1, v.length)
      out.set(v, offset)
      return offset + v.length
  }
}

/** The key of a table row: `pkValues` in primary-key declaration order (or `[rowid]`). */
export const dmlKey = (table: string, pkValues: ReadonlyArray<PkValue>): Buffer => {
  const tableLength = utf8Length(table)
  let size = 1 + uvarintSize(tableLength) + tableLength + uvarintSize(pkValues.length)
  for (let i = 0; i < pkValues.length; i++) size += valueSize(pkValues[i]!)
  const out = Buffer.allocUnsafeSlow(size)
  out[0] = kindDml
  let offset = writeText(out, 1, table, tableLength)
  offset = writeUvarint(out, offset, pkValues.length)
  for (let i = 0; i < pkValues.length; i++) offset = writeValue(out, offset, pkValues[i]!)
  return out
}

const nameKey = (kind: number, name: string): Buffer => {
  const length = utf8Length(name)
  const out = Buffer.allocUnsafeSlow(1 + uvarintSize(length) + length)
  out[0] = kind
  writeText(out, 1, name, length)
  return out
}

/** The key a DDL statement on `table` holds (conflicts with other DDL on that table). */
export const ddlKey = (table: string): Buffer => nameKey(kindDdl, table)

/** The key CREATE/DROP DATABASE `name` holds. */
export const databaseKey = (name: string): Buffer => nameKey(kindDatabase, name)

/**
 * The keys a schema change holds: each table it changes, and its database's DDL lock (the
 * database key), so two schema changes of one database never interleave (src/config/DdlSettings.ts).
 */
export const schemaChangeLocks = (database: string, tables: Iterable<string>): Array<Buffer> => [
  ...[...tables].map(ddlKey),
  databaseKey(database)
]

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const hexDigits: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** A string form for Map keys and logs: lowercase hex (its order is the byte order). */
export const keyString = (key: Uint8Array): string => {
  if (Buffer.isBuffer(key)) return key.toString("hex")
  // A small Uint8Array lives on the V8 heap; reading its `.buffer` to wrap it would move it off.
  let s = ""
  for (let i = 0; i < key.length; i++) s += hexDigits[key[i]!]
  return s
}

/** Inverse of `keyString`. */
export const keyFromString = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, "hex"))

export type DecodedKey =
  | { readonly _tag: "Dml"; readonly table: string; readonly pk: ReadonlyArray<PkValue> }
  | { readonly _tag: "Ddl"; readonly table: string }
  | { readonly _tag: "Database"; readonly name: string }

export class MalformedIntentKey extends Data.TaggedError("MalformedIntentKey")<{
  readonly offset: number
  readonly reason: string
}> {
  override get message(): string {
    return `malformed intent key at byte ${this.offset}: ${this.reason}`
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

class Reader {
  offset = 0
  constructor(readonly bytes: Buffer) {}

  fail(reason: string): never {
    throw new MalformedIntentKey({ offset: this.offset, reason })
  }

  need(n: number): void {
    if (this.offset + n > this.bytes.length) this.fail("truncated")
  }

  byte(): number {
    this.need(1)
    return this.bytes[this.offset++]!
  }

  uvarint(): number {
    let n = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte()
      n += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return b === 0 && shift > 0 ? this.fail("non-minimal length") : n
    }
    return this.fail("length too long")
  }

  chunk(): Buffer {
    const n = this.uvarint()
    this.need(n)
    const out = this.bytes.subarray(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  text(): string {
    const raw = this.chunk()
    try {
      return utf8.decode(raw)
    } catch {
      return this.fail("invalid UTF-8")
    }
  }

  value(): PkValue {
    const tag = this.byte()
    switch (tag) {
      case tagNull:
        return null
      case tagInt:
        this.need(8)
        this.offset += 8
        return this.bytes.readBigInt64BE(this.offset - 8)
      case tagFloat:
        this.need(8)
        this.offset += 8
        return this.bytes.readDoubleBE(this.offset - 8)
      case tagText:
        return this.text()
      case tagBlob:
        return Uint8Array.from(this.chunk())
      default:
        return this.fail(`unknown value tag 0x${tag.toString(16)}`)
    }
  }
}

const decodeWith = (r: Reader): DecodedKey => {
  const kind = r.byte()
  let key: DecodedKey
  if (kind === kindDml) {
    const table = r.text()
    const count = r.uvarint()
    const pk: Array<PkValue> = []
    for (let i = 0; i < count; i++) pk.push(r.value())
    key = { _tag: "Dml", table, pk }
  } else if (kind === kindDdl) {
    key = { _tag: "Ddl", table: r.text() }
  } else if (kind === kindDatabase) {
    key = { _tag: "Database", name: r.text() }
  } else {
    return r.fail(`unknown key kind 0x${kind.toString(16)}`)
  }
  if (r.offset !== r.bytes.length) r.fail("trailing bytes")
  return key
}

/**
 * Reads a key back (for the admin API and debugging). Integers come back as bigint, blobs as
 * Uint8Array; `dmlKey` of the result gives the same bytes.
 */
export const decodeKey = (key: Uint8Array): Either.Either<DecodedKey, MalformedIntentKey> => {
  try {
    return Either.right(decodeWith(new Reader(asBuffer(key))))
  } catch (e) {
    if (e instanceof MalformedIntentKey) return Either.left(e)
    throw e
  }
}
