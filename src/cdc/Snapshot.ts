/**
 * A consistent snapshot of one database file for a sink that starts without (or past the end of)
 * the commit log: every row of every published table (Debezium op "r") and the log position they
 * are consistent with. One connection holds ONE SQLite read transaction from the first read to
 * `close`, so the rows and the position come from the same committed state: every log entry at or
 * below the position is in the rows, none above it is. `publishSnapshot` publishes them in batches.
 */
import Database from "better-sqlite3"
import { Clock, Effect } from "effect"
import type { SqlValue } from "../../proto-schemas/src/Values.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import { CommitLogError, tableShapeOf } from "./CommitLog.ts"
import { type ChangeEvent, snapshotEventOf, type TableShape } from "./Debezium.ts"
import type { TableFilter } from "./Filter.ts"

export interface SnapshotRow {
  readonly table: string
  readonly shape: TableShape
  readonly columns: ReadonlyArray<string>
  readonly values: ReadonlyArray<SqlValue>
  /** The row's place in its table's scan (part of the event id). */
  readonly index: number
}

export class DatabaseSnapshot {
  private readonly db: Database.Database
  /** The log position the rows are consistent with (the head, or the GC horizon when the log is empty). */
  readonly position: bigint
  /** The transaction at `position`, "" when the log holds none there (the cursor's check value). */
  readonly txnId: string
  /** The published tables with a primary key (rows of tables without one are never published). */
  readonly tables: ReadonlyArray<{ readonly name: string; readonly shape: TableShape }>

  constructor(readonly database: string, path: string, include: (table: string) => boolean) {
    this.db = new Database(path, { fileMustExist: true })
    try {
      this.db.defaultSafeIntegers(true)
      this.db.pragma("busy_timeout = 1000")
      this.db.pragma("query_only = ON")
      this.db.exec("BEGIN")
      const names = this.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as Array<string>
      const hasLog = names.includes("__marmot_commit_log")
      const head = hasLog
        ? this.db.prepare("SELECT seq, txn_id FROM __marmot_commit_log ORDER BY seq DESC LIMIT 1").raw().get() as [bigint, string] | undefined
        : undefined
      const horizon = names.includes("__marmot_log_horizon")
        ? (this.db.prepare("SELECT seq FROM __marmot_log_horizon WHERE id = 0").pluck().get() as bigint | undefined) ?? 0n
        : 0n
      this.position = head !== undefined && head[0] > horizon ? head[0] : horizon
      this.txnId = head !== undefined && head[0] === this.position ? head[1] : ""
      this.tables = names
        .filter((n) => !n.startsWith("sqlite_") && !n.startsWith("__marmot") && include(n))
        .flatMap((name) => {
          const shape = tableShapeOf(this.db, name)
          return shape !== undefined && shape.primaryKey.length > 0 ? [{ name, shape }] : []
        })
    } catch (e) {
      this.close()
      throw e
    }
  }

  /** Every row of every table, table by table, in the transaction's snapshot. */
  *rows(): Generator<SnapshotRow> {
    for (const { name, shape } of this.tables) {
      const stmt = this.db.prepare(`SELECT * FROM main.${quoteIdent(name)}`).raw()
      const columns = stmt.columns().map((c) => c.name)
      let index = 0
      for (const values of stmt.iterate() as Iterable<Array<SqlValue>>) yield { table: name, shape, columns, values, index: index++ }
    }
  }

  close(): void {
    if (!this.db.open) return
    if (this.db.inTransaction) this.db.exec("COMMIT")
    this.db.close()
  }
}

export interface SnapshotRequest<E> {
  readonly database: string
  readonly path: string
  readonly filter: TableFilter
  readonly topicPrefix: string
  readonly nodeId: number
  readonly batchSize: number
  /** Publishes one batch (retrying as the sink does); the events the broker already had. */
  readonly publish: (events: ReadonlyArray<ChangeEvent>) => Effect.Effect<{ readonly duplicates: number }, E>
}

export interface SnapshotDone {
  /** The cursor to save: the log continues after it. */
  readonly position: bigint
  readonly txnId: string
  readonly events: number
  readonly duplicates: number
}

const failure = (database: string) => (e: unknown) =>
  e instanceof CommitLogError ? e : new CommitLogError({ database, reason: `snapshot: ${e instanceof Error ? e.message : String(e)}` })

/**
 * Reads every row of the database in one read transaction and publishes them as reads, in batches
 * of `batchSize`; the last row of the snapshot is marked "last", so each row is built once the
 * next one (or the end) is known.
 */
export const publishSnapshot = <E>(request: SnapshotRequest<E>): Effect.Effect<SnapshotDone, E | CommitLogError> =>
  Effect.acquireUseRelease(
    Effect.try({
      try: () => new DatabaseSnapshot(request.database, request.path, (t) => request.filter.table(request.database, t)),
      catch: failure(request.database)
    }),
    (snap) =>
      Effect.gen(function*() {
        const startedMs = yield* Clock.currentTimeMillis
        const rows = snap.rows()
        let batch: Array<ChangeEvent> = []
        let previous: SnapshotRow | undefined
        let events = 0
        let duplicates = 0
        for (;;) {
          const next = yield* Effect.try({ try: () => rows.next(), catch: failure(request.database) })
          if (previous !== undefined) {
            const nowMs = yield* Clock.currentTimeMillis
            const context = { topicPrefix: request.topicPrefix, nodeId: request.nodeId, startedMs, nowMs, position: snap.position }
            batch.push(snapshotEventOf(request.database, previous, context, next.done === true))
          }
          if (batch.length >= request.batchSize || (next.done === true && batch.length > 0)) {
            duplicates += (yield* request.publish(batch)).duplicates
            events += batch.length
            batch = []
          }
          if (next.done === true) break
          previous = next.value
        }
        return { position: snap.position, txnId: snap.txnId, events, duplicates }
      }),
    (snap) => Effect.sync(() => snap.close())
  )
