/** Encoder details the goldens do not cover. */
import { describe, expect, it } from "vitest"
import { Capability, Charset, ServerStatus } from "../../../src/mysql/protocol/Constants.ts"
import {
  writeColumnDefinition,
  writeErr,
  writeHandshakeV10,
  writeLocalInfileRequest,
  writeOk
} from "../../../src/mysql/protocol/Encode.ts"
import { ResponseBuffer } from "../../../src/mysql/protocol/ResponseBuffer.ts"
import { decodeColumnDef, parseHandshake } from "./helpers.ts"

const body = (write: (out: ResponseBuffer) => void): string => {
  const out = new ResponseBuffer()
  write(out)
  return out.take().subarray(4).toString("hex")
}

describe("encoders", () => {
  it("OK with header 0xfe ends a result set under CLIENT_DEPRECATE_EOF", () => {
    const hex = body((o) => writeOk(o, { header: 0xfe, affectedRows: 0, lastInsertId: 0, status: 0x22, warnings: 1 }))
    expect(hex).toBe("fe" + "00" + "00" + "2200" + "0100")
  })

  it("OK with large counters and a string[EOF] info", () => {
    const hex = body((o) =>
      writeOk(o, { affectedRows: 2n ** 40n, lastInsertId: 300, status: ServerStatus.IN_TRANS, warnings: 0, info: "ok" })
    )
    expect(hex).toBe("00" + "fe0000000000010000" + "fc2c01" + "0100" + "0000" + "6f6b")
  })

  it("ERR falls back to HY000 for a malformed SQLSTATE", () => {
    expect(body((o) => writeErr(o, { code: 1105, sqlState: "X", message: "m" }))).toBe("ff5104" + "23" + "4859303030" + "6d")
  })

  it("LOCAL INFILE request", () => {
    expect(body((o) => writeLocalInfileRequest(o, "/tmp/a.csv"))).toBe("fb" + Buffer.from("/tmp/a.csv").toString("hex"))
  })

  it("column definitions round-trip, including long names", () => {
    const def = {
      schema: "db",
      table: "t".repeat(300),
      orgTable: "T",
      name: "naïve",
      orgName: "",
      charset: Charset.UTF8MB4_GENERAL_CI,
      length: 0xffffffff,
      type: 253,
      flags: 0x1001,
      decimals: 31
    }
    const out = new ResponseBuffer()
    writeColumnDefinition(out, def)
    expect(decodeColumnDef(out.take().subarray(4))).toEqual(def)
  })

  it("handshake with MySQL-style capabilities parses back", () => {
    const scramble = Buffer.from("abcdefghijklmnopqrst")
    const caps =
      Capability.LONG_PASSWORD | Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH |
      Capability.DEPRECATE_EOF | Capability.CONNECT_ATTRS
    const out = new ResponseBuffer()
    writeHandshakeV10(out, {
      serverVersion: "8.0.36-marmot",
      connectionId: 0xdeadbeef,
      authPluginData: scramble,
      capabilities: caps,
      charset: Charset.UTF8MB4_0900_AI_CI,
      status: ServerStatus.AUTOCOMMIT,
      authPluginName: "caching_sha2_password"
    })
    const bytes = out.take()
    expect(bytes[3]).toBe(0)
    expect(parseHandshake(bytes.subarray(4))).toEqual({
      serverVersion: "8.0.36-marmot",
      connectionId: 0xdeadbeef,
      scramble,
      capabilities: caps,
      charset: 255,
      status: 2,
      mariadbCapabilities: 0,
      authPluginName: "caching_sha2_password"
    })
  })
})
