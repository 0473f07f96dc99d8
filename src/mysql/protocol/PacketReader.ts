/**
 * Incremental splitting of a client byte stream into MySQL packets.
 *
 * Wire framing: 3-byte little-endian payload length, 1-byte sequence id, payload. A payload of
 * exactly 0xffffff bytes continues in the next packet (whose sequence id must be the next one);
 * the logical payload ends with the first fragment shorter than 0xffffff (possibly empty).
 *
 * Allocation rules: a packet that lies inside one pushed chunk is returned as a `subarray` view of
 * that chunk (no copy); only packets spanning chunks or made of several fragments are copied once.
 * Callers must therefore not mutate a chunk after pushing it (Node never reuses socket chunks).
 */
import { MAX_PACKET_CHUNK } from "./Constants.ts"
import { ProtocolError } from "./ProtocolError.ts"

export interface Packet {
  readonly sequenceId: number
  readonly payload: Buffer
}

const EMPTY = Buffer.alloc(0)

export class PacketReader {
  private readonly maxPayloadBytes: number
  /** Unconsumed chunks; bytes before `head` in `chunks[first]` are consumed. */
  private chunks: Array<Buffer> = []
  private first = 0
  private head = 0
  private available = 0
  /** Fragments of a payload that continues (every fragment so far was 0xffffff bytes). */
  private fragments: Array<Buffer> = []
  private fragmentBytes = 0
  private lastSequenceId = -1
  private error: ProtocolError | undefined = undefined

  constructor(maxPayloadBytes: number) {
    this.maxPayloadBytes = maxPayloadBytes
  }

  /** Bytes pushed but not yet returned as (part of) a packet. */
  get bufferedBytes(): number {
    return this.available + this.fragmentBytes
  }

  /**
   * Hands back every byte pushed but not yet returned, and forgets them: after an SSLRequest the
   * rest of the stream is TLS, which may already have arrived in the same chunk.
   */
  takeRemaining(): Buffer {
    const rest = this.chunks.slice(this.first)
    if (rest.length > 0) rest[0] = rest[0]!.subarray(this.head)
    this.chunks = []
    this.first = 0
    this.head = 0
    this.available = 0
    return rest.length === 1 ? rest[0]! : Buffer.concat(rest)
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.error !== undefined) return
    this.chunks.push(chunk)
    this.available += chunk.length
  }

  /**
   * The next complete packet, `undefined` when more bytes are needed, or a ProtocolError (after
   * which the reader stays failed and returns the same error forever).
   */
  next(): Packet | ProtocolError | undefined {
    if (this.error !== undefined) return this.error
    for (;;) {
      if (this.available < 4) return undefined
      const length = this.peek(0) | (this.peek(1) << 8) | (this.peek(2) << 16)
      const sequenceId = this.peek(3)
      if (this.fragments.length > 0 && sequenceId !== ((this.lastSequenceId + 1) & 0xff)) {
        return this.fail(new ProtocolError({ message: "packets out of order" }))
      }
      if (this.fragmentBytes + length > this.maxPayloadBytes) {
        return this.fail(
          new ProtocolError({
            message: `packet payload exceeds ${this.maxPayloadBytes} bytes`,
            tooLarge: true
          })
        )
      }
      if (this.available < 4 + length) return undefined
      this.skip(4)
      const payload = length === 0 ? EMPTY : this.take(length)
      this.lastSequenceId = sequenceId
      if (length === MAX_PACKET_CHUNK) {
        this.fragments.push(payload)
        this.fragmentBytes += length
        continue
      }
      if (this.fragments.length === 0) return { sequenceId, payload }
      this.fragments.push(payload)
      const whole = Buffer.concat(this.fragments, this.fragmentBytes + length)
      this.fragments = []
      this.fragmentBytes = 0
      return { sequenceId, payload: whole }
    }
  }

  private fail(error: ProtocolError): ProtocolError {
    this.error = error
    this.chunks = []
    this.fragments = []
    this.available = 0
    this.fragmentBytes = 0
    return error
  }

  /** The byte `i` positions after the read head (caller guarantees it exists). */
  private peek(i: number): number {
    let idx = this.first
    let off = this.head + i
    for (;;) {
      const c = this.chunks[idx]!
      if (off < c.length) return c[off]!
      off -= c.length
      idx++
    }
  }

  private skip(n: number): void {
    this.available -= n
    let off = this.head + n
    for (;;) {
      const c = this.chunks[this.first]!
      if (off < c.length) {
        this.head = off
        return
      }
      off -= c.length
      this.dropFirst()
      if (off === 0) return
    }
  }

  private dropFirst(): void {
    this.chunks[this.first] = EMPTY
    this.first++
    this.head = 0
    if (this.first === this.chunks.length) {
      this.chunks = []
      this.first = 0
    } else if (this.first >= 64) {
      this.chunks = this.chunks.slice(this.first)
      this.first = 0
    }
  }

  /** Consumes `n` (> 0, available) bytes: a view when inside one chunk, else one copy. */
  private take(n: number): Buffer {
    this.available -= n
    const c = this.chunks[this.first]!
    const start = this.head
    if (start + n <= c.length) {
      const view = c.subarray(start, start + n)
      if (start + n === c.length) this.dropFirst()
      else this.head = start + n
      return view
    }
    const out = Buffer.allocUnsafe(n)
    let written = 0
    while (written < n) {
      const cur = this.chunks[this.first]!
      const from = this.head
      const count = Math.min(cur.length - from, n - written)
      cur.copy(out, written, from, from + count)
      written += count
      if (from + count === cur.length) this.dropFirst()
      else this.head = from + count
    }
    return out
  }
}
