/**
 * A plain binary writer and reader for the peer lane's hand-written codecs: little-endian fixed
 * widths, LEB128 unsigned varints for lengths and counts, UTF-8 strings. The reader checks every
 * bound and throws `BinaryDecodeError` on truncated or malformed input, so a decoder built on it
 * never reads past its frame or trusts a length it was sent.
 */

export class BinaryDecodeError extends Error {
  override readonly name = "BinaryDecodeError"
}

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

export class BinaryWriter {
  private buf: Uint8Array
  private view: DataView
  length = 0

  constructor(initial = 512) {
    this.buf = new Uint8Array(initial)
    this.view = new DataView(this.buf.buffer)
  }

  private room(n: number) {
    if (this.length + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8(n: number) {
    this.room(1)
    this.buf[this.length++] = n
  }

  u16(n: number) {
    this.room(2)
    this.view.setUint16(this.length, n, true)
    this.length += 2
  }

  u32(n: number) {
    this.room(4)
    this.view.setUint32(this.length, n, true)
    this.length += 4
  }

  i32(n: number) {
    this.room(4)
    this.view.setInt32(this.length, n, true)
    this.length += 4
  }

  f64(n: number) {
    this.room(8)
    this.view.setFloat64(this.length, n, true)
    this.length += 8
  }

  i64(n: bigint) {
    this.room(8)
    this.view.setBigInt64(this.length, n, true)
    this.length += 8
  }

  /** An unsigned integer up to 2^53 - 1. */
  varuint(n: number) {
    this.room(8)
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.buf[this.length++] = n
  }

  bytes(b: Uint8Array) {
    this.varuint(b.length)
    this.room(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
  }

  string(s: string) {
    // at most 3 bytes per UTF-16 unit
    this.room(5 + s.length * 3)
    const start = this.length + (s.length < 0x80 / 3 ? 1 : 5)
    const { written } = encoder.encodeInto(s, this.buf.subarray(start))
    const header = start - this.length
    if (header === 1) {
      this.buf[this.length] = written
    } else {
      // fixed 5-byte varint so the length can be written after the bytes
      let n = written
      for (let i = 0; i < 4; i++) {
        this.buf[this.length + i] = (n & 0x7f) | 0x80
        n >>>= 7
      }
      this.buf[this.length + 4] = n
    }
    this.length = start + written
  }

  bool(b: boolean) {
    this.u8(b ? 1 : 0)
  }

  /** The bytes written so far (a view, valid until the next write). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length)
  }
}

export class BinaryReader {
  private readonly view: DataView
  private at = 0

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  private need(n: number) {
    if (this.at + n > this.buf.length) throw new BinaryDecodeError(`truncated: ${n} byte(s) needed at offset ${this.at} of ${this.buf.length}`)
  }

  get done(): boolean {
    return this.at === this.buf.length
  }

  u8(): number {
    this.need(1)
    return this.buf[this.at++]!
  }

  u16(): number {
    this.need(2)
    const n = this.view.getUint16(this.at, true)
    this.at += 2
    return n
  }

  u32(): number {
    this.need(4)
    const n = this.view.getUint32(this.at, true)
    this.at += 4
    return n
  }

  i32(): number {
    this.need(4)
    const n = this.view.getInt32(this.at, true)
    this.at += 4
    return n
  }

  f64(): number {
    this.need(8)
    const n = this.view.getFloat64(this.at, true)
    this.at += 8
    return n
  }

  i64(): bigint {
    this.need(8)
    const n = this.view.getBigInt64(this.at, true)
    this.at += 8
    return n
  }

  varuint(): number {
    let n = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const b = this.u8()
      n += (b & 0x7f) * scale
      if (b < 0x80) return n
      scale *= 0x80
    }
    throw new BinaryDecodeError(`varint longer than 8 bytes at offset ${this.at}`)
  }

  /** A count of items that each take at least one byte: never more than the bytes left. */
  count(): number {
    const n = this.varuint()
    if (n > this.buf.length - this.at) throw new BinaryDecodeError(`count ${n} exceeds the ${this.buf.length - this.at} byte(s) left`)
    return n
  }

  bytes(): Uint8Array {
    const n = this.count()
    const b = this.buf.slice(this.at, this.at + n)
    this.at += n
    return b
  }

  string(): string {
    const n = this.count()
    try {
      return decoder.decode(this.buf.subarray(this.at, this.at + n))
    } catch {
      throw new BinaryDecodeError(`invalid UTF-8 at offset ${this.at}`)
    } finally {
      this.at += n
    }
  }

  bool(): boolean {
    const b = this.u8()
    if (b > 1) throw new BinaryDecodeError(`bad boolean ${b} at offset ${this.at - 1}`)
    return b === 1
  }
}
