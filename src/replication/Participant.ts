/**
 * A node's side of every replicated write: it votes on PREPARE (intents, stale-read check),
 * applies on COMMIT through the same LWW applier for local and remote transactions, frees intents
 * on ABORT, applies what anti-entropy brings, and serves its commit log to peers.
 * One per node (in the supervisor process). See DESIGN.md.
 */
import { Context, Duration, Effect, Layer, Metric, Schedule, Schema } from "effect"
import type { ClockSkewError } from "../../proto-schemas/src/Errors.ts"
import { ApplyFailed, NotPrepared, PullLogResponse } from "../../proto-schemas/src/Replication.ts"
import type { LogCursor, LogGap } from "../../proto-schemas/src/Replication.ts"
import {
  type AbortRequest,
  Ack,
  type CommitRequest,
  CommittedTransaction,
  type PrepareRequest,
  type PrepareVote,
  Rejected
} from "../../proto-schemas/src/Transaction.ts"
import type { RowVersion } from "../../proto-schemas/src/RowChange.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { HlcClock } from "../clock/HlcClock.ts"
import { DatabaseExists, type DatabaseHandle, Storage, UnknownDatabase } from "../storage/Storage.ts"
import type { ApplyResult } from "./Applier.ts"
import { ApplyQueue } from "./ApplyQueue.ts"
import { CommitSignal } from "./CommitSignal.ts"
import { IntentTable } from "./Intents.ts"
import { annotateWhen, spanWhen } from "../telemetry/Telemetry.ts"
import { logHorizon } from "./LogGc.ts"
import { schemaMismatch, schemaVersionOf } from "./SchemaVersion.ts"
import { installAsNew, installSnapshot as installSnapshotFile, SnapshotFailed } from "./SnapshotInstall.ts"
import * as Metrics from "./Metrics.ts"

export interface ParticipantSettings {
  /** A prepared transaction whose coordinator is silent this long loses its intents. */
  readonly heartbeatTimeoutMs: number
  /** A database's DDL lock held longer than this may be taken over (`[ddl] lock_lease_seconds`). */
  readonly ddlLockLeaseMs?: number | undefined
  /** Spans for prepare, commit, apply and abort (`[telemetry] enabled`). */
  readonly tracing?: boolean | undefined
}

export class ParticipantConfig extends Context.Tag("marmot/replication/ParticipantConfig")<
  ParticipantConfig,
  ParticipantSettings
>() {}

const decodeBody = Schema.decodeUnknownSync(CommittedTransaction)

export class Participant extends Context.Tag("marmot/replication/Participant")<Participant, {
  readonly prepare: (request: PrepareRequest) => Effect.Effect<PrepareVote, ClockSkewError>
  readonly commit: (request: CommitRequest) => Effect.Effect<Ack, NotPrepared | ApplyFailed | ClockSkewError>
  readonly abort: (request: AbortRequest) => Effect.Effect<Ack>
  /** A committed transaction from a peer's log (anti-entropy); exactly once, LWW per row. */
  readonly applyCommitted: (txn: CommittedTransaction) => Effect.Effect<ApplyResult | undefined, ApplyFailed>
  /** Commit-log entries after each cursor, across databases, at most `limit`. */
  readonly readLog: (cursors: ReadonlyArray<LogCursor>, limit: number) => Effect.Effect<PullLogResponse>
  /** Whether this node applied `txnId` to `database` (its applied marker is there). */
  readonly hasApplied: (database: string, txnId: string) => boolean
  /**
   * Installs a verified snapshot file over `database` (created when this node has none) while its
   * applies wait (SnapshotInstall.ts); the number of this node's own transactions carried over.
   */
  readonly installSnapshot: (database: string, snapshotPath: string) => Effect.Effect<number, SnapshotFailed>
  /** Prepared transactions held now. */
  readonly held: Effect.Effect<number>
}>() {
  static readonly make = Effect.gen(function*() {
    const config = yield* ParticipantConfig
    const clock = yield* HlcClock
    const storage = yield* Storage
    const commitSignal = yield* CommitSignal
    const intents = new IntentTable(config.heartbeatTimeoutMs, config.ddlLockLeaseMs)
    const queues = new Map<DatabaseHandle, ApplyQueue>()
    const nowMs = Effect.clockWith((c) => c.currentTimeMillis)
    const self = (yield* clock.current).nodeId
    const traced = spanWhen(config.tracing === true)
    const annotate = annotateWhen(config.tracing === true)
    const span = (name: string, txnId: string, attributes: Record<string, unknown> = {}) =>
      traced(name, { "marmot.node_id": self, "marmot.txn_id": txnId, ...attributes })

    const queueOf = (handle: DatabaseHandle): ApplyQueue => {
      let queue = queues.get(handle)
      if (queue === undefined) {
        queue = new ApplyQueue(handle, () => storage.schemaChanged(handle), commitSignal.committed)
        queues.set(handle, queue)
      }
      return queue
    }

    const stored = (database: string, table: string, key: Uint8Array): RowVersion | undefined => {
      const handle = storage.get(database)
      if (handle === undefined) return undefined
      try {
        const row = handle.reader.prepare("SELECT stamp, node FROM __marmot_row_version WHERE tbl = ? AND pk = ?").stmt
          .get(table, Buffer.from(key.buffer, key.byteOffset, key.byteLength)) as [bigint, bigint] | undefined
        return row === undefined ? undefined : { stamp: BigInt(row[0]), nodeId: nodeId(Number(row[1])) }
      } catch {
        return undefined // no version table yet: nothing was ever replicated into this file
      }
    }

    const handleFor = (txn: { readonly database: string; readonly databaseOp?: "create" | "drop" | undefined }) => {
      if (txn.databaseOp === "create") {
        try {
          return storage.create(txn.database)
        } catch (e) {
          if (!(e instanceof DatabaseExists)) throw e
        }
      }
      return storage.get(txn.database)
    }

    const apply = (txn: CommittedTransaction): Effect.Effect<ApplyResult | undefined, ApplyFailed> =>
      Effect.tryPromise({
        try: async () => {
          if (txn.databaseOp === "drop") {
            try {
              storage.drop(txn.database)
            } catch (e) {
              if (!(e instanceof UnknownDatabase)) throw e
            }
            queues.forEach((_, h) => h.name === txn.database && queues.delete(h))
            return undefined
          }
          const handle = handleFor(txn)
          if (handle === undefined) throw new Error(`unknown database ${txn.database}`)
          return await queueOf(handle).push(txn)
        },
        catch: (e) => new ApplyFailed({ txnId: txn.txnId, reason: e instanceof Error ? e.message : String(e) })
      })

    const applied = (database: string, txnId: string): boolean => {
      const handle = storage.get(database)
      if (handle === undefined) return false
      try {
        return handle.reader.prepare("SELECT 1 FROM __marmot_applied_txn WHERE txn_id = ?").stmt.get(txnId) !== undefined
      } catch {
        return false
      }
    }

    const prepare = (request: PrepareRequest): Effect.Effect<PrepareVote, ClockSkewError> =>
      Effect.gen(function*() {
        // This node's own clock is not checked against itself (it may have stepped back).
        const own = request.startHlc.nodeId === (yield* clock.current).nodeId
        const hlc = own ? yield* clock.now : yield* clock.observe(request.startHlc)
        if (request.databaseOp === undefined && storage.get(request.database) === undefined) {
          return new Rejected({ code: 1049, sqlState: "42000", message: `Unknown database '${request.database}'` })
        }
        const handle = storage.get(request.database)
        const schema = handle === undefined ? undefined : schemaMismatch(request, schemaVersionOf(handle.reader.db))
        if (schema !== undefined) return schema
        const vote = intents.prepare(request, yield* nowMs, hlc, stored)
        if (vote._tag === "Conflict") yield* Metric.increment(Metric.tagged(Metrics.conflicts, "reason", vote.reason))
        yield* annotate("marmot.vote", vote._tag)
        return vote
      }).pipe(span("participant.prepare", request.txnId, { "db.name": request.database, "marmot.rows": request.changes.length }))

    const commit = (request: CommitRequest) =>
      Effect.gen(function*() {
        if (request.commitHlc.nodeId !== (yield* clock.current).nodeId) yield* clock.observe(request.commitHlc)
        const held = intents.prepared(request.txnId)
        if (held === undefined) {
          const database = request.database
          if (database !== undefined && applied(database, request.txnId)) return new Ack({ hlc: yield* clock.now }, true)
          return yield* Effect.fail(new NotPrepared({ txnId: request.txnId }))
        }
        const txn = new CommittedTransaction({
          txnId: held.txnId,
          commitHlc: request.commitHlc,
          coordinator: held.coordinator,
          database: held.database,
          changes: held.changes,
          schemaVersion: held.schemaVersion ?? 0,
          ...(held.ddl === undefined ? {} : { ddl: held.ddl }),
          ...(held.databaseOp === undefined ? {} : { databaseOp: held.databaseOp })
        }, true) // built from a request that was validated when it arrived
        yield* apply(txn).pipe(
          span("participant.apply", request.txnId, { "marmot.rows": txn.changes.length }),
          Effect.ensuring(Effect.sync(() => intents.release(request.txnId)))
        )
        return new Ack({ hlc: yield* clock.now }, true)
      }).pipe(span("participant.commit", request.txnId))

    const abort = (request: AbortRequest) =>
      Effect.gen(function*() {
        intents.release(request.txnId)
        return new Ack({ hlc: yield* clock.now }, true)
      }).pipe(span("participant.abort", request.txnId))

    const applyCommitted = (txn: CommittedTransaction) =>
      Effect.gen(function*() {
        yield* Effect.ignore(clock.observe(txn.commitHlc))
        const result = yield* apply(txn)
        intents.release(txn.txnId) // a transaction prepared here and committed elsewhere is resolved
        return result
      })

    const readLog = (cursors: ReadonlyArray<LogCursor>, limit: number) =>
      Effect.sync(() => {
        const after = new Map(cursors.map((c) => [c.database, c.afterSeq]))
        const databases = storage.list()
        const entries: Array<CommittedTransaction> = []
        const heads: Array<{ database: string; seq: bigint }> = []
        const gaps: Array<LogGap> = []
        let more = false
        for (const name of databases) {
          const handle = storage.get(name)
          if (handle === undefined) continue
          try {
            const head = handle.reader.prepare("SELECT max(seq) FROM __marmot_commit_log").stmt.get() as [bigint | null] | undefined
            if (head?.[0] != null) heads.push({ database: name, seq: BigInt(head[0]) })
          } catch {
            // no log in this file yet
          }
          const horizon = logHorizon(handle)
          if ((after.get(name) ?? 0n) < horizon) {
            gaps.push({ database: name, horizon })
            continue
          }
          const room = limit - entries.length
          if (room <= 0) {
            more = true
            break
          }
          let rows: Array<[bigint, string]>
          try {
            rows = handle.reader.prepare("SELECT seq, body FROM __marmot_commit_log WHERE seq > ? ORDER BY seq LIMIT ?").stmt
              .all(after.get(name) ?? 0n, room + 1) as Array<[bigint, string]>
          } catch {
            continue // nothing was ever committed through replication here
          }
          if (rows.length > room) {
            more = true
            rows = rows.slice(0, room)
          }
          for (const [seq, body] of rows) {
            const txn = decodeBody(JSON.parse(body))
            entries.push(new CommittedTransaction({ ...txn, seq: BigInt(seq) }, true))
          }
        }
        return new PullLogResponse({ databases, entries, more, heads, ...(gaps.length === 0 ? {} : { gaps }) })
      })

    yield* Effect.gen(function*() {
      const expired = intents.expire(yield* nowMs)
      if (expired.length > 0) yield* Effect.logWarning(`intents of ${expired.length} silent transaction(s) expired`)
    }).pipe(
      Effect.repeat(Schedule.spaced(Duration.millis(Math.max(50, Math.floor(config.heartbeatTimeoutMs / 4))))),
      Effect.forkScoped
    )

    const installSnapshot = (database: string, snapshotPath: string) =>
      Effect.tryPromise({
        try: async () => {
          if (storage.get(database) === undefined && installAsNew(storage.pathOf(database), snapshotPath, storage.extensions())) {
            const installed = storage.get(database)
            if (installed === undefined) throw new Error("the installed file cannot be opened")
            storage.schemaChanged(installed)
            return 0
          }
          const handle = handleFor({ database, databaseOp: "create" })
          if (handle === undefined) throw new Error("the database cannot be created here")
          const carried = await queueOf(handle).exclusive(() => installSnapshotFile(handle, snapshotPath, storage.extensions()))
          storage.schemaChanged(handle)
          return carried
        },
        catch: (e) => new SnapshotFailed({ database, reason: e instanceof Error ? e.message : String(e) })
      })

    return Participant.of({
      installSnapshot,
      prepare,
      commit,
      abort,
      applyCommitted,
      readLog,
      hasApplied: applied,
      held: Effect.sync(() => intents.size)
    })
  })

  static readonly layer = Layer.scoped(Participant, Participant.make)
}
