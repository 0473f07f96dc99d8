/**
 * A minimal hand-written MySQL protocol client over a raw TCP socket, for robustness tests that must
 * send what no real driver would: it frames packets, reads the server greeting, logs in with
 * mysql_native_password (answering an auth switch), and records every byte the server sends.
 * It never sets CLIENT_DEPRECATE_EOF, so result sets end with classic EOF packets.
 */
import { createHash } from "node:crypto"
import net from "node:net"

export const CLIENT = {
  LONG_PASSWORD: 0x1,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  PROTOCOL_41: 0x200,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PLUGIN_AUTH: 0x80000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000
} as const

export const COM = {
  SLEEP: 0x00,
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  PING: 0x0e,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  RESET_CONNECTION: 0x1f
} as const

export const DEFAULT_CAPS =
  CLIENT.LONG_PASSWORD | CLIENT.LONG_FLAG | CLIENT.PROTOCOL_41 | CLIENT.TRANSACTIONS |
  CLIENT.SECURE_CONNECTION | CLIENT.MULTI_RESULTS | CLIENT.PLUGIN_AUTH

export interface Packet {
  readonly seq: number
  readonly payload: Buffer
}

export interface Greeting {
  readonly protocolVersion: number
  readonly serverVersion: string
  readonly connectionId: number
  readonly scramble: Buffer
  readonly capabilities: number
  readonly authPlugin: string
}

export function frame(payload: Buffer, seq: number): Buffer {
  const h = Buffer.alloc(4)
  h.writeUIntLE(payload.length, 0, 3)
  h[3] = seq & 0xff
  return Buffer.concat([h, payload])
}

/** mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))); empty for an empty password. */
export function nativePasswordToken(password: string, scramble: Buffer): Buffer {
  if (password === "") return Buffer.alloc(0)
  const sha1 = (b: Buffer | string) => createHash("sha1").update(b).digest()
  const p1 = sha1(password)
  const p2 = sha1(p1)
  const p3 = sha1(Buffer.concat([scramble.subarray(0, 20), p2]))
  for (let i = 0; i < p1.length; i++) p1[i]! ^= p3[i]!
  return p1
}

export function parseGreeting(p: Buffer): Greeting {
  let o = 0
  const protocolVersion = p[o++]!
  const nul = p.indexOf(0, o)
  const serverVersion = p.subarray(o, nul).toString("latin1")
  o = nul + 1
  const connectionId = p.readUInt32LE(o)
  o += 4
  const part1 = p.subarray(o, o + 8)
  o += 9 // 8 bytes + filler
  let capabilities = p.readUInt16LE(o)
  o += 2
  o += 1 // charset
  o += 2 // status
  capabilities |= p.readUInt16LE(o) << 16
  o += 2
  const authLen = p[o++]!
  o += 10 // reserved
  const part2Len = Math.max(13, authLen - 8)
  const part2 = p.subarray(o, o + part2Len)
  o += part2Len
  const end = p.indexOf(0, o)
  const authPlugin = p.subarray(o, end < 0 ? p.length : end).toString("latin1")
  // scramble is 20 bytes: part2 carries 12 + a trailing NUL
  const scramble = Buffer.concat([part1, part2]).subarray(0, 20)
  return { protocolVersion, serverVersion, connectionId, scramble, capabilities, authPlugin }
}

export function handshakeResponse(opts: {
  user: string
  authResponse: Buffer
  database?: string
  capabilities?: number
  plugin?: string
}): Buffer {
  let caps = opts.capabilities ?? DEFAULT_CAPS
  if (opts.database !== undefined) caps |= CLIENT.CONNECT_WITH_DB
  const head = Buffer.alloc(32)
  head.writeUInt32LE(caps >>> 0, 0)
  head.writeUInt32LE(16 * 1024 * 1024, 4)
  head[8] = 45 // utf8mb4_general_ci
  const parts = [head, Buffer.from(opts.user + "\0", "utf8"), Buffer.from([opts.authResponse.length]), opts.authResponse]
  if (opts.database !== undefined) parts.push(Buffer.from(opts.database + "\0", "utf8"))
  if (caps & CLIENT.PLUGIN_AUTH) parts.push(Buffer.from((opts.plugin ?? "mysql_native_password") + "\0", "latin1"))
  return Buffer.concat(parts)
}

export class RawConn {
  private buf: Buffer = Buffer.alloc(0)
  private readonly received: Array<Packet> = []
  private cursor = 0
  private waiter: (() => void) | undefined
  private closedFlag = false
  private errorCode: string | undefined
  readonly closed: Promise<void>

  private constructor(private readonly sock: net.Socket) {
    this.closed = new Promise((resolve) => {
      sock.on("close", () => {
        this.closedFlag = true
        this.waiter?.()
        resolve()
      })
    })
    sock.on("error", (e: NodeJS.ErrnoException) => {
      this.errorCode = e.code ?? e.message
    })
    sock.on("data", (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
      while (this.buf.length >= 4) {
        const len = this.buf.readUIntLE(0, 3)
        if (this.buf.length < 4 + len) break
        this.received.push({ seq: this.buf[3]!, payload: this.buf.subarray(4, 4 + len) })
        this.buf = this.buf.subarray(4 + len)
      }
      this.waiter?.()
    })
  }

  static connect(host: string, port: number, timeoutMs = 5000): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port })
      sock.setNoDelay(true)
      const t = setTimeout(() => {
        sock.destroy()
        reject(new Error(`connect to ${host}:${port} timed out`))
      }, timeoutMs)
      sock.once("error", (e) => {
        clearTimeout(t)
        reject(e)
      })
      sock.once("connect", () => {
        clearTimeout(t)
        resolve(new RawConn(sock))
      })
    })
  }

  /** The next packet not yet returned; rejects when the socket closes first or after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const p = this.received[this.cursor]
      if (p !== undefined) {
        this.cursor++
        return p
      }
      if (this.closedFlag) throw new Error(`connection closed (${this.errorCode ?? "FIN"}) while waiting for a packet`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no packet within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiter = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.waiter = undefined
    }
  }

  /** Resolves true when the server closed the connection within `timeoutMs`. */
  async waitClose(timeoutMs: number): Promise<boolean> {
    if (this.closedFlag) return true
    let t: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((resolve) => (t = setTimeout(() => resolve(false), timeoutMs)))
    const r = await Promise.race([this.closed.then(() => true as const), timeout])
    clearTimeout(t)
    return r
  }

  send(payload: Buffer, seq: number): void {
    if (!this.sock.destroyed) this.sock.write(frame(payload, seq))
  }

  sendRaw(bytes: Buffer): void {
    if (!this.sock.destroyed) this.sock.write(bytes)
  }

  /** Half-close: no more bytes from us. */
  end(): void {
    if (!this.sock.destroyed) this.sock.end()
  }

  destroy(): void {
    this.sock.destroy()
  }

  isClosed(): boolean {
    return this.closedFlag
  }

  /** Every packet the server sent so far. */
  packets(): ReadonlyArray<Packet> {
    return this.received
  }

  /** Bytes of an incomplete packet left at the end of what the server sent. */
  trailingBytes(): number {
    return this.buf.length
  }

  async greeting(timeoutMs = 5000): Promise<Greeting> {
    const p = await this.next(timeoutMs)
    if (p.payload[0] === 0xff) throw new Error(`server refused the connection: ${describePacket(p.payload)}`)
    return parseGreeting(p.payload)
  }

  /**
   * Read the greeting and log in. Returns the greeting on OK; throws with the server's ERR otherwise.
   */
  async login(user = "root", password = "", database?: string): Promise<Greeting> {
    const g = await this.greeting()
    const resp = handshakeResponse({
      user,
      authResponse: nativePasswordToken(password, g.scramble),
      ...(database !== undefined ? { database } : {})
    })
    this.send(resp, 1)
    let p = await this.next()
    if (p.payload[0] === 0xfe) {
      // auth switch request: plugin name NUL, then the new scramble
      const nul = p.payload.indexOf(0, 1)
      const plugin = p.payload.subarray(1, nul).toString("latin1")
      if (plugin !== "mysql_native_password") throw new Error(`unexpected auth switch to ${plugin}`)
      const scramble = p.payload.subarray(nul + 1, nul + 21)
      this.send(nativePasswordToken(password, scramble), p.seq + 1)
      p = await this.next()
    }
    if (p.payload[0] !== 0x00) throw new Error(`login failed: ${describePacket(p.payload)}`)
    return g
  }

  /**
   * Read one complete response to a command: OK, ERR, a lone EOF, a string (COM_STATISTICS), or a
   * text result set (column count, column definitions, EOF, rows, EOF/ERR). Returns its packets.
   */
  async response(timeoutMs = 5000): Promise<Array<Packet>> {
    const first = await this.next(timeoutMs)
    const out = [first]
    const t = first.payload[0]
    if (t === 0x00 || t === 0xff || (t === 0xfe && first.payload.length < 9)) return out
    const cols = readLenenc(first.payload, 0)
    if (cols === undefined || cols.end !== first.payload.length) return out // a string response
    for (let i = 0; i < cols.value; i++) out.push(await this.next(timeoutMs))
    out.push(await this.next(timeoutMs)) // EOF after the column definitions
    for (;;) {
      const row = await this.next(timeoutMs)
      out.push(row)
      const r0 = row.payload[0]
      if (r0 === 0xff || (r0 === 0xfe && row.payload.length < 9)) return out
    }
  }
}

/** Length-encoded integer at `o`: its value and the offset after it. */
export function readLenenc(b: Buffer, o: number): { value: number; end: number } | undefined {
  const f = b[o]
  if (f === undefined) return undefined
  if (f < 0xfb) return { value: f, end: o + 1 }
  if (f === 0xfc && o + 3 <= b.length) return { value: b.readUInt16LE(o + 1), end: o + 3 }
  if (f === 0xfd && o + 4 <= b.length) return { value: b.readUIntLE(o + 1, 3), end: o + 4 }
  if (f === 0xfe && o + 9 <= b.length) return { value: Number(b.readBigUInt64LE(o + 1)), end: o + 9 }
  return undefined
}

export interface ErrPacket {
  readonly code: number
  readonly sqlState: string
  readonly message: string
}

export function parseErr(p: Buffer): ErrPacket | undefined {
  if (p[0] !== 0xff || p.length < 3) return undefined
  const code = p.readUInt16LE(1)
  if (p[3] === 0x23 /* '#' */) {
    return { code, sqlState: p.subarray(4, 9).toString("latin1"), message: p.subarray(9).toString("utf8") }
  }
  return { code, sqlState: "", message: p.subarray(3).toString("utf8") }
}

export function describePacket(p: Buffer): string {
  const e = parseErr(p)
  if (e) return `ERR ${e.code} (${e.sqlState}) ${e.message}`
  if (p[0] === 0x00) return "OK"
  if (p[0] === 0xfe && p.length < 9) return "EOF"
  return `packet[${p.length}] ${p.subarray(0, 16).toString("hex")}`
}

/** mulberry32: a small, fast, seeded PRNG. */
export function prng(seed: number): { next(): number; int(n: number): number; bytes(n: number): Buffer } {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const bytes = (n: number) => {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = int(256)
    return b
  }
  return { next, int, bytes }
}
