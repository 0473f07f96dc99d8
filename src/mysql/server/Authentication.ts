import { Errors } from "../../query/Errors.ts"
import {
  CACHING_SHA2_FAST_AUTH_SUCCESS,
  nativePasswordHash,
  sha2PasswordHash,
  verifyCachingSha2,
  verifyNativePassword
} from "../protocol/Auth.ts"
import { Capability, Charset, ServerStatus } from "../protocol/Constants.ts"
import { decodeHandshakeResponse, isSslRequest } from "../protocol/Decode.ts"
import { writeAuthMoreData, writeAuthSwitchRequest, writeErr, writeHandshakeV10 } from "../protocol/Encode.ts"
import type { Packet } from "../protocol/PacketReader.ts"
import { ProtocolError } from "../protocol/ProtocolError.ts"
import type { ResponseBuffer } from "../protocol/ResponseBuffer.ts"
import { serverVersion } from "../../query/SystemVariables.ts"

export interface StoredUser {
  /** SHA1(SHA1(password)); undefined for an empty password. */
  readonly native: Buffer | undefined
  /** SHA256(SHA256(password)); undefined for an empty password. */
  readonly sha2: Buffer | undefined
}

export interface Authenticator {
  readonly users: ReadonlyMap<string, StoredUser>
  readonly randomBytes: (n: number) => Buffer
}

export const storedUser = (password: string): StoredUser =>
  password === "" ? { native: undefined, sha2: undefined } : { native: nativePasswordHash(password), sha2: sha2PasswordHash(password) }

export const serverCapabilities = Capability.LONG_PASSWORD | Capability.FOUND_ROWS | Capability.LONG_FLAG |
  Capability.CONNECT_WITH_DB | Capability.NO_SCHEMA | Capability.PROTOCOL_41 | Capability.INTERACTIVE |
  Capability.TRANSACTIONS | Capability.SECURE_CONNECTION | Capability.MULTI_STATEMENTS | Capability.MULTI_RESULTS |
  Capability.PS_MULTI_RESULTS | Capability.PLUGIN_AUTH | Capability.CONNECT_ATTRS |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capability.DEPRECATE_EOF

export type AuthStep =
  | { readonly _tag: "Continue" }
  | { readonly _tag: "Failed"; readonly reason: string }
  | { readonly _tag: "Done"; readonly user: string; readonly database: string | undefined; readonly capabilities: number; readonly nextSequenceId: number }

export interface AuthResult {
  /** Feeds one client packet of the authentication phase; writes the replies into `out`. */
  readonly step: (packet: Packet, out: ResponseBuffer) => AuthStep
  readonly verifyChangeUser: (user: string, response: Buffer, plugin: string | undefined) => boolean
}

const native = "mysql_native_password"
const sha2 = "caching_sha2_password"

/** 20 scramble bytes, printable and never NUL (the greeting NUL-terminates them). */
const makeScramble = (random: (n: number) => Buffer): Buffer => {
  const bytes = random(20)
  for (let i = 0; i < bytes.length; i++) bytes[i] = 33 + (bytes[i]! % 94)
  return bytes
}

/**
 * The authentication phase: greeting, HandshakeResponse41, then mysql_native_password directly,
 * the caching_sha2_password fast path, or a switch to mysql_native_password for other plugins.
 */
export const startAuthentication = (auth: Authenticator, out: ResponseBuffer, connectionId: number, host: string): AuthResult => {
  const scramble = makeScramble(auth.randomBytes)
  out.sequenceId = 0
  writeHandshakeV10(out, {
    serverVersion,
    connectionId,
    authPluginData: scramble,
    capabilities: serverCapabilities,
    charset: Charset.UTF8MB4_GENERAL_CI,
    status: ServerStatus.AUTOCOMMIT,
    authPluginName: native
  })
  let pending: { user: string; database: string | undefined; capabilities: number; plugin: string } | undefined

  const check = (user: string, response: Buffer, plugin: string): boolean => {
    const stored = auth.users.get(user)
    if (stored === undefined) return false
    if (plugin !== sha2) return verifyNativePassword(scramble, response, stored.native)
    // Clients differ on whether the nonce they hash includes the NUL that terminates it.
    return verifyCachingSha2(scramble, response, stored.sha2) ||
      (response.length > 0 && verifyCachingSha2(Buffer.concat([scramble, Buffer.alloc(1)]), response, stored.sha2))
  }

  const deny = (out: ResponseBuffer, user: string, response: Buffer): AuthStep => {
    writeErr(out, Errors.accessDenied(user, host, response.length > 0))
    return { _tag: "Failed", reason: `access denied for user '${user}'` }
  }

  const step = (packet: Packet, out: ResponseBuffer): AuthStep => {
    out.sequenceId = (packet.sequenceId + 1) & 0xff
    if (pending !== undefined) {
      // The reply to our AuthSwitchRequest, computed with the plugin we asked for.
      const { plugin, ...p } = pending
      if (!check(p.user, packet.payload, plugin)) return deny(out, p.user, packet.payload)
      if (plugin === sha2 && packet.payload.length > 0) writeAuthMoreData(out, Buffer.from([CACHING_SHA2_FAST_AUTH_SUCCESS]))
      return { _tag: "Done", ...p, nextSequenceId: out.sequenceId }
    }
    if (isSslRequest(packet.payload)) {
      writeErr(out, Errors.general("SSL is not enabled on this server"))
      return { _tag: "Failed", reason: "client asked for SSL" }
    }
    const response = decodeHandshakeResponse(packet.payload)
    if (response instanceof ProtocolError) {
      writeErr(out, Errors.malformedPacket())
      return { _tag: "Failed", reason: `bad handshake response: ${response.message}` }
    }
    const capabilities = response.capabilities & serverCapabilities
    const database = (capabilities & Capability.CONNECT_WITH_DB) !== 0 && response.database !== "" ? response.database : undefined
    const plugin = response.authPluginName ?? native
    const fastPathShape = plugin !== sha2 || response.authResponse.length === 32
    if ((plugin === native || plugin === sha2) && fastPathShape) {
      if (!check(response.username, response.authResponse, plugin)) return deny(out, response.username, response.authResponse)
      if (plugin === sha2 && response.authResponse.length > 0) writeAuthMoreData(out, Buffer.from([CACHING_SHA2_FAST_AUTH_SUCCESS]))
      return { _tag: "Done", user: response.username, database, capabilities, nextSequenceId: out.sequenceId }
    }
    // Another plugin, or a caching_sha2_password client that did not scramble with our nonce
    // (libmariadb sends nothing when the greeting named another plugin): ask again, with the nonce.
    const switchTo = plugin === sha2 ? sha2 : native
    pending = { user: response.username, database, capabilities, plugin: switchTo }
    // MySQL's caching_sha2_password sends the nonce NUL-terminated; libmariadb insists on it.
    writeAuthSwitchRequest(out, switchTo, switchTo === sha2 ? Buffer.concat([scramble, Buffer.alloc(1)]) : scramble)
    return { _tag: "Continue" }
  }

  return {
    step,
    verifyChangeUser: (user, response, plugin) => check(user, response, plugin === sha2 ? sha2 : native)
  }
}
