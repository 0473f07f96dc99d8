/**
 * A certificate, its private key and an optional CA, named by `tls_cert_file`, `tls_key_file` and
 * `tls_ca_file` in a config section ([mysql], [cluster]). The files are read and checked when the
 * config is loaded, so a missing or unusable file stops the node at startup with an error naming
 * its key.
 */
import { createPrivateKey, X509Certificate } from "node:crypto"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { ConfigError } from "./ConfigError.ts"
import type { Reader } from "./NodeConfig.ts"

export interface TlsFiles {
  readonly certFile: string
  readonly keyFile: string
  readonly caFile: string | undefined
  /** PEM text of the files above. */
  readonly cert: string
  readonly key: string
  readonly ca: string | undefined
}

const readPem = (r: Reader, k: string, file: string): string => {
  try {
    return readFileSync(resolve(file), "utf8")
  } catch (e) {
    throw new ConfigError({ key: r.key(k), reason: `cannot read ${file}: ${(e as { code?: string }).code ?? String(e)}` })
  }
}

/** Reads the three keys of section `r`; undefined when none is set. */
export const readTlsFiles = (r: Reader): TlsFiles | undefined => {
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
