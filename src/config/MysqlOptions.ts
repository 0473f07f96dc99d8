/**
 * The [mysql] keys for TLS, authentication policy and LOAD DATA LOCAL INFILE (read by
 * NodeConfig's readMysql). The certificate files are read and checked here, so a missing or
 * unusable file stops the node at startup with an error naming its key.
 */
import { createPrivateKey, X509Certificate } from "node:crypto"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { ConfigError } from "./ConfigError.ts"
import type { Reader } from "./NodeConfig.ts"

export interface MysqlTls {
  readonly certFile: string
  readonly keyFile: string
  readonly caFile: string | undefined
  /** PEM text of the files above. */
  readonly cert: string
  readonly key: string
  readonly ca: string | undefined
}

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

const readPem = (r: Reader, k: string, file: string): string => {
  try {
    return readFileSync(resolve(file), "utf8")
  } catch (e) {
    throw new ConfigError({ key: r.key(k), reason: `cannot read ${file}: ${(e as { code?: string }).code ?? String(e)}` })
  }
}

const readTls = (r: Reader): MysqlTls | undefined => {
  const certFile = r.string("tls_cert_file", "")
  const keyFile = r.string("tls_key_file", "")
  const caFile = r.string("tls_ca_file", "")
  if (certFile === "" && keyFile === "") {
    if (caFile !== "") throw new ConfigError({ key: r.key("tls_ca_file"), reason: "needs tls_cert_file and tls_key_file" })
    return undefined
  }
  if (certFile === "") throw new ConfigError({ key: r.key("tls_cert_file"), reason: "missing (tls_key_file is set)" })
  if (keyFile === "") throw new ConfigError({ key: r.key("tls_key_file"), reason: "missing (tls_cert_file is set)" })
  const cert = readPem(r, "tls_cert_file", certFile)
  const key = readPem(r, "tls_key_file", keyFile)
  const ca = caFile === "" ? undefined : readPem(r, "tls_ca_file", caFile)
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch {
    throw new ConfigError({ key: r.key("tls_cert_file"), reason: `${certFile} is not a PEM certificate` })
  }
  let privateKey: ReturnType<typeof createPrivateKey>
  try {
    privateKey = createPrivateKey(key)
  } catch {
    throw new ConfigError({ key: r.key("tls_key_file"), reason: `${keyFile} is not a PEM private key (or it is encrypted)` })
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError({ key: r.key("tls_key_file"), reason: `${keyFile} does not belong to the certificate in ${certFile}` })
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca)
    } catch {
      throw new ConfigError({ key: r.key("tls_ca_file"), reason: `${caFile} is not a PEM certificate` })
    }
  }
  return { certFile: resolve(certFile), keyFile: resolve(keyFile), caFile: caFile === "" ? undefined : resolve(caFile), cert, key, ca }
}

export const readMysqlOptions = (r: Reader): MysqlOptions => {
  const d = mysqlOptionDefaults
  return {
    tls: readTls(r),
    requireSecureTransport: r.bool("require_secure_transport", d.requireSecureTransport),
    cachingSha2PreloadCache: r.bool("caching_sha2_preload_cache", d.cachingSha2PreloadCache),
    defaultAuthenticationPlugin: r.oneOf("default_authentication_plugin", d.defaultAuthenticationPlugin, ["mysql_native_password", "caching_sha2_password"]),
    maxLocalInfileBytes: r.int("max_local_infile_bytes", d.maxLocalInfileBytes, 0, 1024 * 1024 * 1024 * 16)
  }
}
