/**
 * A growable output buffer that accumulates whole framed packets, so a complete response (a
 * result set with all its rows, say) goes to the socket in ONE write.
 *
 * Usage: `out.begin()`, write the payload with the typed writers, `out.end()` (which fills in the
 * 4-byte header and splits payloads of 0xffffff bytes or more into continuation packets), repeat,
 * then `socket.write(out.take())`. `sequenceId` is the id the next packet will get; it wraps at 256.
 *
 * Writers never validate ranges: integers are truncated to their width (two's complement for
 * negatives), strings are written as UTF-8.
 */
import { MAX_PACKET_CHUNK } from "./Constants.ts"

const INITIAL_CAPACITY = 16 * 1024
/** At or above this size `take()` hands the buffer off instead of copying it. */
const HANDOFF_BYTES = 64 * 1024
/** Strings up to this many UTF-16 units fit a 1-byte length prefix (3 bytes/unit at most). */
const SHORT_STRING_UNITS = 83

/** Node's undocumented but long-stable `Buffer#utf8Write` skips `write()`'s argument juggling. */
type Utf8Writer = (this: Buffer, s: string, offset: number, length?: number) => number
const fastUtf8Write = (Buffer.prototype as unknown as { utf8Write?: Utf8Writer }).utf8Write
const utf8Write: Utf8Writer =
  fastUtf8Write ??
  function (this: Buffer, s: string, offset: number, length?: number) {
    return this.write(s, offset, length ?? this.length - offset, "utf8")
  }

export class ResponseBuffer {
  /** Sequence id of the next packet `end()` frames. */
  sequenceId: number
  private buf: Buffer
  private pos = 0
  private packetStart = -1

  constructor(sequenceId = 0, initialCapacity = INITIAL_CAPACITY) {
    this.sequenceId = sequenceId & 0xff
    this.buf = Buffer.allocUnsafe(Math.max(64, initialCapacity))
  }

  /** Bytes written so far (framed packets plus any open packet). */
  get length(): number {
    return this.pos
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n
    if (need <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < need) cap *= 2
    const next = Buffer.allocUnsafe(cap)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** Starts a packet: reserves its 4-byte header. */
  begin(): this {
    if (this.packetStart >= 0) throw new Error("ResponseBuffer.begin() called twice without end()")
    this.ensure(4)
    this.packetStart = this.pos
    this.pos += 4
    return this
  }

  /** Finishes the packet started by `begin()`: writes its header(s) and advances `sequenceId`. */
  end(): void {
    const start = this.packetStart
    if (start < 0) throw new Error("ResponseBuffer.end() without begin()")
    this.packetStart = -1
    const length = this.pos - start - 4
    if (length < MAX_PACKET_CHUNK) {
      this.header(start, length)
      return
    }
    // Split: fragments of 0xffffff bytes, then the remainder (empty if the length is an exact
    // multiple). Move fragments back to front to open a 4-byte gap for each extra header.
    const extra = Math.floor(length / MAX_PACKET_CHUNK)
    this.ensure(extra * 4)
    const buf = this.buf
    for (let i = extra; i >= 1; i--) {
      const from = start + 4 + i * MAX_PACKET_CHUNK
      const size = i === extra ? length - extra * MAX_PACKET_CHUNK : MAX_PACKET_CHUNK
      buf.copyWithin(from + i * 4, from, from + size)
    }
    for (let i = 0; i <= extra; i++) {
      const size = i === extra ? length - extra * MAX_PACKET_CHUNK : MAX_PACKET_CHUNK
      this.header(start + i * (MAX_PACKET_CHUNK + 4), size)
    }
    this.pos += extra * 4
  }

  private header(at: number, length: number): void {
    const buf = this.buf
    buf[at] = length
    buf[at + 1] = length >>> 8
    buf[at + 2] = length >>> 16
    buf[at + 3] = this.sequenceId
    this.sequenceId = (this.sequenceId + 1) & 0xff
  }

  /**
   * Returns everything written so far and empties the buffer (`sequenceId` is kept). The result is
   * owned by the caller: small responses are copied, large ones are handed off and the buffer
   * starts over with a fresh allocation. Must not be called inside begin()/end().
   */
  take(): Buffer {
    if (this.packetStart >= 0) throw new Error("ResponseBuffer.take() inside an open packet")
    const n = this.pos
    this.pos = 0
    if (n >= HANDOFF_BYTES) {
      const out = this.buf.subarray(0, n)
      this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY)
      return out
    }
    const out = Buffer.allocUnsafe(n)
    this.buf.copy(out, 0, 0, n)
    return out
  }

  /** Drops everything written so far (including an open packet); `sequenceId` is kept. */
  reset(): void {
    this.pos = 0
    this.packetStart = -1
  }

  u8(n: number): this {
    this.ensure(1)
    this.buf[this.pos++] = n
    return this
  }

  u16(n: number): this {
    this.ensure(2)
    const b = this.buf
    const p = this.pos
    b[p] = n
    b[p + 1] = n >>> 8
    this.pos = p + 2
    return this
  }

  u24(n: number): this {
    this.ensure(3)
    const b = this.buf
    const p = this.pos
    b[p] = n
    b[p + 1] = n >>> 8
    b[p + 2] = n >>> 16
    this.pos = p + 3
    return this
  }

  u32(n: number): this {
    this.ensure(4)
    const b = this.buf
    const p = this.pos
    b[p] = n
    b[p + 1] = n >>> 8
    b[p + 2] = n >>> 16
    b[p + 3] = n >>> 24
    this.pos = p + 4
    return this
  }

  /** 8-byte integer; negative values are written in two's complement. */
  u64(n: number | bigint): this {
    this.ensure(8)
    if (typeof n === "bigint") {
      this.buf.writeBigUInt64LE(BigInt.asUintN(64, n), this.pos)
      this.pos += 8
      return this
    }
    const v = Math.trunc(n)
    if (!Number.isSafeInteger(v)) return this.u64(BigInt.asIntN(64, BigInt(Number.isFinite(v) ? v : 0)))
    this.u32(v >>> 0)
    return this.u32(Math.floor(v / 0x100000000) >>> 0)
  }

  floatLE(n: number): this {
    this.ensure(4)
    this.pos = this.buf.writeFloatLE(n, this.pos)
    return this
  }

  doubleLE(n: number): this {
    this.ensure(8)
    this.pos = this.buf.writeDoubleLE(n, this.pos)
    return this
  }

  /** Length-encoded integer (1, 3, 4 or 9 bytes). */
  lenencInt(n: number | bigint): this {
    if (typeof n === "bigint") {
      if (n >= 0n && n <= BigInt(Number.MAX_SAFE_INTEGER)) return this.lenencInt(Number(n))
      return this.u8(0xfe).u64(n)
    }
    if (n < 0xfb) return this.u8(n)
    if (n < 0x10000) return this.u8(0xfc).u16(n)
    if (n < 0x1000000) return this.u8(0xfd).u24(n)
    return this.u8(0xfe).u64(n)
  }

  /** Length-encoded string: UTF-8 for strings, raw bytes for buffers. */
  lenencString(s: string | Uint8Array): this {
    if (typeof s !== "string") return this.lenencInt(s.length).bytes(s)
    if (s.length <= SHORT_STRING_UNITS) {
      // At most 249 UTF-8 bytes: a 1-byte length, written after the string (one pass).
      this.ensure(1 + s.length * 3)
      const p = this.pos
      const n = utf8Write.call(this.buf, s, p + 1)
      this.buf[p] = n
      this.pos = p + 1 + n
      return this
    }
    const n = Buffer.byteLength(s, "utf8")
    this.lenencInt(n)
    this.ensure(n)
    this.pos += utf8Write.call(this.buf, s, this.pos, n)
    return this
  }

  /** String without length or terminator (string[EOF] / fixed-length contexts). */
  fixedString(s: string): this {
    if (s.length === 0) return this
    this.ensure(s.length <= 4096 ? s.length * 3 : Buffer.byteLength(s, "utf8"))
    this.pos += utf8Write.call(this.buf, s, this.pos)
    return this
  }

  /** NUL-terminated string. */
  nulString(s: string): this {
    return this.fixedString(s).u8(0)
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  /** `n` zero bytes (fillers). */
  zeros(n: number): this {
    this.ensure(n)
    this.buf.fill(0, this.pos, this.pos + n)
    this.pos += n
    return this
  }
}
