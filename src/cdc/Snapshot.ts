/**
 * A consistent snapshot of one database file for a sink that starts without (or past the end of)
 * the commit log: every row of every published table (Debezium op "r") and the log position they
 * are consistent with. One connection holds ONE SQLite read transaction from the first read to
 * `close`, so the rows and the position come from the same committed state: every log entry at or
 * below the position is in the rows, none above it is. Plain and synchronous (better-sqlite3).
 */
import Database from "better-sqlite3"
import type { SqlValue } from "../../proto-schemas/src/Values.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import { tableShapeOf } from "./CommitLog.ts"
import type { TableShape } from "./Debezium.ts"

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
