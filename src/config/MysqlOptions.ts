/**
 * The [mysql] keys for TLS, authentication policy and LOAD DATA LOCAL INFILE (read by
 * NodeConfig's readMysql). The certificate files are read and checked by TlsFiles.ts.
 */
import type { Reader } from "./NodeConfig.ts"
import { readTlsFiles, type TlsFiles } from "./TlsFiles.ts"

export type MysqlTls = TlsFiles

export interface MysqlOptions {
  /** TLS on the MySQL port (CLIENT_SSL offered); undefined = plaintext only. */
  readonly tls: MysqlTls | undefined
  /** Refuse logins that are neither TLS nor the unix socket (MySQL error 3159). */
  readonly requireSecureTransport: boolean
  /**
   * caching_sha2_password's fast-auth cache starts filled from the configured passwords (true), or
   * empty as in MySQL after a restart (false): then a user's first caching_sha2_password login is
   * full authentication, which needs TLS or the unix socket.
   */
  readonly cachingSha2PreloadCache: boolean
  /** The plugin the greeting proposes (MySQL 8 proposes caching_sha2_password). */
  readonly defaultAuthenticationPlugin: "mysql_native_password" | "caching_sha2_password"
  /** Largest file LOAD DATA LOCAL INFILE accepts (bytes); 0 refuses LOCAL INFILE. */
  readonly maxLocalInfileBytes: number
}

export const mysqlOptionDefaults: MysqlOptions = {
  tls: undefined,
  requireSecureTransport: false,
  cachingSha2PreloadCache: true,
  defaultAuthenticationPlugin: "mysql_native_password",
  maxLocalInfileBytes: 64 * 1024 * 1024
}

export const readMysqlOptions = (r: Reader): MysqlOptions => {
  const d = mysqlOptionDefaults
  return {
    tls: readTlsFiles(r),
    requireSecureTransport: r.bool("require_secure_transport", d.requireSecureTransport),
    cachingSha2PreloadCache: r.bool("caching_sha2_preload_cache", d.cachingSha2PreloadCache),
    defaultAuthenticationPlugin: r.oneOf("default_authentication_plugin", d.defaultAuthenticationPlugin, ["mysql_native_password", "caching_sha2_password"]),
    maxLocalInfileBytes: r.int("max_local_infile_bytes", d.maxLocalInfileBytes, 0, 1024 * 1024 * 1024 * 16)
  }
}
