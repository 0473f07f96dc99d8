/**
 * Fuzzing: random and mutated inputs (bit flips, truncations, splices of the captured goldens)
 * must never make a decoder throw; every result is a well-formed value or a ProtocolError.
 * Reproduce a failure with FUZZ_SEED=<seed printed in the failure message>.
 */
import { describe, expect, it } from "vitest"
import { Capability, ColumnType } from "../../../src/mysql/protocol/Constants.ts"
import {
  decodeCommand,
  decodeExecuteParams,
  decodeHandshakeResponse,
  type ParamType
} from "../../../src/mysql/protocol/Decode.ts"
import { PacketReader } from "../../../src/mysql/protocol/PacketReader.ts"
import { ProtocolError } from "../../../src/mysql/protocol/ProtocolError.ts"
import * as G from "./fixtures/goldens.ts"
import { fromHex, packetsOf, type Rng, xorshift } from "./helpers.ts"

const SEED = Number(process.env["FUZZ_SEED"] ?? 0x6d61726d)
const ITERATIONS = Number(process.env["FUZZ_ITERATIONS"] ?? 25_000)

const clientPayloads = (): Array<Buffer> => {
  const wire = [
    G.mysql2HandshakeResponse, G.cliHandshakeResponse, G.pymysqlHandshakeResponse, G.phpHandshakeResponse,
    G.mysql2QuerySelect1, G.mysql2QuerySelectT, G.mysql2StmtPrepare, G.mysql2StmtExecute, G.mysql2StmtExecuteTyped
  ].flatMap((h) => packetsOf(fromHex(h)).map((p) => p.payload))
  const raw = [G.stubMysql2Sha2Response, G.stubPymysqlSha2Response, G.stubMysql2QueryWithAttributes, G.stubMysql2ExecuteWithAttributes].map(fromHex)
  return [...wire, ...raw]
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xfb, 0xfc, 0xfd, 0xfe, 0xff]

const mutate = (rng: Rng, corpus: ReadonlyArray<Buffer>): Buffer => {
  const pick = () => corpus[rng.int(corpus.length)]!
  switch (rng.int(7)) {
    case 0:
      return rng.bytes(rng.int(64))
    case 1: {
      const b = pick()
      return b.subarray(0, rng.int(b.length + 1))
    }
    case 2: {
      const b = Buffer.from(pick())
      for (let k = 1 + rng.int(8); k > 0 && b.length > 0; k--) b[rng.int(b.length)]! ^= 1 << rng.int(8)
      return b
    }
    case 3: {
      const b = Buffer.from(pick())
      for (let k = 1 + rng.int(4); k > 0 && b.length > 0; k--) b[rng.int(b.length)] = INTERESTING[rng.int(INTERESTING.length)]!
      return b
    }
    case 4: {
      const a = pick()
      const b = pick()
      return Buffer.concat([a.subarray(0, rng.int(a.length + 1)), b.subarray(rng.int(b.length + 1))])
    }
    case 5: {
      const b = pick()
      const at = rng.int(b.length + 1)
      return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)])
    }
    default: {
      const b = Buffer.from(pick())
      if (b.length > 1) b[0] = rng.int(0x20) // another command byte
      return b
    }
  }
}

const CAPS = [0, Capability.QUERY_ATTRIBUTES, Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.CONNECT_ATTRS, 0xffffffff]
const TYPES = Object.values(ColumnType)

/** Runs `body` for ITERATIONS inputs, reporting the seed, iteration and input on failure. */
const fuzz = (name: string, body: (input: Buffer, rng: Rng) => void) => {
  it(`${name}: ${ITERATIONS} inputs without a throw (seed ${SEED})`, () => {
    const rng = xorshift(SEED ^ name.length)
    const corpus = clientPayloads()
    for (let i = 0; i < ITERATIONS; i++) {
      const input = mutate(rng, corpus)
      try {
        body(input, rng)
      } catch (e) {
        throw new Error(`${name} failed: FUZZ_SEED=${SEED} iteration ${i} input ${input.toString("hex")}: ${String(e)}`)
      }
    }
  })
}

const isTagged = (r: unknown): boolean =>
  r instanceof ProtocolError || (typeof r === "object" && r !== null && typeof (r as { _tag?: unknown })._tag === "string")

describe("fuzz", () => {
  fuzz("decodeCommand", (input, rng) => {
    const r = decodeCommand(input, CAPS[rng.int(CAPS.length)]!)
    if (!isTagged(r)) throw new Error("not a command or ProtocolError")
  })

  fuzz("decodeHandshakeResponse", (input) => {
    const r = decodeHandshakeResponse(input)
    if (!(r instanceof ProtocolError) && (typeof r.username !== "string" || !Buffer.isBuffer(r.authResponse))) {
      throw new Error("bad HandshakeResponse")
    }
  })

  fuzz("decodeExecuteParams", (input, rng) => {
    // Execute bodies start after the 10-byte header; also try raw inputs.
    const body = rng.int(2) === 0 && input.length > 10 ? input.subarray(10) : input
    const n = [7, 4, 2, rng.int(12)][rng.int(4)]! // the golden executes carry 7, 4 and 2 parameters
    const previous: Array<ParamType> | undefined =
      rng.int(2) === 0 ? undefined : Array.from({ length: n }, () => ({ type: TYPES[rng.int(TYPES.length)]!, unsigned: rng.int(2) === 0 }))
    const longData = rng.int(4) === 0 ? new Map([[rng.int(n + 1), [rng.bytes(rng.int(5))]]]) : undefined
    const attrs = rng.int(3) === 0 ? { flags: rng.int(16), queryAttributes: true } : undefined
    const r = decodeExecuteParams(body, n, previous, longData, attrs)
    if (r instanceof ProtocolError) return
    if (r.values.length !== n || r.types.length !== n) throw new Error("wrong parameter count")
    for (const v of r.values) {
      if (!(v === null || typeof v === "number" || typeof v === "bigint" || typeof v === "string" || Buffer.isBuffer(v))) {
        throw new Error(`bad value ${String(v)}`)
      }
    }
  })

  fuzz("PacketReader", (input, rng) => {
    const max = 1 + rng.int(64)
    const reader = new PacketReader(max)
    let error: ProtocolError | undefined
    for (let i = 0; i < input.length; ) {
      const n = 1 + rng.int(8)
      reader.push(input.subarray(i, i + n))
      i += n
      for (let p = reader.next(); p !== undefined; p = reader.next()) {
        if (p instanceof ProtocolError) {
          if (error !== undefined && p !== error) throw new Error("error changed")
          error = p
          break
        }
        if (error !== undefined) throw new Error("packet after error")
        if (p.payload.length > max || p.sequenceId < 0 || p.sequenceId > 255) throw new Error("bad packet")
      }
    }
  })

  it("PacketReader on mutated multi-packet streams made of real goldens", () => {
    const rng = xorshift(SEED)
    const streams = [G.mariadbTextResultSet, G.mariadbBinaryResultSet, G.mariadbStmtPrepareTable].map(fromHex)
    for (let i = 0; i < 2_000; i++) {
      const input = mutate(rng, streams)
      const reader = new PacketReader(1 << 16)
      reader.push(input)
      let count = 0
      for (let p = reader.next(); p !== undefined && count < 10_000; p = reader.next(), count++) {
        if (p instanceof ProtocolError) {
          expect(reader.next(), `FUZZ_SEED=${SEED} iteration ${i}`).toBe(p)
          break
        }
      }
    }
  })
})
