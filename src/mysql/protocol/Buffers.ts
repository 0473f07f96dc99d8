/**
 * Bounds-checked, never-throwing reading of MySQL wire types from a Buffer.
 *
 * A `Cursor` is "sticky": the first read past the end (or of a malformed length) marks it failed,
 * moves it to the end and makes every later read return 0 / an empty value. Decoders read a whole
 * structure and check `cursor.ok` once at the end (or at the points where a bad value would make
 * them do real work), which keeps the decoding code short and the hot path branch-light.
 */

import { constants } from "node:buffer"

const EMPTY = Buffer.alloc(0)
/** Longer byte runs cannot become a JS string (`toString` would throw ERR_STRING_TOO_LONG). */
const MAX_STRING_BYTES = constants.MAX_STRING_LENGTH

export class Cursor {
  pos: number
  ok = true
  readonly buf: Buffer

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf
    this.pos = pos
  }

  get remaining(): number {
    return this.buf.length - this.pos
  }

  get atEnd(): boolean {
    return this.pos >= this.buf.length
  }

  /** Marks the cursor failed and returns 0. */
  fail(): 0 {
    this.ok = false
    this.pos = this.buf.length
    return 0
  }

  private need(n: number): boolean {
    if (this.pos + n <= this.buf.length) return true
    this.fail()
    return false
  }

  u8(): number {
    if (!this.need(1)) return 0
    return this.buf[this.pos++]!
  }

  u16(): number {
    if (!this.need(2)) return 0
    const b = this.buf
    const p = this.pos
    this.pos = p + 2
    return b[p]! | (b[p + 1]! << 8)
  }

  u24(): number {
    if (!this.need(3)) return 0
    const b = this.buf
    const p = this.pos
    this.pos = p + 3
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)
  }

  u32(): number {
    if (!this.need(4)) return 0
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }

  /** 8-byte integer as a number when it is a safe integer, else as a bigint. */
  int64(unsigned: boolean): number | bigint {
    if (!this.need(8)) return 0
    const b = this.buf
    const p = this.pos
    this.pos = p + 8
    const lo = b.readUInt32LE(p)
    const hi = unsigned ? b.readUInt32LE(p + 4) : b.readInt32LE(p + 4)
    // |hi * 2^32 + lo| <= 2^53 - 1 (hi = -2^21 is safe only with lo > 0).
    if (hi < 0x200000 && (hi > -0x200000 || (hi === -0x200000 && lo !== 0))) return hi * 0x100000000 + lo
    return unsigned ? b.readBigUInt64LE(p) : b.readBigInt64LE(p)
  }

  /**
   * Length-encoded integer. 0xfb (NULL) and 0xff (ERR marker) are invalid here and fail the
   * cursor, as does an 8-byte value beyond Number.MAX_SAFE_INTEGER (no such length can fit a
   * buffer anyway).
   */
  lenencInt(): number {
    const first = this.u8()
    if (first < 0xfb) return first
    if (first === 0xfc) return this.u16()
    if (first === 0xfd) return this.u24()
    if (first === 0xfe) {
      if (!this.need(8)) return 0
      const lo = this.buf.readUInt32LE(this.pos)
      const hi = this.buf.readUInt32LE(this.pos + 4)
      this.pos += 8
      if (hi >= 0x200000) return this.fail()
      return hi * 0x100000000 + lo
    }
    return this.fail()
  }

  /** The next `n` bytes as a view (no copy). */
  bytes(n: number): Buffer {
    if (n < 0 || !this.need(n)) return EMPTY
    const p = this.pos
    this.pos = p + n
    return this.buf.subarray(p, p + n)
  }

  /** All remaining bytes as a view (string[EOF]). */
  rest(): Buffer {
    const p = this.pos
    this.pos = this.buf.length
    return this.buf.subarray(p)
  }

  /** UTF-8 text of bytes [start, end) (already bounds-checked); fails if too long for a string. */
  private text(start: number, end: number): string {
    if (end - start > MAX_STRING_BYTES) return (this.fail(), "")
    return start === end ? "" : this.buf.toString("utf8", start, end)
  }

  restString(): string {
    const p = this.pos
    this.pos = this.buf.length
    return this.text(p, this.buf.length)
  }

  lenencBytes(): Buffer {
    const n = this.lenencInt()
    return this.ok ? this.bytes(n) : EMPTY
  }

  lenencString(): string {
    const n = this.lenencInt()
    if (!this.ok || !this.need(n)) return ""
    const p = this.pos
    this.pos = p + n
    return this.text(p, p + n)
  }

  /** Index of the next NUL byte, or -1 when there is none. */
  private nulIndex(): number {
    return this.pos < this.buf.length ? this.buf.indexOf(0, this.pos) : -1
  }

  /** NUL-terminated bytes; fails without a terminator. */
  nulBytes(): Buffer {
    const end = this.nulIndex()
    if (end < 0) {
      this.fail()
      return EMPTY
    }
    const p = this.pos
    this.pos = end + 1
    return this.buf.subarray(p, end)
  }

  nulString(): string {
    const end = this.nulIndex()
    if (end < 0) return (this.fail(), "")
    const p = this.pos
    this.pos = end + 1
    return this.text(p, end)
  }

  /** NUL-terminated string, tolerating a missing terminator at the end of the buffer. */
  nulStringLenient(): string {
    const end = this.nulIndex()
    if (end < 0) return this.restString()
    const p = this.pos
    this.pos = end + 1
    return this.text(p, end)
  }
}

/** Number of bytes `n` takes as a length-encoded integer. */
export const lenencIntSize = (n: number): number =>
  n < 0xfb ? 1 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 9

/**
 * Reads a length-encoded integer at `offset`. Returns the value and the offset after it, or
 * `undefined` if the bytes are truncated or not a valid length (0xfb, 0xff).
 */
export const readLenencInt = (
  buf: Buffer,
  offset: number
): { readonly value: number; readonly next: number } | undefined => {
  const c = new Cursor(buf, offset)
  const value = c.lenencInt()
  return c.ok ? { value, next: c.pos } : undefined
}
