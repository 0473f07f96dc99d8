/** Decoding what real clients sent (captured in fixtures/goldens.ts), and verifying their passwords. */
import { describe, expect, it } from "vitest"
import {
  nativePasswordHash,
  scrambleCachingSha2,
  scrambleNativePassword,
  sha2PasswordHash,
  verifyCachingSha2,
  verifyNativePassword
} from "../../../src/mysql/protocol/Auth.ts"
import { Capability } from "../../../src/mysql/protocol/Constants.ts"
import {
  type ClientCommand,
  decodeCommand,
  decodeExecuteParams,
  decodeHandshakeResponse,
  type HandshakeResponse,
  isSslRequest
} from "../../../src/mysql/protocol/Decode.ts"
import { ProtocolError } from "../../../src/mysql/protocol/ProtocolError.ts"
import * as G from "./fixtures/goldens.ts"
import { fromHex, packetsOf, parseHandshake, payloadOf } from "./helpers.ts"

const ok = <A>(r: A | ProtocolError): A => {
  if (r instanceof ProtocolError) throw new Error(`unexpected ProtocolError: ${r.message}`)
  return r
}

const response = (hex: string): HandshakeResponse => ok(decodeHandshakeResponse(payloadOf(hex)))

describe("HandshakeResponse41 from real clients (mysql_native_password against MariaDB)", () => {
  const clients = [
    ["mysql2", G.mariadbHandshake, G.mysql2HandshakeResponse, "Node-MySQL-2"],
    ["mariadb CLI", G.cliHandshake, G.cliHandshakeResponse, "libmariadb"],
    ["pymysql", G.pymysqlHandshake, G.pymysqlHandshakeResponse, "pymysql"],
    ["php mysqli", G.phpHandshake, G.phpHandshakeResponse, "mysqlnd"]
  ] as const

  it.each(clients)("%s", (_, handshakeHex, responseHex, clientName) => {
    const [packet] = packetsOf(fromHex(responseHex))
    expect(packet!.sequenceId).toBe(1)
    const r = response(responseHex)
    expect(r.capabilities & Capability.PROTOCOL_41).not.toBe(0)
    expect(r.capabilities & Capability.SSL).toBe(0)
    expect(r.username).toBe("golden")
    expect(r.database).toBe("golden")
    expect(r.authPluginName).toBe("mysql_native_password")
    expect(r.authResponse).toHaveLength(20)
    expect(r.attributes["_client_name"]).toBe(clientName)
    const { scramble } = parseHandshake(payloadOf(handshakeHex))
    expect(scrambleNativePassword(G.PASSWORD, scramble)).toEqual(r.authResponse)
    expect(verifyNativePassword(scramble, r.authResponse, nativePasswordHash(G.PASSWORD))).toBe(true)
    expect(verifyNativePassword(scramble, r.authResponse, nativePasswordHash("wrong"))).toBe(false)
    expect(verifyNativePassword(scramble, r.authResponse, undefined)).toBe(false)
    expect(isSslRequest(packet!.payload)).toBe(false)
  })

  it("client specifics seen in the captures", () => {
    // mysql2 announces max packet size 0; PHP 3 GiB; libmariadb 1 MiB; pymysql 16 MiB - 1.
    expect(response(G.mysql2HandshakeResponse).maxPacketSize).toBe(0)
    expect(response(G.phpHandshakeResponse).maxPacketSize).toBe(0xc0000000)
    expect(response(G.cliHandshakeResponse).maxPacketSize).toBe(1 << 20)
    expect(response(G.pymysqlHandshakeResponse).maxPacketSize).toBe(0xffffff)
    // Collations: mysql2 utf8mb4_unicode_ci, CLI utf8_general_ci, pymysql utf8mb4_general_ci,
    // PHP the server's default (latin1 here).
    expect([G.mysql2HandshakeResponse, G.cliHandshakeResponse, G.pymysqlHandshakeResponse, G.phpHandshakeResponse].map((h) => response(h).charset)).toEqual([224, 33, 45, 8])
    // Talking to MariaDB, mysql2 and libmariadb clear CLIENT_LONG_PASSWORD ("CLIENT_MYSQL") and
    // put MariaDB capabilities into the filler (mysql2: extended metadata only).
    expect(response(G.mysql2HandshakeResponse).capabilities & Capability.LONG_PASSWORD).toBe(0)
    expect(payloadOf(G.mysql2HandshakeResponse).readUInt32LE(28)).toBe(8)
    expect(response(G.pymysqlHandshakeResponse).capabilities & Capability.LONG_PASSWORD).toBe(1)
  })

  it("an SSLRequest is the 32-byte prefix with CLIENT_SSL", () => {
    const prefix = Buffer.from(payloadOf(G.pymysqlHandshakeResponse).subarray(0, 32))
    expect(isSslRequest(prefix)).toBe(false)
    prefix.writeUInt32LE(prefix.readUInt32LE(0) | Capability.SSL, 0)
    expect(isSslRequest(prefix)).toBe(true)
    expect(decodeHandshakeResponse(prefix)).toBeInstanceOf(ProtocolError)
  })
})

describe("caching_sha2_password fast path (client bytes captured against a stub)", () => {
  const scramble = fromHex(G.STUB_SCRAMBLE_HEX)

  it.each([
    ["mysql2", G.stubMysql2Sha2Response],
    ["pymysql", G.stubPymysqlSha2Response]
  ])("%s", (_, hex) => {
    const r = ok(decodeHandshakeResponse(fromHex(hex)))
    expect(r.authPluginName).toBe("caching_sha2_password")
    expect(r.database).toBeUndefined()
    expect(r.authResponse).toHaveLength(32)
    expect(scrambleCachingSha2(G.PASSWORD, scramble)).toEqual(r.authResponse)
    expect(verifyCachingSha2(scramble, r.authResponse, sha2PasswordHash(G.PASSWORD))).toBe(true)
    expect(verifyCachingSha2(scramble, r.authResponse, sha2PasswordHash("goldenpw "))).toBe(false)
    expect(verifyCachingSha2(scramble, r.authResponse, undefined)).toBe(false)
  })
})

describe("commands from mysql2", () => {
  const cmd = (hex: string, caps = 0): ClientCommand => {
    const [p] = packetsOf(fromHex(hex))
    expect(p!.sequenceId).toBe(0)
    return ok(decodeCommand(p!.payload, caps))
  }

  it("COM_QUERY and COM_STMT_PREPARE", () => {
    expect(cmd(G.mysql2QuerySelect1)).toEqual({ _tag: "Query", sql: "SELECT 1" })
    expect(cmd(G.mysql2QuerySelectT)).toEqual({ _tag: "Query", sql: "SELECT * FROM t ORDER BY id" })
    expect(cmd(G.mysql2StmtPrepare)).toEqual({ _tag: "StmtPrepare", sql: "SELECT ?, ?, ?, ?, ?, ?, ?" })
  })

  it("COM_STMT_EXECUTE with plain JavaScript values", () => {
    const c = cmd(G.mysql2StmtExecute)
    if (c._tag !== "StmtExecute") throw new Error(c._tag)
    expect(c).toMatchObject({ statementId: 1, flags: 0, iterationCount: 1, queryAttributes: false })
    const r = ok(decodeExecuteParams(c.body, 7, undefined, undefined))
    // mysql2 sends every JS number as DOUBLE and a bigint as its decimal VAR_STRING.
    expect(r.values).toEqual([42, "1152921504606846977", 3.25, "héllo", null, fromHex("000102ff"), "2024-01-02 03:04:05.678000"])
    expect(r.types.map((t) => t.type)).toEqual([5, 253, 5, 253, 6, 252, 12])
    // Re-executing with new-params-bound = 0 reuses the types.
    const again = Buffer.from(c.body)
    const rebound = Buffer.concat([again.subarray(0, 1), Buffer.from([0]), again.subarray(2 + 14)])
    expect(ok(decodeExecuteParams(rebound, 7, r.types, undefined)).values).toEqual(r.values)
    expect(decodeExecuteParams(rebound, 7, undefined, undefined)).toBeInstanceOf(ProtocolError)
  })

  it("COM_STMT_EXECUTE with typed 64-bit parameters", () => {
    const c = cmd(G.mysql2StmtExecuteTyped)
    if (c._tag !== "StmtExecute") throw new Error(c._tag)
    const r = ok(decodeExecuteParams(c.body, 4, undefined, undefined))
    expect(r.values).toEqual([-(2n ** 60n) - 3n, 2n ** 64n - 2n, -7, 123456])
    expect(r.types).toEqual([
      { type: 8, unsigned: false },
      { type: 8, unsigned: true },
      { type: 1, unsigned: false },
      { type: 3, unsigned: false }
    ])
  })

  it("COM_QUERY and COM_STMT_EXECUTE with CLIENT_QUERY_ATTRIBUTES", () => {
    expect(ok(decodeCommand(fromHex(G.stubMysql2QueryWithAttributes), G.STUB_CAPABILITIES))).toEqual({
      _tag: "Query",
      sql: "SELECT 1"
    })
    // Without the capability the attribute prefix would be taken for SQL text.
    expect(ok(decodeCommand(fromHex(G.stubMysql2QueryWithAttributes), 0))).not.toEqual({ _tag: "Query", sql: "SELECT 1" })
    const c = ok(decodeCommand(fromHex(G.stubMysql2ExecuteWithAttributes), G.STUB_CAPABILITIES))
    if (c._tag !== "StmtExecute") throw new Error(c._tag)
    expect(c.queryAttributes).toBe(true)
    const r = ok(decodeExecuteParams(c.body, 2, undefined, undefined, c))
    expect(r.values).toEqual([7, "q"])
    expect(r.types).toHaveLength(2)
  })
})
