import { timingSafeEqual } from "node:crypto"
import { Errors } from "../../query/Errors.ts"
import {
  CACHING_SHA2_FAST_AUTH_SUCCESS,
  CACHING_SHA2_PERFORM_FULL_AUTH,
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
  /** CLIENT_SSL is offered (the connection can upgrade to TLS). */
  readonly tls?: boolean
  /** Refuse logins over plaintext TCP with 3159. */
  readonly requireSecureTransport?: boolean
  /** LOAD DATA LOCAL INFILE is accepted (CLIENT_LOCAL_FILES offered). */
  readonly localInfile?: boolean
  /**
   * caching_sha2_password's fast-auth cache: users whose SHA256(SHA256(password)) the fast path
   * may use. Undefined = every configured user (the cache preloaded from the config); otherwise it
   * starts empty and a full authentication (cleartext over TLS or the unix socket) adds the user.
   */
  readonly sha2Cache?: Set<string>
  /** The plugin the greeting names (MySQL's default_authentication_plugin). */
  readonly defaultPlugin?: "mysql_native_password" | "caching_sha2_password"
}

/** How the connection reached us: TLS and the unix socket are secure transports. */
export interface Transport {
  readonly secure: () => boolean
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
  /** The client sent an SSLRequest: the rest of the stream is TLS, then HandshakeResponse41 again. */
  | { readonly _tag: "StartTls" }
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
export const startAuthentication = (
  auth: Authenticator,
  out: ResponseBuffer,
  connectionId: number,
  host: string,
  transport: Transport = { secure: () => false }
): AuthResult => {
  const scramble = makeScramble(auth.randomBytes)
  const offered = serverCapabilities | (auth.tls === true ? Capability.SSL : 0) | (auth.localInfile === true ? Capability.LOCAL_FILES : 0)
  out.sequenceId = 0
  writeHandshakeV10(out, {
    serverVersion,
    connectionId,
    authPluginData: scramble,
    capabilities: offered,
    charset: Charset.UTF8MB4_GENERAL_CI,
    status: ServerStatus.AUTOCOMMIT,
    authPluginName: auth.defaultPlugin ?? native
  })
  type Login = { user: string; database: string | undefined; capabilities: number }
  let pending: (Login & { plugin: string }) | undefined
  /** caching_sha2_password asked for full authentication: the next packet is the password. */
  let fullAuth: Login | undefined
  let tlsStarted = false

  const check = (user: string, response: Buffer, plugin: string): boolean => {
    const stored = auth.users.get(user)
    if (stored === undefined) return false
    if (plugin !== sha2) return verifyNativePassword(scramble, response, stored.native)
    // Clients differ on whether the nonce they hash includes the NUL that terminates it.
    return verifyCachingSha2(scramble, response, stored.sha2) ||
      (response.length > 0 && verifyCachingSha2(Buffer.concat([scramble, Buffer.alloc(1)]), response, stored.sha2))
  }

  const fastAuthCached = (user: string): boolean => auth.sha2Cache === undefined || auth.sha2Cache.has(user)

  /**
   * caching_sha2_password after the scramble: an empty password is checked at once; a cached user
   * gets "fast auth success" or 1045; a user not in the cache is asked for full authentication.
   */
  const sha2Step = (out: ResponseBuffer, login: Login, response: Buffer): AuthStep => {
    const stored = auth.users.get(login.user)
    if (response.length === 0 || stored?.sha2 === undefined) {
      if (!check(login.user, response, sha2)) return deny(out, login.user, response)
      return { _tag: "Done", ...login, nextSequenceId: out.sequenceId }
    }
    if (fastAuthCached(login.user)) {
      // MySQL would still ask for full authentication, only to refuse the same password: say so now
      // (over plaintext that exchange needs an RSA key pair this server does not have).
      if (!check(login.user, response, sha2)) return deny(out, login.user, response)
      writeAuthMoreData(out, Buffer.from([CACHING_SHA2_FAST_AUTH_SUCCESS]))
      return { _tag: "Done", ...login, nextSequenceId: out.sequenceId }
    }
    fullAuth = login
    writeAuthMoreData(out, Buffer.from([CACHING_SHA2_PERFORM_FULL_AUTH]))
    return { _tag: "Continue" }
  }

  /** The client's answer to "perform full authentication": the password in clear (TLS/unix socket only). */
  const fullAuthStep = (out: ResponseBuffer, login: Login, payload: Buffer): AuthStep => {
    fullAuth = undefined
    if (!transport.secure()) {
      // No RSA key pair here: a public key request (0x02) or a password over plaintext is refused.
      writeErr(out, Errors.accessDenied(login.user, host, true))
      return { _tag: "Failed", reason: `caching_sha2_password full authentication of '${login.user}' needs TLS or the unix socket (no RSA keys)` }
    }
    const end = payload.length > 0 && payload[payload.length - 1] === 0 ? payload.length - 1 : payload.length
    const stored = auth.users.get(login.user)?.sha2
    const given = sha2PasswordHash(payload.toString("utf8", 0, end))
    if (stored === undefined || !timingSafeEqual(given, stored)) return deny(out, login.user, payload)
    auth.sha2Cache?.add(login.user)
    return { _tag: "Done", ...login, nextSequenceId: out.sequenceId }
  }

  const deny = (out: ResponseBuffer, user: string, response: Buffer): AuthStep => {
    writeErr(out, Errors.accessDenied(user, host, response.length > 0))
    return { _tag: "Failed", reason: `access denied for user '${user}'` }
  }

  const step = (packet: Packet, out: ResponseBuffer): AuthStep => {
    out.sequenceId = (packet.sequenceId + 1) & 0xff
    if (fullAuth !== undefined) return fullAuthStep(out, fullAuth, packet.payload)
    if (pending !== undefined) {
      // The reply to our AuthSwitchRequest, computed with the plugin we asked for.
      const { plugin, ...p } = pending
      pending = undefined
      if (plugin === sha2) return sha2Step(out, p, packet.payload)
      if (!check(p.user, packet.payload, plugin)) return deny(out, p.user, packet.payload)
      return { _tag: "Done", ...p, nextSequenceId: out.sequenceId }
    }
    if (isSslRequest(packet.payload)) {
      if (auth.tls !== true || tlsStarted) {
        writeErr(out, Errors.general("SSL is not enabled on this server"))
        return { _tag: "Failed", reason: "client asked for SSL" }
      }
      tlsStarted = true
      return { _tag: "StartTls" }
    }
    const response = decodeHandshakeResponse(packet.payload)
    if (response instanceof ProtocolError) {
      writeErr(out, Errors.malformedPacket())
      return { _tag: "Failed", reason: `bad handshake response: ${response.message}` }
    }
    if (auth.requireSecureTransport === true && !transport.secure()) {
      writeErr(out, Errors.secureTransportRequired())
      return { _tag: "Failed", reason: `plaintext login of '${response.username}' refused (require_secure_transport)` }
    }
    const capabilities = response.capabilities & offered
    const database = (capabilities & Capability.CONNECT_WITH_DB) !== 0 && response.database !== "" ? response.database : undefined
    const plugin = response.authPluginName ?? native
    const login: Login = { user: response.username, database, capabilities }
    if (plugin === sha2 && response.authResponse.length === 32) return sha2Step(out, login, response.authResponse)
    if (plugin === native) {
      if (!check(response.username, response.authResponse, plugin)) return deny(out, response.username, response.authResponse)
      return { _tag: "Done", ...login, nextSequenceId: out.sequenceId }
    }
    // Another plugin, or a caching_sha2_password client that did not scramble with our nonce
    // (libmariadb sends nothing when the greeting named another plugin): ask again, with the nonce.
    const switchTo = plugin === sha2 ? sha2 : native
    pending = { ...login, plugin: switchTo }
    // MySQL's caching_sha2_password sends the nonce NUL-terminated; libmariadb insists on it.
    writeAuthSwitchRequest(out, switchTo, switchTo === sha2 ? Buffer.concat([scramble, Buffer.alloc(1)]) : scramble)
    return { _tag: "Continue" }
  }

  return {
    step,
    verifyChangeUser: (user, response, plugin) => check(user, response, plugin === sha2 ? sha2 : native)
  }
}
