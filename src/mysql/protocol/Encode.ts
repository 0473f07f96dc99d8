/**
 * Server-to-client packet encoders. Each function writes one or more WHOLE packets (begin/end)
 * into a ResponseBuffer, using and advancing its sequence id. Nothing here allocates per call
 * beyond what the ResponseBuffer needs to grow.
 */
import { Capability } from "./Constants.ts"
import type { ResponseBuffer } from "./ResponseBuffer.ts"

export { writeBinaryRow, writeTextRow } from "./Rows.ts"

export interface OkPacket {
  readonly affectedRows: number | bigint
  readonly lastInsertId: number | bigint
  readonly status: number
  readonly warnings: number
  readonly info?: string
  /** 0x00 (default) for an OK packet; 0xfe when it ends a result set under CLIENT_DEPRECATE_EOF. */
  readonly header?: 0x00 | 0xfe
  /**
   * Set when CLIENT_SESSION_TRACK was negotiated: `info` is then written as a length-encoded
   * string (no session-state data follows). Without it `info` is string[EOF].
   */
  readonly sessionTrack?: boolean
}

export const writeOk = (out: ResponseBuffer, o: OkPacket): void => {
  out
    .begin()
    .u8(o.header ?? 0x00)
    .lenencInt(o.affectedRows)
    .lenencInt(o.lastInsertId)
    .u16(o.status)
    .u16(o.warnings)
  if (o.info !== undefined && o.info.length > 0) {
    if (o.sessionTrack === true) out.lenencString(o.info)
    else out.fixedString(o.info)
  }
  out.end()
}

export interface ErrPacket {
  readonly code: number
  /** Five characters; anything else is replaced by the generic 'HY000'. */
  readonly sqlState: string
  readonly message: string
}

export const writeErr = (out: ResponseBuffer, e: ErrPacket): void => {
  const state = e.sqlState.length === 5 && Buffer.byteLength(e.sqlState) === 5 ? e.sqlState : "HY000"
  out.begin().u8(0xff).u16(e.code).u8(0x23).fixedString(state).fixedString(e.message).end()
}

export const writeEof = (out: ResponseBuffer, o: { readonly warnings: number; readonly status: number }): void => {
  out.begin().u8(0xfe).u16(o.warnings).u16(o.status).end()
}

export const writeColumnCount = (out: ResponseBuffer, n: number): void => {
  out.begin().lenencInt(n).end()
}

/** Protocol 41 column definition. `charset` is a collation id (63 = binary). */
export interface ColumnDef {
  readonly schema: string
  readonly table: string
  readonly orgTable: string
  readonly name: string
  readonly orgName: string
  readonly charset: number
  /** Maximum display length in bytes. */
  readonly length: number
  /** A ColumnType value. */
  readonly type: number
  /** ColumnFlag bits. */
  readonly flags: number
  readonly decimals: number
}

export const writeColumnDefinition = (out: ResponseBuffer, c: ColumnDef): void => {
  out
    .begin()
    .u8(3)
    .fixedString("def")
    .lenencString(c.schema)
    .lenencString(c.table)
    .lenencString(c.orgTable)
    .lenencString(c.name)
    .lenencString(c.orgName)
    .u8(0x0c)
    .u16(c.charset)
    .u32(c.length)
    .u8(c.type)
    .u16(c.flags)
    .u8(c.decimals)
    .u16(0)
    .end()
}

export interface HandshakeV10 {
  /** Sent as is; MariaDB prefixes "5.5.5-" so old clients see a 5.x version. */
  readonly serverVersion: string
  readonly connectionId: number
  /** The scramble (nonce): 20 bytes, none of them NUL. */
  readonly authPluginData: Buffer
  readonly capabilities: number
  /** Server default collation id. */
  readonly charset: number
  readonly status: number
  readonly authPluginName: string
  /**
   * MariaDB's extended capabilities, written into the last 4 reserved bytes. Only meaningful to
   * MariaDB clients when CLIENT_LONG_PASSWORD (which MariaDB calls CLIENT_MYSQL) is NOT set.
   * Default 0 (the 10 reserved bytes are all zero, as MySQL sends them).
   */
  readonly mariadbCapabilities?: number
}

export const writeHandshakeV10 = (out: ResponseBuffer, h: HandshakeV10): void => {
  const data = h.authPluginData
  const pluginAuth = (h.capabilities & Capability.PLUGIN_AUTH) !== 0
  out
    .begin()
    .u8(10)
    .nulString(h.serverVersion)
    .u32(h.connectionId)
    .bytes(data.subarray(0, 8))
    .zeros(8 - Math.min(8, data.length))
    .u8(0)
    .u16(h.capabilities & 0xffff)
    .u8(h.charset)
    .u16(h.status)
    .u16(h.capabilities >>> 16)
    .u8(pluginAuth ? data.length + 1 : 0)
    .zeros(6)
    .u32(h.mariadbCapabilities ?? 0)
  if ((h.capabilities & Capability.SECURE_CONNECTION) !== 0) {
    // auth-plugin-data-part-2: max(13, length - 8) bytes, the last one being the NUL terminator.
    const part2 = data.subarray(8)
    out.bytes(part2).zeros(Math.max(13, part2.length + 1) - part2.length)
  }
  if (pluginAuth) out.nulString(h.authPluginName)
  out.end()
}

/**
 * AuthSwitchRequest: 0xfe, plugin name, plugin data. For mysql_native_password the data gets the
 * trailing NUL that MySQL and MariaDB send after the 20-byte scramble; for other plugins it is
 * sent as given (pymysql, for one, hashes every byte it receives for caching_sha2_password).
 */
export const writeAuthSwitchRequest = (out: ResponseBuffer, pluginName: string, data: Buffer): void => {
  out.begin().u8(0xfe).nulString(pluginName).bytes(data)
  if (pluginName === "mysql_native_password") out.u8(0)
  out.end()
}

/** AuthMoreData: 0x01 + data (e.g. the caching_sha2_password fast-auth result byte). */
export const writeAuthMoreData = (out: ResponseBuffer, data: Buffer | Uint8Array): void => {
  out.begin().u8(0x01).bytes(data).end()
}

/**
 * First packet of a COM_STMT_PREPARE response. The caller then writes `paramCount` parameter
 * definitions (+ EOF unless CLIENT_DEPRECATE_EOF) and `columnCount` column definitions (+ EOF).
 */
export const writeStmtPrepareOk = (
  out: ResponseBuffer,
  o: {
    readonly statementId: number
    readonly columnCount: number
    readonly paramCount: number
    readonly warnings: number
  }
): void => {
  out.begin().u8(0x00).u32(o.statementId).u16(o.columnCount).u16(o.paramCount).u8(0).u16(o.warnings).end()
}

/** LOCAL INFILE request: 0xfb + file name; the client answers with the file's contents. */
export const writeLocalInfileRequest = (out: ResponseBuffer, filename: string): void => {
  out.begin().u8(0xfb).fixedString(filename).end()
}
