/**
 * The `[replica]` section: a read-only replica that follows a cluster (src/replica). It is not a
 * cluster member (no gossip, no votes, not in quorums) but authenticates to the nodes it follows
 * with the cluster secret. Keys after Marmot's replica mode (shared research marmot.md §12).
 */
import { ConfigError } from "./ConfigError.ts"
import type { NodeSettings, Reader } from "./NodeConfig.ts"

export interface ReplicaSettings {
  readonly enabled: boolean
  /** `host:port` peer addresses of cluster nodes to discover the cluster through (CLI `--follow-addresses`). */
  readonly followAddresses: ReadonlyArray<string>
  /** Database names or globs (`*`, `?`, `[abc]`) to replicate; empty = all. */
  readonly replicateDatabases: ReadonlyArray<string>
  /** The cluster secret (MARMOT_REPLICA_SECRET wins); required when enabled. */
  readonly secret: string | undefined
  /** How often the replica pulls its source's commit log. */
  readonly pollIntervalMs: number
  /** How often it asks the cluster which nodes are alive (and at once when its source is lost). */
  readonly discoveryIntervalMs: number
  /** reject: writes get 1290. forward: they are sent to the node followed, which coordinates them. */
  readonly writeMode: "reject" | "forward"
  /** How long a forwarded write waits for the cluster's answer, then for its change to come back. */
  readonly forwardTimeoutMs: number
  /**
   * A database the replica lacks is restored from a snapshot of its source when the source's log
   * holds more entries than this (always when the log was collected past its start); 0 = always.
   */
  readonly snapshotThresholdTransactions: number
  /**
   * Read on cluster nodes (as Marmot does): how long a snapshot copy taken for one puller is shared
   * with every other that asks for the same database.
   */
  readonly snapshotCacheTtlSeconds: number
}

export function replicaDefaults(): ReplicaSettings {
  return { enabled: false, followAddresses: [], replicateDatabases: [], secret: undefined, pollIntervalMs: 200, discoveryIntervalMs: 10_000, writeMode: "reject", forwardTimeoutMs: 30_000,
    snapshotThresholdTransactions: 1000, snapshotCacheTtlSeconds: 30 }
}

/** `host:port` (or `[v6]:port`) with a port in 1..65535. */
const isAddress = (a: string): boolean => {
  const m = /^(.+):(\d+)$/.exec(a)
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535
}

/** The system database holds node-local state and is never replicated. */
const systemDatabase = "__marmot_system"

/** Reads `[replica]`; throws ConfigError naming the bad key. */
export function readReplica(r: Reader): ReplicaSettings {
  const d = replicaDefaults()
  const secret = r.string("secret", "")
  const settings: ReplicaSettings = {
    enabled: r.bool("enabled", d.enabled),
    followAddresses: r.strings("follow_addresses", d.followAddresses),
    replicateDatabases: r.strings("replicate_databases", d.replicateDatabases),
    secret: secret === "" ? undefined : secret,
    pollIntervalMs: r.int("poll_interval_ms", d.pollIntervalMs, 10, 3_600_000),
    discoveryIntervalMs: r.int("discovery_interval_ms", d.discoveryIntervalMs, 100, 3_600_000),
    writeMode: r.oneOf("write_mode", d.writeMode, ["reject", "forward"]),
    forwardTimeoutMs: r.int("forward_timeout_ms", d.forwardTimeoutMs, 100, 3_600_000),
    snapshotThresholdTransactions: r.int("snapshot_threshold_transactions", d.snapshotThresholdTransactions, 0, 1_000_000_000),
    snapshotCacheTtlSeconds: r.int("snapshot_cache_ttl_seconds", d.snapshotCacheTtlSeconds, 0, 86_400)
  }
  r.done()
  return settings
}

/**
 * Checks a replica's settings once the command line and environment are applied (they can set
 * follow_addresses and the secret): what it needs, and that it is not also a cluster member.
 */
export function checkReplica(settings: NodeSettings): void {
  const replica = settings.replica
  const bad = replica.followAddresses.find((a) => !isAddress(a))
  if (bad !== undefined) throw new ConfigError({ key: "replica.follow_addresses", reason: `${JSON.stringify(bad)} is not host:port` })
  if (replica.replicateDatabases.includes(systemDatabase)) {
    throw new ConfigError({ key: "replica.replicate_databases", reason: `${systemDatabase} is node-local and never replicated` })
  }
  if (!replica.enabled) return
  if (replica.followAddresses.length === 0) {
    throw new ConfigError({ key: "replica.follow_addresses", reason: "is required for a replica (or --follow-addresses host:port,...)" })
  }
  if (replica.secret === undefined) {
    throw new ConfigError({ key: "replica.secret", reason: "is required for a replica: the cluster secret (or MARMOT_REPLICA_SECRET)" })
  }
  if (settings.publisher.enabled) {
    throw new ConfigError({ key: "publisher.enabled", reason: "the change publisher does not run on a replica yet: publish from a cluster node" })
  }
  if (settings.cluster.grpcPort !== 0 || settings.cluster.seedNodes.length > 0) {
    throw new ConfigError({ key: "replica.enabled", reason: "a replica is not a cluster member: remove cluster.grpc_port and cluster.seed_nodes" })
  }
}
