/**
 * The [cluster] keys for TLS between nodes (read by NodeConfig's readCluster). With a certificate,
 * its key and the cluster CA, every peer connection (gossip, two-phase commit, log pulls; served
 * and dialled) is TLS with mutual verification against that CA; plaintext peers are refused.
 */
import { ConfigError } from "./ConfigError.ts"
import type { Reader } from "./NodeConfig.ts"
import { readTlsFiles, type TlsFiles } from "./TlsFiles.ts"

/** A node's own certificate and key, and the CA every peer certificate must chain to. */
export interface PeerTls extends TlsFiles {
  readonly ca: string
}

export interface ClusterTlsOptions {
  /** undefined = peers talk plaintext TCP. */
  readonly tls: PeerTls | undefined
  /** Refuse to start without `tls` (so a config that lost its certificate keys cannot go plaintext). */
  readonly requireTls: boolean
}

export const clusterTlsDefaults: ClusterTlsOptions = { tls: undefined, requireTls: false }

export const readClusterTls = (r: Reader): ClusterTlsOptions => {
  const files = readTlsFiles(r)
  const requireTls = r.bool("require_tls", clusterTlsDefaults.requireTls)
  if (files !== undefined && files.ca === undefined) {
    throw new ConfigError({ key: r.key("tls_ca_file"), reason: "missing: peers are verified against the cluster CA (tls_cert_file is set)" })
  }
  if (files === undefined && requireTls) {
    throw new ConfigError({ key: r.key("require_tls"), reason: "needs tls_cert_file, tls_key_file and tls_ca_file" })
  }
  return { tls: files === undefined ? undefined : { ...files, ca: files.ca! }, requireTls }
}
