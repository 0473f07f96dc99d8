/**
 * Client-to-server packet decoders. They never throw: malformed input yields a ProtocolError.
 * Strings are decoded as UTF-8 (invalid sequences become U+FFFD).
 */
import { Cursor } from "./Buffers.ts"
import { Capability, Command } from "./Constants.ts"
import { readParams } from "./ExecuteParams.ts"
import { ProtocolError } from "./ProtocolError.ts"

export {
  decodeExecuteParams,
  type ExecuteAttributesInfo,
  type ExecuteParams,
  type ParamType,
  type ParamValue
} from "./ExecuteParams.ts"

/** The fixed 32-byte prefix of HandshakeResponse41 (and the whole SSLRequest packet). */
const FIXED_PREFIX = 32

/** An SSLRequest: a HandshakeResponse41 cut after its 32-byte fixed part, with CLIENT_SSL. */
export const isSslRequest = (payload: Buffer): boolean =>
  payload.length === FIXED_PREFIX && (payload.readUInt32LE(0) & Capability.SSL) !== 0

export interface HandshakeResponse {
  readonly capabilities: number
  readonly maxPacketSize: number
  /** Client collation id. */
  readonly charset: number
  readonly username: string
  readonly authResponse: Buffer
  /** undefined when CONNECT_WITH_DB is not set or the name is empty. */
  readonly database: string | undefined
  readonly authPluginName: string | undefined
  readonly attributes: Record<string, string>
}

const malformed = (what: string) => new ProtocolError({ message: `malformed ${what}` })

/** Auth response by capability: lenenc, 1-byte length, or NUL-terminated. */
const readAuthResponse = (c: Cursor, capabilities: number): Buffer =>
  (capabilities & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) !== 0
    ? c.lenencBytes()
    : (capabilities & Capability.SECURE_CONNECTION) !== 0
      ? c.bytes(c.u8())
      : c.nulBytes()

/** Connection attributes: lenenc total length, then lenenc key/value pairs. */
const readAttributes = (c: Cursor): Record<string, string> | undefined => {
  const attributes: Record<string, string> = Object.create(null)
  if (c.atEnd) return attributes
  const block = new Cursor(c.lenencBytes())
  while (c.ok && block.ok && !block.atEnd) {
    const key = block.lenencString()
    const value = block.lenencString()
    if (block.ok) attributes[key] = value
  }
  return c.ok && block.ok ? attributes : undefined
}

export const decodeHandshakeResponse = (payload: Buffer): HandshakeResponse | ProtocolError => {
  const c = new Cursor(payload)
  const capabilities = c.u32()
  if (!c.ok) return malformed("handshake response")
  if ((capabilities & Capability.PROTOCOL_41) === 0) {
    return new ProtocolError({ message: "HandshakeResponse320 (pre-4.1 protocol) is not supported" })
  }
  const maxPacketSize = c.u32()
  const charset = c.u8()
  c.bytes(23)
  const username = c.nulString()
  const authResponse = readAuthResponse(c, capabilities)
  if (!c.ok) return malformed("handshake response")
  let database: string | undefined
  if ((capabilities & Capability.CONNECT_WITH_DB) !== 0 && !c.atEnd) {
    const db = c.nulStringLenient()
    if (db.length > 0) database = db
  }
  let authPluginName: string | undefined
  if ((capabilities & Capability.PLUGIN_AUTH) !== 0 && !c.atEnd) {
    authPluginName = c.nulStringLenient()
  }
  const attributes =
    (capabilities & Capability.CONNECT_ATTRS) !== 0 ? readAttributes(c) : Object.create(null)
  if (attributes === undefined || !c.ok) return malformed("connection attributes")
  return { capabilities, maxPacketSize, charset, username, authResponse, database, authPluginName, attributes }
}

export interface ChangeUser {
  readonly _tag: "ChangeUser"
  readonly username: string
  readonly authResponse: Buffer
  readonly database: string | undefined
  readonly charset: number | undefined
  readonly authPluginName: string | undefined
  readonly attributes: Record<string, string>
}

export interface StmtExecute {
  readonly _tag: "StmtExecute"
  readonly statementId: number
  readonly flags: number
  readonly iterationCount: number
  /** Bytes after the 10-byte header; decode with decodeExecuteParams(body, n, …, this). */
  readonly body: Buffer
  /** CLIENT_QUERY_ATTRIBUTES was negotiated (the parameter block may carry a count and names). */
  readonly queryAttributes: boolean
}

export type ClientCommand =
  | { readonly _tag: "Query"; readonly sql: string }
  | { readonly _tag: "InitDb"; readonly database: string }
  | { readonly _tag: "Ping" }
  | { readonly _tag: "Quit" }
  | { readonly _tag: "FieldList"; readonly table: string; readonly wildcard: string }
  | { readonly _tag: "StmtPrepare"; readonly sql: string }
  | StmtExecute
  | { readonly _tag: "StmtSendLongData"; readonly statementId: number; readonly paramId: number; readonly data: Buffer }
  | { readonly _tag: "StmtClose"; readonly statementId: number }
  | { readonly _tag: "StmtReset"; readonly statementId: number }
  | { readonly _tag: "StmtFetch"; readonly statementId: number; readonly rows: number }
  | { readonly _tag: "SetOption"; readonly option: number }
  | { readonly _tag: "ResetConnection" }
  | ChangeUser
  | { readonly _tag: "Statistics" }
  | { readonly _tag: "ProcessInfo" }
  | { readonly _tag: "ProcessKill"; readonly connectionId: number }
  | { readonly _tag: "Debug" }
  | { readonly _tag: "Unknown"; readonly code: number }

const PING = { _tag: "Ping" } as const
const QUIT = { _tag: "Quit" } as const
const RESET_CONNECTION = { _tag: "ResetConnection" } as const
const STATISTICS = { _tag: "Statistics" } as const
const PROCESS_INFO = { _tag: "ProcessInfo" } as const
const DEBUG = { _tag: "Debug" } as const

const truncated = (code: number) =>
  new ProtocolError({ message: `truncated command 0x${code.toString(16).padStart(2, "0")}` })

/**
 * Decodes a command-phase packet. `capabilities` are the negotiated ones (they decide the
 * optional fields of COM_CHANGE_USER and the query-attribute prefix of COM_QUERY). Trailing
 * bytes after fixed-size commands are ignored, as MySQL does.
 */
export const decodeCommand = (payload: Buffer, capabilities: number): ClientCommand | ProtocolError => {
  if (payload.length === 0) return new ProtocolError({ message: "empty command packet" })
  const code = payload[0]!
  const c = new Cursor(payload, 1)
  let cmd: ClientCommand
  switch (code) {
    case Command.QUERY:
      return decodeQuery(c, capabilities)
    case Command.PING:
      return PING
    case Command.QUIT:
      return QUIT
    case Command.INIT_DB:
      cmd = { _tag: "InitDb", database: c.restString() }
      break
    case Command.STMT_PREPARE:
      cmd = { _tag: "StmtPrepare", sql: c.restString() }
      break
    case Command.STMT_EXECUTE:
      cmd = {
        _tag: "StmtExecute",
        statementId: c.u32(),
        flags: c.u8(),
        iterationCount: c.u32(),
        body: c.rest(),
        queryAttributes: (capabilities & Capability.QUERY_ATTRIBUTES) !== 0
      }
      break
    case Command.STMT_SEND_LONG_DATA:
      cmd = { _tag: "StmtSendLongData", statementId: c.u32(), paramId: c.u16(), data: c.rest() }
      break
    case Command.STMT_CLOSE:
      cmd = { _tag: "StmtClose", statementId: c.u32() }
      break
    case Command.STMT_RESET:
      cmd = { _tag: "StmtReset", statementId: c.u32() }
      break
    case Command.STMT_FETCH:
      cmd = { _tag: "StmtFetch", statementId: c.u32(), rows: c.u32() }
      break
    case Command.SET_OPTION:
      cmd = { _tag: "SetOption", option: c.u16() }
      break
    case Command.FIELD_LIST:
      cmd = { _tag: "FieldList", table: c.nulString(), wildcard: c.restString() }
      break
    case Command.RESET_CONNECTION:
      return RESET_CONNECTION
    case Command.CHANGE_USER:
      return decodeChangeUser(c, capabilities)
    case Command.STATISTICS:
      return STATISTICS
    case Command.PROCESS_INFO:
      return PROCESS_INFO
    case Command.PROCESS_KILL:
      cmd = { _tag: "ProcessKill", connectionId: c.u32() }
      break
    case Command.DEBUG:
      return DEBUG
    default:
      return { _tag: "Unknown", code }
  }
  return c.ok ? cmd : truncated(code)
}

/**
 * COM_QUERY. With CLIENT_QUERY_ATTRIBUTES the SQL is preceded by a parameter count, a parameter
 * set count and (for a non-zero count) a parameter block; attributes are validated and dropped.
 */
const decodeQuery = (c: Cursor, capabilities: number): ClientCommand | ProtocolError => {
  if ((capabilities & Capability.QUERY_ATTRIBUTES) !== 0) {
    const count = c.lenencInt()
    c.lenencInt() // parameter_set_count, always 1
    if (!c.ok) return truncated(Command.QUERY)
    if (count > 0) {
      const attrs = readParams(c, count, undefined, undefined, true)
      if (attrs instanceof ProtocolError) return attrs
    }
  }
  const sql = c.restString()
  return c.ok ? { _tag: "Query", sql } : truncated(Command.QUERY)
}

/**
 * COM_CHANGE_USER: user NUL, auth response (1-byte length with SECURE_CONNECTION, else
 * NUL-terminated), database NUL, then — only if bytes remain — charset (2 bytes), plugin name
 * (PLUGIN_AUTH) and connection attributes (CONNECT_ATTRS).
 */
const decodeChangeUser = (c: Cursor, capabilities: number): ChangeUser | ProtocolError => {
  const username = c.nulString()
  const authResponse =
    (capabilities & Capability.SECURE_CONNECTION) !== 0 ? c.bytes(c.u8()) : c.nulBytes()
  const db = c.atEnd ? "" : c.nulStringLenient()
  if (!c.ok) return truncated(Command.CHANGE_USER)
  const charset = c.remaining >= 2 ? c.u16() : undefined
  let authPluginName: string | undefined
  if ((capabilities & Capability.PLUGIN_AUTH) !== 0 && !c.atEnd) authPluginName = c.nulStringLenient()
  const attributes =
    (capabilities & Capability.CONNECT_ATTRS) !== 0 ? readAttributes(c) : Object.create(null)
  if (attributes === undefined || !c.ok) return truncated(Command.CHANGE_USER)
  return {
    _tag: "ChangeUser",
    username,
    authResponse,
    database: db.length > 0 ? db : undefined,
    charset,
    authPluginName,
    attributes
  }
}
