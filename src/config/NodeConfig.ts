import { Context, Effect, Layer } from "effect"
import { parse as parseToml } from "smol-toml"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { type ClusterTlsOptions, clusterTlsDefaults, readClusterTls } from "./ClusterTls.ts"
import { ConfigError } from "./ConfigError.ts"
import { type ExtensionSettings, extensionDefaults, readExtensions } from "./Extensions.ts"
import { type MysqlOptions, mysqlOptionDefaults, readMysqlOptions } from "./MysqlOptions.ts"
import { ddlDefaults, type DdlSettings, readDdl } from "./DdlSettings.ts"
import { gcDefaults, type GcSettings, readGc } from "./GcSettings.ts"
import { refuseMarmotOnly } from "./MarmotOnly.ts"
import { publisherDefaults, type PublisherSettings, readPublisher } from "./PublisherSettings.ts"
import { checkReplica, readReplica, replicaDefaults, type ReplicaSettings } from "./ReplicaSettings.ts"
import { readTelemetry, telemetryDefaults, type TelemetrySettings } from "./TelemetrySettings.ts"

export { ConfigError }

export interface MysqlUser {
  readonly name: string
  readonly password: string
}

export interface MysqlSettings extends MysqlOptions {
  readonly bindAddress: string
  readonly port: number
  readonly maxConnections: number
  readonly unixSocket: string | undefined
  readonly maxAllowedPacket: number
  readonly lockWaitTimeoutSeconds: number
  /** MySQL worker processes; 0 = one per CPU. */
  readonly workers: number
  readonly users: ReadonlyArray<MysqlUser>
  /** AUTO_INCREMENT id layout (marmot.md §10): compact = 53-bit (JS-safe), extended = 64-bit */
  readonly autoIdMode: "compact" | "extended"
}

export interface LoggingSettings {
  readonly level: "debug" | "info" | "warning" | "error"
}

export type WriteConsistency = "ONE" | "QUORUM" | "ALL"

/** `[cluster]`: peers, gossip, the cluster secret and TLS. A node without a grpc_port is standalone. */
export interface ClusterSettings extends ClusterTlsOptions {
  /** The peer (RPC) port; 0 = standalone: no peers, writes commit locally. */
  readonly grpcPort: number
  readonly grpcBindAddress: string
  /** `host:port` peers dial; empty = grpc_bind_address:grpc_port. */
  readonly grpcAdvertiseAddress: string
  readonly seedNodes: ReadonlyArray<string>
  /** Pre-shared key of the cluster (MARMOT_CLUSTER_SECRET wins); undefined = peers are not authenticated. */
  readonly clusterSecret: string | undefined
  readonly gossipIntervalMs: number
  readonly gossipFanout: number
  readonly suspectTimeoutMs: number
  readonly deadTimeoutMs: number
}

/** `[replication]`: how writes reach the other nodes. */
export interface ReplicationSettings {
  readonly defaultWriteConsistency: WriteConsistency
  /** Deadline of each PREPARE / COMMIT call to a peer. */
  readonly writeTimeoutMs: number
  /** How often each node pulls its peers' commit logs. */
  readonly antiEntropyIntervalMs: number
  /** A peer whose clock is further ahead than this is refused. */
  readonly maxClockDriftMs: number
  /** Commit-log and tombstone GC (gc_* keys). */
  readonly gc: GcSettings
}

/** `[admin]`: the node's admin and observability HTTP port (served by its cluster core). */
export interface AdminSettings {
  /** 0 = off. */
  readonly httpPort: number
  readonly bindAddress: string
  /** `host:port` the other nodes and `marmot status` use to reach it; empty = bind_address:http_port. */
  readonly advertiseAddress: string
  /** Secret of the /admin/ endpoints (MARMOT_ADMIN_SECRET wins); undefined = the cluster secret. */
  readonly secret: string | undefined
}

/** `[transaction]`. */
export interface TransactionSettings {
  /** Intents of a coordinator silent this long expire. */
  readonly heartbeatTimeoutSeconds: number
}

export interface NodeSettings {
  readonly nodeId: number
  readonly dataDir: string
  readonly mysql: MysqlSettings
  readonly cluster: ClusterSettings
  readonly replication: ReplicationSettings
  readonly transaction: TransactionSettings
  readonly admin: AdminSettings
  readonly logging: LoggingSettings
  readonly extensions: ExtensionSettings
  readonly publisher: PublisherSettings
  readonly replica: ReplicaSettings
  readonly telemetry: TelemetrySettings
  readonly ddl: DdlSettings
}

export const defaults: NodeSettings = {
  nodeId: 1,
  dataDir: "./marmot-data",
  mysql: {
    bindAddress: "127.0.0.1",
    port: 3306,
    maxConnections: 1000,
    unixSocket: undefined,
    maxAllowedPacket: 64 * 1024 * 1024,
    lockWaitTimeoutSeconds: 50,
    workers: 0,
    users: [{ name: "root", password: "" }],
    ...mysqlOptionDefaults,
    autoIdMode: "compact"
  },
  cluster: {
    grpcPort: 0,
    grpcBindAddress: "127.0.0.1",
    grpcAdvertiseAddress: "",
    seedNodes: [],
    clusterSecret: undefined,
    gossipIntervalMs: 1000,
    gossipFanout: 3,
    suspectTimeoutMs: 5000,
    deadTimeoutMs: 10000,
    ...clusterTlsDefaults
  },
  replication: { defaultWriteConsistency: "QUORUM", writeTimeoutMs: 5000, antiEntropyIntervalMs: 2000, maxClockDriftMs: 5000, gc: gcDefaults },
  transaction: { heartbeatTimeoutSeconds: 10 },
  admin: { httpPort: 0, bindAddress: "127.0.0.1", advertiseAddress: "", secret: undefined },
  logging: { level: "info" },
  extensions: extensionDefaults,
  publisher: publisherDefaults(),
  replica: replicaDefaults(),
  telemetry: telemetryDefaults(),
  ddl: ddlDefaults
}

/** What the command line can override; each maps to one config key. */
export interface Overrides {
  readonly nodeId?: number | undefined
  readonly dataDir?: string | undefined
  readonly mysqlPort?: number | undefined
  readonly mysqlBind?: string | undefined
  readonly unixSocket?: string | undefined
  readonly workers?: number | undefined
  readonly grpcPort?: number | undefined
  readonly seedNodes?: ReadonlyArray<string> | undefined
  /** From MARMOT_CLUSTER_SECRET, which wins over the file. */
  readonly clusterSecret?: string | undefined
  readonly adminPort?: number | undefined
  /** From MARMOT_ADMIN_SECRET, which wins over the file. */
  readonly adminSecret?: string | undefined
  readonly followAddresses?: ReadonlyArray<string> | undefined
  /** From MARMOT_REPLICA_SECRET, which wins over the file. */
  readonly replicaSecret?: string | undefined
}

type Table = Record<string, unknown>

const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v)

/** Reads a TOML table strictly: every key must be consumed, so a misspelt key is named in the error. */
export class Reader {
  private readonly seen = new Set<string>()
  constructor(private readonly table: Table, private readonly path: string) {}

  key(k: string) {
    return this.path === "" ? k : `${this.path}.${k}`
  }

  take(k: string): unknown {
    this.seen.add(k)
    return this.table[k]
  }

  int(k: string, fallback: number, min: number, max: number): number {
    const v = this.take(k)
    if (v === undefined) return fallback
    const n = typeof v === "bigint" ? Number(v) : v
    if (typeof n !== "number" || !Number.isInteger(n)) throw new ConfigError({ key: this.key(k), reason: "must be an integer" })
    if (n < min || n > max) throw new ConfigError({ key: this.key(k), reason: `must be between ${min} and ${max}` })
    return n
  }

  string(k: string, fallback: string): string {
    const v = this.take(k)
    if (v === undefined) return fallback
    if (typeof v !== "string") throw new ConfigError({ key: this.key(k), reason: "must be a string" })
    return v
  }

  bool(k: string, fallback: boolean): boolean {
    const v = this.take(k)
    if (v === undefined) return fallback
    if (typeof v !== "boolean") throw new ConfigError({ key: this.key(k), reason: "must be true or false" })
    return v
  }

  strings(k: string, fallback: ReadonlyArray<string>): ReadonlyArray<string> {
    const v = this.take(k)
    if (v === undefined) return fallback
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new ConfigError({ key: this.key(k), reason: "must be an array of strings" })
    return v
  }

  oneOf<A extends string>(k: string, fallback: A, allowed: ReadonlyArray<A>): A {
    const v = this.string(k, fallback)
    if (!(allowed as ReadonlyArray<string>).includes(v)) {
      throw new ConfigError({ key: this.key(k), reason: `must be one of ${allowed.join(", ")}` })
    }
    return v as A
  }

  section(k: string): Reader {
    const v = this.take(k)
    if (v === undefined) return new Reader({}, this.key(k))
    if (!isTable(v)) throw new ConfigError({ key: this.key(k), reason: "must be a table" })
    return new Reader(v, this.key(k))
  }

  tables(k: string): ReadonlyArray<Reader> | undefined {
    const v = this.take(k)
    if (v === undefined) return undefined
    if (!Array.isArray(v) || !v.every(isTable)) {
      throw new ConfigError({ key: this.key(k), reason: "must be an array of tables" })
    }
    return v.map((t, i) => new Reader(t, `${this.key(k)}[${i}]`))
  }

  /** Fails on the first key nobody asked for. */
  done(): void {
    for (const k of Object.keys(this.table)) {
      if (!this.seen.has(k)) throw new ConfigError({ key: this.key(k), reason: "unknown key" })
    }
  }
}

const readMysql = (r: Reader): MysqlSettings => {
  const d = defaults.mysql
  const userTables = r.tables("users")
  const users = userTables === undefined ? d.users : userTables.map((u) => {
    const user = { name: u.string("name", ""), password: u.string("password", "") }
    u.done()
    if (user.name === "") throw new ConfigError({ key: "mysql.users.name", reason: "must not be empty" })
    return user
  })
  const socket = r.string("unix_socket", "")
  const settings: MysqlSettings = {
    bindAddress: r.string("bind_address", d.bindAddress),
    port: r.int("port", d.port, 0, 65535),
    maxConnections: r.int("max_connections", d.maxConnections, 1, 100_000),
    unixSocket: socket === "" ? undefined : socket,
    maxAllowedPacket: r.int("max_allowed_packet", d.maxAllowedPacket, 1024, 1024 * 1024 * 1024),
    lockWaitTimeoutSeconds: r.int("lock_wait_timeout_seconds", d.lockWaitTimeoutSeconds, 1, 31_536_000),
    workers: r.int("workers", d.workers, 0, 256),
    users,
    ...readMysqlOptions(r),
    autoIdMode: r.oneOf("auto_id_mode", d.autoIdMode, ["compact", "extended"])
  }
  r.done()
  return settings
}

const readCluster = (r: Reader): ClusterSettings => {
  const d = defaults.cluster
  const secret = r.string("cluster_secret", "")
  const settings: ClusterSettings = {
    grpcPort: r.int("grpc_port", d.grpcPort, 0, 65535),
    grpcBindAddress: r.string("grpc_bind_address", d.grpcBindAddress),
    grpcAdvertiseAddress: r.string("grpc_advertise_address", d.grpcAdvertiseAddress),
    seedNodes: r.strings("seed_nodes", d.seedNodes),
    clusterSecret: secret === "" ? undefined : secret,
    gossipIntervalMs: r.int("gossip_interval_ms", d.gossipIntervalMs, 10, 600_000),
    gossipFanout: r.int("gossip_fanout", d.gossipFanout, 1, 100),
    suspectTimeoutMs: r.int("suspect_timeout_ms", d.suspectTimeoutMs, 20, 3_600_000),
    deadTimeoutMs: r.int("dead_timeout_ms", d.deadTimeoutMs, 30, 3_600_000),
    ...readClusterTls(r)
  }
  r.done()
  if (settings.suspectTimeoutMs <= settings.gossipIntervalMs) {
    throw new ConfigError({ key: "cluster.suspect_timeout_ms", reason: "must be greater than cluster.gossip_interval_ms" })
  }
  if (settings.deadTimeoutMs <= settings.suspectTimeoutMs) {
    throw new ConfigError({ key: "cluster.dead_timeout_ms", reason: "must be greater than cluster.suspect_timeout_ms" })
  }
  return settings
}

const readReplication = (r: Reader): ReplicationSettings => {
  const d = defaults.replication
  const antiEntropyIntervalMs = r.int("anti_entropy_interval_ms", d.antiEntropyIntervalMs, 10, 3_600_000)
  const settings: ReplicationSettings = {
    defaultWriteConsistency: r.oneOf("default_write_consistency", d.defaultWriteConsistency, ["ONE", "QUORUM", "ALL"]),
    writeTimeoutMs: r.int("write_timeout_ms", d.writeTimeoutMs, 10, 600_000),
    antiEntropyIntervalMs,
    maxClockDriftMs: r.int("max_clock_drift_ms", d.maxClockDriftMs, 1, 3_600_000),
    gc: readGc(r, antiEntropyIntervalMs)
  }
  r.done()
  return settings
}

const readTransaction = (r: Reader): TransactionSettings => {
  const settings = { heartbeatTimeoutSeconds: r.int("heartbeat_timeout_seconds", defaults.transaction.heartbeatTimeoutSeconds, 1, 86_400) }
  r.done()
  return settings
}

const readAdmin = (r: Reader): AdminSettings => {
  const d = defaults.admin
  const secret = r.string("secret", "")
  const settings: AdminSettings = {
    httpPort: r.int("http_port", d.httpPort, 0, 65535),
    bindAddress: r.string("bind_address", d.bindAddress),
    advertiseAddress: r.string("advertise_address", d.advertiseAddress),
    secret: secret === "" ? undefined : secret
  }
  r.done()
  return settings
}

/** Decodes a parsed TOML document into settings; throws ConfigError naming the bad key. */
export const fromToml = (doc: Table): NodeSettings => {
  refuseMarmotOnly(doc)
  const r = new Reader(doc, "")
  const settings: NodeSettings = {
    nodeId: r.int("node_id", defaults.nodeId, 1, 0xffff_ffff),
    dataDir: r.string("data_dir", defaults.dataDir),
    mysql: readMysql(r.section("mysql")),
    cluster: readCluster(r.section("cluster")),
    replication: readReplication(r.section("replication")),
    transaction: readTransaction(r.section("transaction")),
    admin: readAdmin(r.section("admin")),
    logging: (() => {
      const l = r.section("logging")
      const level = l.oneOf("level", defaults.logging.level, ["debug", "info", "warning", "error"])
      l.done()
      return { level }
    })(),
    extensions: readExtensions(r.section("extensions")),
    publisher: readPublisher(r.section("publisher")),
    replica: readReplica(r.section("replica")),
    telemetry: readTelemetry(r.section("telemetry")),
    ddl: readDdl(r.section("ddl"))
  }
  r.done()
  return settings
}

export const applyOverrides = (s: NodeSettings, o: Overrides): NodeSettings => ({
  ...s,
  nodeId: o.nodeId ?? s.nodeId,
  dataDir: o.dataDir ?? s.dataDir,
  mysql: {
    ...s.mysql,
    port: o.mysqlPort ?? s.mysql.port,
    bindAddress: o.mysqlBind ?? s.mysql.bindAddress,
    unixSocket: o.unixSocket ?? s.mysql.unixSocket,
    workers: o.workers ?? s.mysql.workers
  },
  cluster: {
    ...s.cluster,
    grpcPort: o.grpcPort ?? s.cluster.grpcPort,
    seedNodes: o.seedNodes ?? s.cluster.seedNodes,
    clusterSecret: o.clusterSecret ?? s.cluster.clusterSecret
  },
  admin: {
    ...s.admin,
    httpPort: o.adminPort ?? s.admin.httpPort,
    secret: o.adminSecret ?? s.admin.secret
  },
  replica: {
    ...s.replica,
    followAddresses: o.followAddresses ?? s.replica.followAddresses,
    secret: o.replicaSecret ?? s.replica.secret
  }
})

export const load = (configPath: string | undefined, overrides: Overrides): Effect.Effect<NodeSettings, ConfigError> =>
  Effect.try({
    try: () => {
      let doc: Table = {}
      if (configPath !== undefined) {
        const text = readFileSync(configPath, "utf8")
        doc = parseToml(text) as Table
      }
      const settings = applyOverrides(fromToml(doc), overrides)
      checkReplica(settings)
      return { ...settings, dataDir: resolve(settings.dataDir) }
    },
    catch: (e) =>
      e instanceof ConfigError ? e : new ConfigError({ key: configPath ?? "(defaults)", reason: e instanceof Error ? e.message : String(e) })
  })

export class NodeConfig extends Context.Tag("marmot/config/NodeConfig")<NodeConfig, NodeSettings>() {
  static readonly layer = (settings: NodeSettings) => Layer.succeed(NodeConfig, settings)
  static readonly layerLoad = (configPath: string | undefined, overrides: Overrides) =>
    Layer.effect(NodeConfig, load(configPath, overrides))
}
