/** Command and parameter decoding on hand-built packets: every command shape and every error path. */
import { describe, expect, it } from "vitest"
import { Capability, ColumnType, Command, CursorFlag } from "../../../src/mysql/protocol/Constants.ts"
import { decodeCommand, decodeExecuteParams, decodeHandshakeResponse } from "../../../src/mysql/protocol/Decode.ts"
import { ProtocolError } from "../../../src/mysql/protocol/ProtocolError.ts"
import { ResponseBuffer } from "../../../src/mysql/protocol/ResponseBuffer.ts"

/** Builds a payload with the ResponseBuffer writers (header stripped). */
const payload = (write: (out: ResponseBuffer) => void): Buffer => {
  const out = new ResponseBuffer()
  out.begin()
  write(out)
  out.end()
  return out.take().subarray(4)
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}

describe("decodeCommand", () => {
  it.each([
    ["COM_PING", [Command.PING], { _tag: "Ping" }],
    ["COM_QUIT", [Command.QUIT], { _tag: "Quit" }],
    ["COM_RESET_CONNECTION", [Command.RESET_CONNECTION], { _tag: "ResetConnection" }],
    ["COM_STATISTICS", [Command.STATISTICS], { _tag: "Statistics" }],
    ["COM_PROCESS_INFO", [Command.PROCESS_INFO], { _tag: "ProcessInfo" }],
    ["COM_DEBUG", [Command.DEBUG], { _tag: "Debug" }],
    ["COM_CREATE_DB", [Command.CREATE_DB, 0x61], { _tag: "Unknown", code: Command.CREATE_DB }],
    ["COM_STMT_BULK_EXECUTE (MariaDB)", [0xfa, 1, 2], { _tag: "Unknown", code: 0xfa }],
    ["COM_SLEEP", [Command.SLEEP], { _tag: "Unknown", code: 0 }],
    ["COM_INIT_DB", [Command.INIT_DB, ...Buffer.from("dé")], { _tag: "InitDb", database: "dé" }],
    ["COM_QUERY empty", [Command.QUERY], { _tag: "Query", sql: "" }],
    ["COM_FIELD_LIST", [Command.FIELD_LIST, ...Buffer.from("t1\0%")], { _tag: "FieldList", table: "t1", wildcard: "%" }],
    ["COM_STMT_CLOSE", [Command.STMT_CLOSE, ...u32(9)], { _tag: "StmtClose", statementId: 9 }],
    ["COM_STMT_RESET", [Command.STMT_RESET, ...u32(0xffffffff)], { _tag: "StmtReset", statementId: 0xffffffff }],
    ["COM_STMT_FETCH", [Command.STMT_FETCH, ...u32(3), ...u32(100)], { _tag: "StmtFetch", statementId: 3, rows: 100 }],
    ["COM_SET_OPTION", [Command.SET_OPTION, 1, 0], { _tag: "SetOption", option: 1 }],
    ["COM_PROCESS_KILL", [Command.PROCESS_KILL, ...u32(77)], { _tag: "ProcessKill", connectionId: 77 }],
    ["COM_STMT_SEND_LONG_DATA", [Command.STMT_SEND_LONG_DATA, ...u32(5), 2, 0, 0xaa, 0xbb], {
      _tag: "StmtSendLongData",
      statementId: 5,
      paramId: 2,
      data: Buffer.from([0xaa, 0xbb])
    }],
    ["COM_STMT_EXECUTE", [Command.STMT_EXECUTE, ...u32(1), 0, ...u32(1)], {
      _tag: "StmtExecute",
      statementId: 1,
      flags: 0,
      iterationCount: 1,
      body: Buffer.alloc(0),
      queryAttributes: false
    }]
  ])("%s", (_, bytes, expected) => {
    expect(decodeCommand(Buffer.from(bytes), 0)).toEqual(expected)
  })

  it.each([
    ["empty packet", []],
    ["COM_STMT_CLOSE without id", [Command.STMT_CLOSE, 1, 2]],
    ["COM_STMT_EXECUTE cut in the header", [Command.STMT_EXECUTE, ...u32(1), 0, 1]],
    ["COM_STMT_FETCH without row count", [Command.STMT_FETCH, ...u32(1)]],
    ["COM_SET_OPTION without option", [Command.SET_OPTION, 1]],
    ["COM_FIELD_LIST without NUL", [Command.FIELD_LIST, 0x74]],
    ["COM_STMT_SEND_LONG_DATA without param id", [Command.STMT_SEND_LONG_DATA, ...u32(1), 2]]
  ])("%s → ProtocolError", (_, bytes) => {
    expect(decodeCommand(Buffer.from(bytes), 0)).toBeInstanceOf(ProtocolError)
  })

  it("COM_QUERY with query attributes but none attached (mysql2's 2-byte prefix)", () => {
    const p = Buffer.from([Command.QUERY, 0, 1, ...Buffer.from("SELECT 2")])
    expect(decodeCommand(p, Capability.QUERY_ATTRIBUTES)).toEqual({ _tag: "Query", sql: "SELECT 2" })
    expect(decodeCommand(Buffer.from([Command.QUERY, 1, 1, 0]), Capability.QUERY_ATTRIBUTES)).toBeInstanceOf(ProtocolError)
  })

  const auth = Buffer.alloc(20, 7)
  const changeUser = payload((o) => {
    o.u8(Command.CHANGE_USER).nulString("bob").u8(20).bytes(auth).nulString("db1").u16(45).nulString("mysql_native_password")
    o.lenencInt(10).lenencString("k1").lenencString("v1").lenencString("k2").lenencString("")
  })
  const full = Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.CONNECT_ATTRS | Capability.PROTOCOL_41

  it("COM_CHANGE_USER with every optional field", () => {
    expect(decodeCommand(changeUser, full)).toEqual({
      _tag: "ChangeUser",
      username: "bob",
      authResponse: auth,
      database: "db1",
      charset: 45,
      authPluginName: "mysql_native_password",
      attributes: { k1: "v1", k2: "" }
    })
  })

  it("COM_CHANGE_USER, old style: NUL-terminated auth data, nothing after the database", () => {
    const p = payload((o) => o.u8(Command.CHANGE_USER).nulString("al").nulString("abc").nulString(""))
    expect(decodeCommand(p, 0)).toEqual({
      _tag: "ChangeUser",
      username: "al",
      authResponse: Buffer.from("abc"),
      database: undefined,
      charset: undefined,
      authPluginName: undefined,
      attributes: {}
    })
  })

  it("COM_CHANGE_USER truncated anywhere is an error, never a throw", () => {
    for (let n = 1; n < changeUser.length; n++) {
      const r = decodeCommand(changeUser.subarray(0, n), full)
      if (!(r instanceof ProtocolError)) expect(r._tag).toBe("ChangeUser")
    }
    expect(decodeCommand(changeUser.subarray(0, 10), full)).toBeInstanceOf(ProtocolError)
  })
})

describe("decodeHandshakeResponse", () => {
  const build = (caps: number, tail: (o: ResponseBuffer) => void) =>
    payload((o) => {
      o.u32(caps).u32(1 << 24).u8(45).zeros(23)
      tail(o)
    })

  it("rejects HandshakeResponse320", () => {
    const r = decodeHandshakeResponse(build(Capability.SECURE_CONNECTION, (o) => o.nulString("u")))
    expect(r).toBeInstanceOf(ProtocolError)
    expect((r as ProtocolError).message).toMatch(/320/)
  })

  it("reads a NUL-terminated auth response without SECURE_CONNECTION", () => {
    const r = decodeHandshakeResponse(build(Capability.PROTOCOL_41, (o) => o.nulString("u").nulString("pw")))
    expect(r).toMatchObject({ username: "u", authResponse: Buffer.from("pw"), database: undefined, authPluginName: undefined })
  })

  it("tolerates a plugin name without its NUL, rejects a broken attribute block", () => {
    const caps = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH
    const r = decodeHandshakeResponse(build(caps, (o) => o.nulString("u").u8(0).fixedString("caching_sha2_password")))
    expect(r).toMatchObject({ authResponse: Buffer.alloc(0), authPluginName: "caching_sha2_password" })
    const bad = build(caps | Capability.CONNECT_ATTRS, (o) => o.nulString("u").u8(0).nulString("p").lenencInt(5).lenencString("abcdef"))
    expect(decodeHandshakeResponse(bad)).toBeInstanceOf(ProtocolError)
  })
})

describe("decodeExecuteParams", () => {
  const T = ColumnType
  /** bitmap, bound=1, types, values */
  const block = (nullBitmap: Array<number>, types: Array<[number, number]>, values: (o: ResponseBuffer) => void) =>
    payload((o) => {
      for (const b of nullBitmap) o.u8(b)
      o.u8(1)
      for (const [t, f] of types) o.u8(t).u8(f)
      values(o)
    })

  it("decodes NULLs from the bitmap and skips their values", () => {
    const types: Array<[number, number]> = Array.from({ length: 10 }, () => [T.TINY, 0])
    const body = block([0b0101_0101, 0b10], types, (o) => o.u8(1).u8(2).u8(3).u8(4).u8(5))
    const r = decodeExecuteParams(body, 10, undefined, undefined)
    expect(r).toEqual({ values: [null, 1, null, 2, null, 3, null, 4, 5, null], types: types.map(([type]) => ({ type, unsigned: false })) })
  })

  it("takes SEND_LONG_DATA parameters from longData, typed like the rest", () => {
    const body = block([0], [[T.BLOB, 0], [T.VAR_STRING, 0], [T.LONG, 0], [T.STRING, 0]], (o) => o.u32(-1))
    const longData = new Map([
      [0, [Buffer.from([1, 2]), Buffer.from([3])]],
      [1, [Buffer.from("hé"), Buffer.from("llo")]],
      [3, [Buffer.from([0xff])]]
    ])
    expect(decodeExecuteParams(body, 4, undefined, longData)).toMatchObject({
      values: [Buffer.from([1, 2, 3]), "héllo", -1, Buffer.from([0xff])]
    })
  })

  it("returns no values for a statement without parameters", () => {
    expect(decodeExecuteParams(Buffer.alloc(0), 0, undefined, undefined)).toEqual({ values: [], types: [] })
  })

  it("query attributes: a parameter count smaller than the statement's is an error", () => {
    const body = Buffer.from([1, 0, 1, T.TINY, 0, 0, 5])
    const attrs = { flags: CursorFlag.PARAMETER_COUNT_AVAILABLE, queryAttributes: true }
    expect(decodeExecuteParams(body, 2, undefined, undefined, attrs)).toBeInstanceOf(ProtocolError)
    expect(decodeExecuteParams(body, 1, undefined, undefined, attrs)).toMatchObject({ values: [5] })
  })

  it.each([
    ["truncated bitmap", Buffer.alloc(0), 3],
    ["missing bound flag", Buffer.from([0]), 1],
    ["invalid bound flag", Buffer.from([0, 2, T.TINY, 0, 1]), 1],
    ["truncated types", Buffer.from([0, 1, T.TINY]), 1],
    ["truncated value", Buffer.from([0, 1, T.LONG, 0, 1, 2]), 1],
    ["lenenc overrun", Buffer.from([0, 1, T.VAR_STRING, 0, 5, 0x61]), 1],
    ["bad date length", Buffer.from([0, 1, T.DATETIME, 0, 3, 1, 2, 3]), 1],
    ["bad time length", Buffer.from([0, 1, T.TIME, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 1],
    ["unsupported type", Buffer.from([0, 1, 0x30, 0, 1]), 1],
    ["lenenc 0xfb", Buffer.from([0, 1, T.VAR_STRING, 0, 0xfb]), 1],
    ["huge lenenc", Buffer.from([0, 1, T.BLOB, 0, 0xfe, 0, 0, 0, 0, 0, 0, 0x20, 0]), 1]
  ])("%s → ProtocolError", (_, body, n) => {
    expect(decodeExecuteParams(body, n, undefined, undefined)).toBeInstanceOf(ProtocolError)
  })
})
