/**
 * Commit-log, tombstone and applied-marker GC (Marmot's rules, shared research marmot.md §7).
 * Every `intervalMs`, per database:
 * - log entries older than `minRetentionMs` that every non-REMOVED member, every read-only replica
 *   that pulled within `maxRetentionMs`, and every CDC sink of this node consumed go, and
 *   entries older than `maxRetentionMs` go unconditionally (0 = never). Only a prefix of the log is
 *   deleted, and the highest deleted seq is the database's horizon (`__marmot_log_horizon`): a pull
 *   from below it is answered with a gap, and the puller catches up by snapshot (Snapshot*.ts);
 * - tombstones and applied markers older than twice `maxRetentionMs` go (never when it is 0): by
 *   then every node deleted every log entry that old, so no older write can still arrive to be
 *   resurrected or applied twice (the margin covers GC rounds and clock drift). A marker whose
 *   transaction is still in this node's log stays.
 * Age is the entry's commit HLC against this node's clock.
 */
import { Context, Duration, Effect, Layer, Metric, Schedule } from "effect"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import { Membership } from "../membership/Membership.ts"
import { type DatabaseHandle, Storage } from "../storage/Storage.ts"
import { NodeConfig } from "../config/NodeConfig.ts"
import { makeCdcPositions } from "./CdcPositions.ts"
import { type Consumer, LogConsumers } from "./LogConsumers.ts"
import * as Metrics from "./Metrics.ts"

export interface LogGcSettings {
  readonly nodeId: NodeId
  readonly intervalMs: number
  readonly minRetentionMs: number
  /** 0 = unlimited. */
  readonly maxRetentionMs: number
}

export class LogGcConfig extends Context.Tag("marmot/replication/LogGcConfig")<LogGcConfig, LogGcSettings>() {}

/** What one GC round deleted from one database. */
export interface Collected {
  readonly database: string
  readonly logEntries: number
  readonly tombstones: number
  readonly appliedMarkers: number
  /** The log horizon after the round. */
  readonly horizon: bigint
}

/** The highest seq GC deleted from the database's log (0 when none). */
export const logHorizon = (handle: DatabaseHandle): bigint => {
  try {
    const row = handle.reader.prepare("SELECT seq FROM __marmot_log_horizon WHERE id = 0").stmt.get() as [bigint] | undefined
    return row === undefined ? 0n : BigInt(row[0])
  } catch {
    return 0n // an older file: nothing was ever collected
  }
}

const stampAt = (wallMs: number): bigint => BigInt(Math.max(0, Math.floor(wallMs))) << 16n

/**
 * The last seq of the log's prefix whose entries are all older than `stamp` (the log head when
 * every entry is; the horizon when the first kept one is not).
 */
const oldPrefixEnd = (handle: DatabaseHandle, stamp: bigint, head: bigint, horizon: bigint): bigint => {
  const firstYoung = handle.writer.db.prepare("SELECT min(seq) FROM __marmot_commit_log WHERE commit_stamp >= ?").pluck()
    .get(stamp) as bigint | null
  return firstYoung === null ? head : BigInt(firstYoung) - 1n < horizon ? horizon : BigInt(firstYoung) - 1n
}

export interface CollectInput {
  readonly nowMs: number
  readonly minRetentionMs: number
  readonly maxRetentionMs: number
  /** The lowest position any member that counts has consumed in this database's log. */
  readonly consumed: bigint
}

/** One GC round on one database, in one SQLite transaction; undefined when the file is busy. */
export const collect = (handle: DatabaseHandle, input: CollectInput): Collected | undefined => {
  const db = handle.writer.db
  try {
    db.exec("BEGIN IMMEDIATE")
  } catch (e) {
    if (String((e as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY")) return undefined
    throw e
  }
  try {
    const horizon = logHorizon(handle)
    const head = BigInt((db.prepare("SELECT max(seq) FROM __marmot_commit_log").pluck().get() as bigint | null) ?? horizon)
    const byMin = oldPrefixEnd(handle, stampAt(input.nowMs - input.minRetentionMs), head, horizon)
    let cut = byMin < input.consumed ? byMin : input.consumed
    if (input.maxRetentionMs > 0) {
      const byMax = oldPrefixEnd(handle, stampAt(input.nowMs - input.maxRetentionMs), head, horizon)
      if (byMax > cut) cut = byMax
    }
    let logEntries = 0
    if (cut > horizon) {
      logEntries = db.prepare("DELETE FROM __marmot_commit_log WHERE seq <= ?").run(cut).changes
      db.prepare("INSERT INTO __marmot_log_horizon (id, seq) VALUES (0, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq")
        .run(cut)
    }
    let tombstones = 0
    let appliedMarkers = 0
    if (input.maxRetentionMs > 0) {
      const old = stampAt(input.nowMs - 2 * input.maxRetentionMs)
      tombstones = db.prepare("DELETE FROM __marmot_row_version WHERE deleted = 1 AND stamp < ?").run(old).changes
      appliedMarkers = db.prepare(
        "DELETE FROM __marmot_applied_txn WHERE commit_stamp < ? AND txn_id NOT IN (SELECT txn_id FROM __marmot_commit_log)"
      ).run(old).changes
    }
    db.exec("COMMIT")
    return { database: handle.name, logEntries, tombstones, appliedMarkers, horizon: cut > horizon ? cut : horizon }
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK")
    throw e
  }
}

export interface LogReaders {
  readonly self: NodeId
  readonly members: ReadonlyArray<{ readonly nodeId: NodeId; readonly status: string }>
  /** Every puller of this node's log (LogConsumers). */
  readonly consumers: ReadonlyArray<Consumer>
  /** What the CDC sinks covering the database published; undefined when none covers it. */
  readonly cdc: bigint | undefined
  readonly nowMs: number
  readonly maxRetentionMs: number
}

/**
 * The lowest position anyone still reading `database`'s log consumed: every non-REMOVED member
 * but this node (0 when it never pulled it), every replica (a puller that is no member) for the
 * databases it follows while its last pull is within gc_max (any time when gc_max is 0), and the
 * CDC sinks. Undefined when nobody reads it.
 */
export const lowestConsumed = (database: string, readers: LogReaders): bigint | undefined => {
  const positions: Array<bigint> = []
  const memberIds = new Set(readers.members.map((m) => m.nodeId))
  for (const m of readers.members) {
    if (m.status === "REMOVED" || m.nodeId === readers.self) continue
    positions.push(readers.consumers.find((c) => c.nodeId === m.nodeId)?.positions.get(database) ?? 0n)
  }
  for (const c of readers.consumers) {
    if (memberIds.has(c.nodeId)) continue
    if (readers.maxRetentionMs > 0 && readers.nowMs - c.lastPullMs > readers.maxRetentionMs) continue
    const at = c.positions.get(database)
    if (at !== undefined) positions.push(at)
  }
  if (readers.cdc !== undefined) positions.push(readers.cdc)
  return positions.length === 0 ? undefined : positions.reduce((low, at) => (at < low ? at : low))
}

export class LogGc extends Context.Tag("marmot/replication/LogGc")<LogGc, {
  /** One GC round over every database now (the schedule runs it every interval). */
  readonly runOnce: Effect.Effect<ReadonlyArray<Collected>>
}>() {
  static readonly make = Effect.gen(function*() {
    const config = yield* LogGcConfig
    const storage = yield* Storage
    const membership = yield* Membership
    const consumers = yield* LogConsumers

    const cdcPositions = yield* makeCdcPositions(yield* NodeConfig)

    const cdcOf = (database: string) =>
      Effect.try(() => cdcPositions(database)).pipe(
        Effect.catchAll((e) => Effect.as(Effect.logWarning(`gc cannot read the cdc cursors: ${String(e.error)}`), 0n))
      )

    const runOnce = Effect.gen(function*() {
      const members = yield* membership.members
      const nowMs = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const readers = {
        self: config.nodeId,
        members,
        consumers: yield* consumers.all,
        nowMs,
        maxRetentionMs: config.maxRetentionMs
      }
      const report: Array<Collected> = []
      for (const name of storage.list()) {
        const handle = storage.get(name)
        if (handle === undefined) continue
        // Nobody reading the log (a node alone, no replica, no sink): only the age rules hold.
        const consumed = lowestConsumed(name, { ...readers, cdc: yield* cdcOf(name) }) ?? (1n << 62n)
        const done = yield* Effect.try(() => collect(handle, { ...config, nowMs, consumed })).pipe(
          Effect.catchAll((e) => Effect.as(Effect.logWarning(`gc of ${name} failed: ${String(e.error)}`), undefined))
        )
        if (done === undefined) continue
        report.push(done)
        if (done.logEntries + done.tombstones + done.appliedMarkers === 0) continue
        yield* Metric.incrementBy(Metrics.gcLogEntries, done.logEntries)
        yield* Metric.incrementBy(Metrics.gcTombstones, done.tombstones)
        yield* Metric.incrementBy(Metrics.gcAppliedMarkers, done.appliedMarkers)
        yield* Effect.logInfo(
          `gc ${name}: ${done.logEntries} log entries (horizon now ${done.horizon}), ${done.tombstones} tombstones, ` +
            `${done.appliedMarkers} applied markers`
        )
      }
      return report
    }).pipe(Effect.annotateLogs({ subsystem: "gc", node: config.nodeId }))

    yield* runOnce.pipe(
      Effect.repeat(Schedule.spaced(Duration.millis(config.intervalMs))),
      Effect.delay(Duration.millis(config.intervalMs)),
      Effect.forkScoped
    )
    return LogGc.of({ runOnce })
  })

  static readonly layer = Layer.scoped(LogGc, LogGc.make)
}
