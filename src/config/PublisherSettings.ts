/**
 * The `[publisher]` section and its `[[publisher.sinks]]` (change data capture out, src/cdc).
 * Keys and defaults follow Marmot's publisher (shared research marmot.md §11); every key is read
 * strictly, so a misspelt one is named in the ConfigError like the rest of the config.
 */
import { ConfigError } from "./ConfigError.ts"
import type { Reader } from "./NodeConfig.ts"

export type SinkType = "kafka" | "nats"

/**
 * When a sink publishes a database's rows as snapshot reads (Debezium op "r") instead of its log:
 * `initial` for every database the sink has no cursor for; `when_needed` only when the log no
 * longer holds what the sink has not published (GC collected it); `never` (publish the log from
 * where it starts, whatever was collected is missed). Both others also snapshot a sink whose
 * cursor fell behind the GC horizon.
 */
export type SnapshotMode = "initial" | "when_needed" | "never"

/**
 * Which commits a node's sink publishes: `every_node`, its whole commit log (every node of a
 * cluster publishes every event: JetStream drops the copies by id, Kafka keeps one per node);
 * `origin`, those it committed, plus those of a DEAD/LEAVING/REMOVED member when it is the lowest
 * ALIVE node (one copy in the normal case, at least one when a node dies; src/cdc/DESIGN.md).
 */
export type PublishFrom = "every_node" | "origin"

export interface SinkSettings {
  /** Unique; the key of the sink's persistent cursors (renaming a sink starts it from the beginning). */
  readonly name: string
  readonly type: SinkType
  /** Only "debezium" exists. */
  readonly format: "debezium"
  /** Kafka bootstrap brokers, host:port (type kafka). */
  readonly brokers: ReadonlyArray<string>
  /** NATS server URL(s), comma separated (type nats). */
  readonly natsUrl: string
  /** Topics are `{prefix}.{db}.{table}`; required, so a NATS stream can own `{prefix}.>`. */
  readonly topicPrefix: string
  /** Glob patterns (`*`, `?`, `[abc]`) on the table name, or on `db.table` when the pattern has a dot. */
  readonly filterTables: ReadonlyArray<string>
  /** Glob patterns on the database name. */
  readonly filterDatabases: ReadonlyArray<string>
  /** Commit-log entries read (and published) per round, per database. */
  readonly batchSize: number
  /** How long an idle sink waits before looking at the commit logs again. */
  readonly pollIntervalMs: number
  /** Exponential backoff after a failed publish: first delay, ceiling, factor. */
  readonly retryInitialMs: number
  readonly retryMaxMs: number
  readonly retryMultiplier: number
  readonly snapshotMode: SnapshotMode
  readonly publishFrom: PublishFrom
}

export interface PublisherSettings {
  readonly enabled: boolean
  readonly sinks: ReadonlyArray<SinkSettings>
}

export function publisherDefaults(): PublisherSettings {
  return { enabled: false, sinks: [] }
}

export function sinkDefaults(): Omit<SinkSettings, "name" | "type" | "brokers" | "natsUrl" | "topicPrefix"> {
  return {
    format: "debezium",
    filterTables: ["*"],
    filterDatabases: ["*"],
    batchSize: 100,
    pollIntervalMs: 10,
    retryInitialMs: 100,
    retryMaxMs: 30_000,
    retryMultiplier: 2,
    snapshotMode: "when_needed",
    publishFrom: "every_node"
  }
}

export function number(r: Reader, k: string, fallback: number, min: number, max: number): number {
  const v = r.take(k)
  if (v === undefined) return fallback
  const n = typeof v === "bigint" ? Number(v) : v
  if (typeof n !== "number" || !Number.isFinite(n)) throw new ConfigError({ key: r.key(k), reason: "must be a number" })
  if (n < min || n > max) throw new ConfigError({ key: r.key(k), reason: `must be between ${min} and ${max}` })
  return n
}

function readSink(r: Reader): SinkSettings {
  const d = sinkDefaults()
  const name = r.string("name", "")
  if (name === "") throw new ConfigError({ key: r.key("name"), reason: "is required" })
  if (r.take("type") === undefined) throw new ConfigError({ key: r.key("type"), reason: "is required (kafka or nats)" })
  const type = r.oneOf<SinkType>("type", "kafka", ["kafka", "nats"])
  const format = r.oneOf("format", d.format, ["debezium"])
  const brokers = r.strings("brokers", [])
  const natsUrl = r.string("nats_url", "")
  if (type === "kafka" && brokers.length === 0) throw new ConfigError({ key: r.key("brokers"), reason: "is required for a kafka sink" })
  if (type === "kafka" && natsUrl !== "") throw new ConfigError({ key: r.key("nats_url"), reason: "is only for a nats sink" })
  if (type === "nats" && natsUrl === "") throw new ConfigError({ key: r.key("nats_url"), reason: "is required for a nats sink" })
  if (type === "nats" && brokers.length > 0) throw new ConfigError({ key: r.key("brokers"), reason: "is only for a kafka sink" })
  const topicPrefix = r.string("topic_prefix", "")
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(topicPrefix)) {
    throw new ConfigError({ key: r.key("topic_prefix"), reason: "is required: dot-separated words of letters, digits, _ and -" })
  }
  const retryInitialMs = r.int("retry_initial_ms", d.retryInitialMs, 1, 3_600_000)
  const sink: SinkSettings = {
    name,
    type,
    format,
    brokers,
    natsUrl,
    topicPrefix,
    filterTables: r.strings("filter_tables", d.filterTables),
    filterDatabases: r.strings("filter_databases", d.filterDatabases),
    batchSize: r.int("batch_size", d.batchSize, 1, 100_000),
    pollIntervalMs: r.int("poll_interval_ms", d.pollIntervalMs, 1, 3_600_000),
    retryInitialMs,
    retryMaxMs: r.int("retry_max_ms", d.retryMaxMs, retryInitialMs, 86_400_000),
    retryMultiplier: number(r, "retry_multiplier", d.retryMultiplier, 1, 100),
    snapshotMode: r.oneOf<SnapshotMode>("snapshot_mode", d.snapshotMode, ["initial", "when_needed", "never"]),
    publishFrom: r.oneOf<PublishFrom>("publish_from", d.publishFrom, ["every_node", "origin"])
  }
  r.done()
  return sink
}

/** Reads `[publisher]`; throws ConfigError naming the bad key. */
export function readPublisher(r: Reader): PublisherSettings {
  const enabled = r.bool("enabled", false)
  const sinks = (r.tables("sinks") ?? []).map(readSink)
  const names = new Set<string>()
  sinks.forEach((s, i) => {
    if (names.has(s.name)) throw new ConfigError({ key: `${r.key("sinks")}[${i}].name`, reason: `duplicate sink name ${s.name}` })
    names.add(s.name)
  })
  r.done()
  return { enabled, sinks }
}
