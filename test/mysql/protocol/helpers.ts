/**
 * Test-only helpers for the protocol tests: hex goldens to packets, a column-definition decoder
 * (the server never needs one), re-framing, and a seeded PRNG.
 */
import { Cursor } from "../../../src/mysql/protocol/Buffers.ts"
import type { ColumnDef } from "../../../src/mysql/protocol/Encode.ts"
import { type Packet, PacketReader } from "../../../src/mysql/protocol/PacketReader.ts"
import { ProtocolError } from "../../../src/mysql/protocol/ProtocolError.ts"

export const fromHex = (hex: string): Buffer => Buffer.from(hex, "hex")

/** Splits raw wire bytes into packets; throws on a malformed stream (test code). */
export const packetsOf = (bytes: Buffer): Array<Packet> => {
  const reader = new PacketReader(1 << 30)
  reader.push(bytes)
  const out: Array<Packet> = []
  for (let p = reader.next(); p !== undefined; p = reader.next()) {
    if (p instanceof ProtocolError) throw p
    out.push(p)
  }
  if (reader.bufferedBytes !== 0) throw new Error(`${reader.bufferedBytes} trailing bytes`)
  return out
}

/** The payload of the single packet in `hex`. */
export const payloadOf = (hex: string): Buffer => {
  const ps = packetsOf(fromHex(hex))
  if (ps.length !== 1) throw new Error(`expected one packet, got ${ps.length}`)
  return ps[0]!.payload
}

/** Frames payloads (< 16 MiB each) with consecutive sequence ids starting at `seq`. */
export const frame = (payloads: ReadonlyArray<Buffer>, seq: number): Buffer =>
  Buffer.concat(
    payloads.flatMap((p, i) => {
      const h = Buffer.alloc(4)
      h.writeUIntLE(p.length, 0, 3)
      h[3] = (seq + i) & 0xff
      return [h, p]
    })
  )

const strings = (c: Cursor, n: number) => Array.from({ length: n }, () => c.lenencString())

/**
 * Decodes a protocol-41 column definition. With `extendedMetadata` (MariaDB's
 * MARIADB_CLIENT_EXTENDED_METADATA, which mysql2 requests from MariaDB) a length-encoded
 * metadata block sits between orgName and the fixed-length fields.
 */
export const decodeColumnDef = (payload: Buffer, extendedMetadata = false): ColumnDef => {
  const c = new Cursor(payload)
  const [catalog, schema, table, orgTable, name, orgName] = strings(c, 6) as [string, string, string, string, string, string]
  if (catalog !== "def") throw new Error(`catalog ${catalog}`)
  if (extendedMetadata) c.lenencBytes()
  if (c.lenencInt() !== 0x0c) throw new Error("fixed-length fields length")
  const def = {
    schema,
    table,
    orgTable,
    name,
    orgName,
    charset: c.u16(),
    length: c.u32(),
    type: c.u8(),
    flags: c.u16(),
    decimals: c.u8()
  }
  c.u16()
  if (!c.ok || !c.atEnd) throw new Error("bad column definition")
  return def
}

/** Removes MariaDB's extended-metadata block from a column definition payload. */
export const stripExtendedMetadata = (payload: Buffer): Buffer => {
  const c = new Cursor(payload)
  strings(c, 6)
  const start = c.pos
  c.lenencBytes()
  return Buffer.concat([payload.subarray(0, start), payload.subarray(c.pos)])
}

export interface ParsedHandshake {
  readonly serverVersion: string
  readonly connectionId: number
  readonly scramble: Buffer
  readonly capabilities: number
  readonly charset: number
  readonly status: number
  readonly mariadbCapabilities: number
  readonly authPluginName: string
}

/** Parses a HandshakeV10 payload (the server never needs to). */
export const parseHandshake = (payload: Buffer): ParsedHandshake => {
  const c = new Cursor(payload)
  if (c.u8() !== 10) throw new Error("not a HandshakeV10")
  const serverVersion = c.nulString()
  const connectionId = c.u32()
  const part1 = c.bytes(8)
  c.u8()
  const capsLow = c.u16()
  const charset = c.u8()
  const status = c.u16()
  const capsHigh = c.u16()
  const dataLength = c.u8()
  c.bytes(6)
  const mariadbCapabilities = c.u32()
  const part2 = c.bytes(Math.max(13, dataLength - 8))
  const authPluginName = c.nulString()
  if (!c.ok) throw new Error("bad handshake")
  return {
    serverVersion,
    connectionId,
    scramble: Buffer.concat([part1, part2.subarray(0, part2.length - 1)]),
    capabilities: (capsLow | (capsHigh << 16)) >>> 0,
    charset,
    status,
    mariadbCapabilities,
    authPluginName
  }
}

/** xorshift32: a tiny seeded PRNG for fuzzing. */
export const xorshift = (seed: number) => {
  let s = seed >>> 0 || 1
  const next = (): number => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
  return {
    next,
    /** Integer in [0, n). */
    int: (n: number): number => next() % n,
    float: (): number => next() / 0x100000000,
    bytes: (n: number): Buffer => {
      const b = Buffer.allocUnsafe(n)
      for (let i = 0; i < n; i++) b[i] = next() & 0xff
      return b
    }
  }
}
export type Rng = ReturnType<typeof xorshift>
