/** ResponseBuffer framing and PacketReader reassembly. */
import { describe, expect, it } from "vitest"
import { MAX_PACKET_CHUNK } from "../../../src/mysql/protocol/Constants.ts"
import { type Packet, PacketReader } from "../../../src/mysql/protocol/PacketReader.ts"
import { ProtocolError } from "../../../src/mysql/protocol/ProtocolError.ts"
import { ResponseBuffer } from "../../../src/mysql/protocol/ResponseBuffer.ts"
import { frame, xorshift } from "./helpers.ts"

const SEED = 0x5eed1234

/** Pushes `bytes` in random-sized chunks and collects everything the reader returns. */
const readAll = (bytes: Buffer, max: number, seed: number, maxChunk = 1 << 20) => {
  const rng = xorshift(seed)
  const reader = new PacketReader(max)
  const out: Array<Packet | ProtocolError> = []
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + rng.int(rng.int(4) === 0 ? 8 : maxChunk)
    reader.push(bytes.subarray(i, i + n))
    i += n
    for (let p = reader.next(); p !== undefined; p = reader.next()) {
      out.push(p)
      if (p instanceof ProtocolError) return { out, reader }
    }
  }
  return { out, reader }
}

const pattern = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8)) & 0xff
  return b
}

const writePayload = (out: ResponseBuffer, payload: Buffer) => {
  out.begin().bytes(payload).end()
}

describe("ResponseBuffer", () => {
  it("frames packets with consecutive sequence ids and wraps at 256", () => {
    const out = new ResponseBuffer(254)
    for (let i = 0; i < 4; i++) out.begin().u8(i).end()
    expect(out.sequenceId).toBe(2)
    expect(out.take()).toEqual(frame([0, 1, 2, 3].map((i) => Buffer.from([i])), 254))
    expect(out.length).toBe(0)
    expect(out.sequenceId).toBe(2)
  })

  it("writes every integer width little-endian, negatives in two's complement", () => {
    const out = new ResponseBuffer()
    out.begin().u8(0x1ff).u16(-2).u24(0x123456).u32(0xfedcba98).u64(-1).u64(2 ** 53 + 2).u64(2n ** 64n - 1n).u64(-(2n ** 63n)).end()
    expect(out.take().subarray(4).toString("hex")).toBe(
      "ff" + "feff" + "563412" + "98badcfe" + "ffffffffffffffff" + "0200000000002000" + "ffffffffffffffff" + "0000000000000080"
    )
  })

  it("length-encoded integers and strings at every size boundary", () => {
    const cases: Array<[number | bigint, string]> = [
      [0, "00"],
      [250, "fa"],
      [251, "fcfb00"],
      [0xffff, "fcffff"],
      [0x10000, "fd000001"],
      [0xffffff, "fdffffff"],
      [0x1000000, "fe0000000100000000"],
      [2n ** 64n - 1n, "feffffffffffffffff"]
    ]
    for (const [n, hex] of cases) {
      const out = new ResponseBuffer()
      out.lenencInt(n)
      expect(out.take().toString("hex")).toBe(hex)
    }
    for (const s of ["", "a", "é".repeat(83), "€".repeat(83), "x".repeat(84), "€".repeat(84), "y".repeat(70000), "\ud800"]) {
      const out = new ResponseBuffer(0, 64)
      out.lenencString(s)
      const bytes = Buffer.from(s, "utf8")
      const expected = new ResponseBuffer()
      expected.lenencInt(bytes.length).bytes(bytes)
      expect(out.take()).toEqual(expected.take())
    }
  })

  it("take() hands out independent buffers and keeps working", () => {
    const out = new ResponseBuffer(0, 64)
    out.begin().fixedString("first").end()
    const a = out.take()
    writePayload(out, pattern(100_000))
    const big = out.take()
    out.begin().fixedString("third").end()
    const c = out.take()
    expect(a.subarray(4).toString()).toBe("first")
    expect(big.subarray(4)).toEqual(pattern(100_000))
    expect(c.subarray(4).toString()).toBe("third")
    expect(c[3]).toBe(2)
  })

  it("misuse throws (programming errors, not input errors)", () => {
    const out = new ResponseBuffer()
    expect(() => out.end()).toThrow()
    out.begin()
    expect(() => out.begin()).toThrow()
    expect(() => out.take()).toThrow()
  })

  it("splits a payload of exactly 0xffffff bytes into a full packet and an empty one", () => {
    const out = new ResponseBuffer(3)
    writePayload(out, pattern(MAX_PACKET_CHUNK))
    const bytes = out.take()
    expect(bytes.length).toBe(MAX_PACKET_CHUNK + 8)
    expect(bytes.subarray(0, 4).toString("hex")).toBe("ffffff03")
    expect(bytes.subarray(MAX_PACKET_CHUNK + 4).toString("hex")).toBe("00000004")
    expect(out.sequenceId).toBe(5)
  })

  it("splits a 2×0xffffff + 10 byte payload and keeps later packets intact", () => {
    const payload = pattern(2 * MAX_PACKET_CHUNK + 10)
    const out = new ResponseBuffer(255)
    writePayload(out, payload)
    out.begin().fixedString("after").end()
    const bytes = out.take()
    expect(bytes.length).toBe(payload.length + 3 * 4 + 4 + 5)
    const { out: packets } = readAll(bytes, 1 << 26, SEED)
    expect(packets).toHaveLength(2)
    const [p, q] = packets as [Packet, Packet]
    expect(p.sequenceId).toBe(1) // fragments 255, 0, 1: the last fragment's id
    expect(p.payload.equals(payload)).toBe(true)
    expect(q).toEqual({ sequenceId: 2, payload: Buffer.from("after") })
  })
})

describe("PacketReader", () => {
  it("hands back the bytes after the last packet (an SSLRequest followed by the TLS ClientHello)", () => {
    const r = new PacketReader(1024)
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
    const request = frame([Buffer.alloc(32, 1)], 1)
    r.push(Buffer.concat([request.subarray(0, 10)]))
    r.push(Buffer.concat([request.subarray(10), hello.subarray(0, 2)]))
    r.push(hello.subarray(2))
    expect((r.next() as Packet).payload).toEqual(Buffer.alloc(32, 1))
    expect(r.takeRemaining()).toEqual(hello)
    expect(r.bufferedBytes).toBe(0)
    expect(r.next()).toBeUndefined()
    expect(r.takeRemaining()).toEqual(Buffer.alloc(0))
  })

  it("returns several packets from one chunk as views without copying", () => {
    const bytes = frame([Buffer.from("one"), Buffer.alloc(0), Buffer.from("three")], 7)
    const reader = new PacketReader(1024)
    reader.push(bytes)
    const a = reader.next() as Packet
    expect(a).toEqual({ sequenceId: 7, payload: Buffer.from("one") })
    expect(a.payload.buffer).toBe(bytes.buffer)
    expect(reader.next()).toEqual({ sequenceId: 8, payload: Buffer.alloc(0) })
    expect(reader.next()).toEqual({ sequenceId: 9, payload: Buffer.from("three") })
    expect(reader.next()).toBeUndefined()
    expect(reader.bufferedBytes).toBe(0)
  })

  it("reassembles headers and payloads split at every byte", () => {
    const bytes = frame([Buffer.from("hello"), Buffer.from("world!")], 0)
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let cut2 = cut; cut2 <= bytes.length; cut2++) {
        const reader = new PacketReader(64)
        const got: Array<unknown> = []
        for (const part of [bytes.subarray(0, cut), bytes.subarray(cut, cut2), bytes.subarray(cut2)]) {
          reader.push(part)
          for (let p = reader.next(); p !== undefined; p = reader.next()) got.push(p)
        }
        expect(got).toEqual([
          { sequenceId: 0, payload: Buffer.from("hello") },
          { sequenceId: 1, payload: Buffer.from("world!") }
        ])
      }
    }
  })

  it.each([
    ["16 MiB + 1000 bytes", MAX_PACKET_CHUNK + 1000],
    ["exactly 0xffffff bytes", MAX_PACKET_CHUNK],
    ["2 × 0xffffff bytes", 2 * MAX_PACKET_CHUNK],
    ["100 bytes", 100]
  ])("round-trips a payload of %s through ResponseBuffer and random chunking", (_, size) => {
    const payload = pattern(size)
    const out = new ResponseBuffer(0)
    writePayload(out, payload)
    out.begin().u8(0x0e).end()
    const bytes = out.take()
    for (const seed of [SEED, SEED + 1]) {
      const { out: packets, reader } = readAll(bytes, 1 << 26, seed, 300_000)
      expect(packets).toHaveLength(2)
      const [p, ping] = packets as [Packet, Packet]
      expect(p.payload.equals(payload), `seed ${seed}`).toBe(true)
      const fragments = Math.floor(size / MAX_PACKET_CHUNK) + 1
      expect(p.sequenceId).toBe(fragments - 1)
      expect(ping).toEqual({ sequenceId: fragments, payload: Buffer.from([0x0e]) })
      expect(reader.bufferedBytes).toBe(0)
    }
  })

  it("flags a payload above the limit as tooLarge as soon as the header arrives", () => {
    const reader = new PacketReader(1000)
    reader.push(frame([pattern(1000)], 0))
    expect((reader.next() as Packet).payload).toHaveLength(1000)
    reader.push(Buffer.from([0xe9, 0x03, 0x00, 0x01])) // 1001 bytes announced, none sent
    const err = reader.next()
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as ProtocolError).tooLarge).toBe(true)
    reader.push(frame([Buffer.from("x")], 2))
    expect(reader.next()).toBe(err) // stays failed
  })

  it("counts continuation fragments against the limit", () => {
    const out = new ResponseBuffer()
    writePayload(out, pattern(MAX_PACKET_CHUNK + 5))
    const { out: packets } = readAll(out.take(), MAX_PACKET_CHUNK + 4, SEED)
    expect(packets).toHaveLength(1)
    expect((packets[0] as ProtocolError).tooLarge).toBe(true)
  })

  it("rejects a continuation fragment with the wrong sequence id", () => {
    const out = new ResponseBuffer(10)
    writePayload(out, pattern(MAX_PACKET_CHUNK + 5))
    const bytes = out.take()
    bytes[MAX_PACKET_CHUNK + 4 + 3] = 12 // expected 11
    const { out: packets } = readAll(bytes, 1 << 26, SEED)
    expect(packets).toHaveLength(1)
    expect(packets[0]).toBeInstanceOf(ProtocolError)
    expect((packets[0] as ProtocolError).message).toBe("packets out of order")
    expect((packets[0] as ProtocolError).tooLarge).toBeUndefined()
  })
})
