import type Database from "better-sqlite3"
import { compareStamps, toStamp } from "../../proto-schemas/src/Hlc.ts"
import type { RowChange } from "../../proto-schemas/src/RowChange.ts"
import type { CommittedTransaction } from "../../proto-schemas/src/Transaction.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import { encodeBody } from "./CommitLogBody.ts"
import { dmlKey, type PkValue } from "./IntentKey.ts"

/**
 * Applies committed transactions to one database with last-write-wins per row. Everything a
 * transaction changes commits in ONE SQLite transaction with its bookkeeping: the row versions
 * (HLC stamp + node id, tombstones for deletes), the applied-transaction marker that makes replay
 * exactly-once, and the entry in this node's commit log that anti-entropy ships to peers.
 * Plain and synchronous: the caller holds the writer, opens the transaction, and turns capture
 * off (a replayed change must not be captured again).
 */
export const replicationTablesSql = [
  `CREATE TABLE IF NOT EXISTS __marmot_row_version (
     tbl TEXT NOT NULL, pk BLOB NOT NULL, stamp INTEGER NOT NULL, node INTEGER NOT NULL, deleted INTEGER NOT NULL,
     PRIMARY KEY (tbl, pk)) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS __marmot_row_version_tombstones ON __marmot_row_version (stamp) WHERE deleted = 1`,
  `CREATE TABLE IF NOT EXISTS __marmot_applied_txn (
     txn_id TEXT PRIMARY KEY, commit_stamp INTEGER NOT NULL, commit_node INTEGER NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS __marmot_commit_log (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, txn_id TEXT NOT NULL UNIQUE, commit_stamp INTEGER NOT NULL,
     commit_node INTEGER NOT NULL, body TEXT NOT NULL)`,
  // The highest seq GC deleted from the log: a pull from below it has a gap (LogGc.ts).
  `CREATE TABLE IF NOT EXISTS __marmot_log_horizon (id INTEGER PRIMARY KEY CHECK (id = 0), seq INTEGER NOT NULL)`,
  // How many schema changes the database has applied (SchemaVersion.ts).
  `CREATE TABLE IF NOT EXISTS __marmot_schema_version (id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL)`
]

export const ensureReplicationTables = (db: Database.Database): void => {
  for (const sql of replicationTablesSql) db.exec(sql)
}

export interface ApplyResult {
  /** False when the transaction had been applied before (nothing was done). */
  readonly applied: boolean
  /** Row changes written, and those skipped because the row already held a newer version. */
  readonly rowsApplied: number
  readonly rowsSkipped: number
  /** The transaction's position in this node's commit log. */
  readonly seq: bigint
}

/**
 * What last-write-wins left out of a transaction on this node, by change index: `skipped` changes
 * wrote nothing (the row held a newer version); `skippedNewKey` are key-moving UPDATEs whose old
 * key was deleted but whose new key held a newer version. Written into the commit-log body (only
 * when not empty) next to the transaction's fields, which decoders of CommittedTransaction ignore;
 * the CDC publisher leaves those changes out of its events.
 */
export interface LwwSkipped {
  readonly skipped: Array<number>
  readonly skippedNewKey: Array<number>
}

type ChangeOutcome = "applied" | "skipped" | "oldKeyOnly"

interface Version {
  readonly stamp: bigint
  readonly node: number
}

/** The primary key columns of a table, in key order (the rowid alias for INTEGER PRIMARY KEY). */
export const primaryKeyOf = (db: Database.Database, table: string): ReadonlyArray<string> => {
  const cols = db.prepare(`PRAGMA main.table_info(${quoteIdent(table)})`).all() as Array<{ name: string; pk: number | bigint }>
  return cols.filter((c) => Number(c.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk)).map((c) => c.name)
}

export class Applier {
  private readonly pkCache = new Map<string, ReadonlyArray<string>>()
  private readonly statements = new Map<string, Database.Statement>()

  constructor(private readonly db: Database.Database) {}

  /** Table shapes and statements are cached; call after DDL. */
  schemaChanged(): void {
    this.pkCache.clear()
    this.statements.clear()
  }

  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text)
    if (stmt === undefined) {
      stmt = this.db.prepare(text)
      this.statements.set(text, stmt)
    }
    return stmt
  }

  private primaryKey(table: string): ReadonlyArray<string> {
    let pk = this.pkCache.get(table)
    if (pk === undefined) {
      pk = primaryKeyOf(this.db, table)
      if (pk.length === 0) throw new Error(`table ${table} has no primary key: its rows cannot be replicated`)
      this.pkCache.set(table, pk)
    }
    return pk
  }

  private version(table: string, key: Uint8Array): Version | undefined {
    const row = this.sql("SELECT stamp, node FROM __marmot_row_version WHERE tbl = ? AND pk = ?").raw().get(table, key) as
      | [bigint | number, bigint | number]
      | undefined
    return row === undefined ? undefined : { stamp: BigInt(row[0]), node: Number(row[1]) }
  }

  private setVersion(table: string, key: Uint8Array, v: Version, deleted: boolean): void {
    this.sql(
      "INSERT INTO __marmot_row_version (tbl, pk, stamp, node, deleted) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (tbl, pk) DO UPDATE SET stamp = excluded.stamp, node = excluded.node, deleted = excluded.deleted"
    ).run(table, key, v.stamp, v.node, deleted ? 1 : 0)
  }

  /** True when a change stamped `v` may overwrite the row (equal wins: one transaction may touch a row twice). */
  private wins(table: string, key: Uint8Array, v: Version): boolean {
    const stored = this.version(table, key)
    return stored === undefined || compareStamps(v.stamp, v.node, stored.stamp, stored.node) >= 0
  }

  private keyValues(change: RowChange, image: ReadonlyArray<unknown>, pk: ReadonlyArray<string>): Array<PkValue> {
    return pk.map((name) => {
      const i = change.columns.indexOf(name)
      if (i < 0) throw new Error(`change to ${change.table} lacks primary key column ${name}`)
      return image[i] as PkValue
    })
  }

  private deleteRow(table: string, pk: ReadonlyArray<string>, values: ReadonlyArray<PkValue>): void {
    const where = pk.map((c) => `${quoteIdent(c)} IS ?`).join(" AND ")
    this.sql(`DELETE FROM main.${quoteIdent(table)} WHERE ${where}`).run(...values.map(bindable))
  }

  /**
   * An upsert on the primary key: an existing row is updated in place (its rowid, and rows that
   * reference it through foreign keys, stay). A clash on another UNIQUE key falls back to REPLACE,
   * so the newer row wins there too instead of stopping replication.
   */
  private writeRow(change: RowChange, image: ReadonlyArray<unknown>, pk: ReadonlyArray<string>): void {
    const table = quoteIdent(change.table)
    const cols = change.columns.map(quoteIdent).join(", ")
    const marks = change.columns.map(() => "?").join(", ")
    const values = image.map(bindable)
    const updates = change.columns.filter((c) => !pk.includes(c)).map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`)
    const onConflict = updates.length === 0 ? "DO NOTHING" : `DO UPDATE SET ${updates.join(", ")}`
    try {
      this.sql(`INSERT INTO main.${table} (${cols}) VALUES (${marks}) ON CONFLICT (${pk.map(quoteIdent).join(", ")}) ${onConflict}`).run(...values)
    } catch (e) {
      if (!/UNIQUE constraint failed/.test(e instanceof Error ? e.message : "")) throw e
      this.sql(`INSERT OR REPLACE INTO main.${table} (${cols}) VALUES (${marks})`).run(...values)
    }
  }

  private applyChange(change: RowChange, v: Version): ChangeOutcome {
    const pk = this.primaryKey(change.table)
    if (change.op === "D") {
      const before = this.keyValues(change, change.before!, pk)
      const key = dmlKey(change.table, before)
      if (!this.wins(change.table, key, v)) return "skipped"
      this.deleteRow(change.table, pk, before)
      this.setVersion(change.table, key, v, true)
      return "applied"
    }
    const after = this.keyValues(change, change.after!, pk)
    const newKey = dmlKey(change.table, after)
    let oldKeyWon = false
    if (change.op === "U") {
      // An UPDATE that moves the primary key: the old key is a delete, the new one an upsert.
      const before = this.keyValues(change, change.before!, pk)
      const oldKey = dmlKey(change.table, before)
      if (!Buffer.from(oldKey).equals(Buffer.from(newKey)) && this.wins(change.table, oldKey, v)) {
        this.deleteRow(change.table, pk, before)
        this.setVersion(change.table, oldKey, v, true)
        oldKeyWon = true
      }
    }
    if (!this.wins(change.table, newKey, v)) return oldKeyWon ? "oldKeyOnly" : "skipped"
    this.writeRow(change, change.after!, pk)
    this.setVersion(change.table, newKey, v, false)
    return "applied"
  }

  isApplied(txnId: string): boolean {
    return this.sql("SELECT 1 FROM __marmot_applied_txn WHERE txn_id = ?").get(txnId) !== undefined
  }

  /** Applies `txn` unless it was applied before; must run inside a SQLite transaction. */
  apply(txn: CommittedTransaction): ApplyResult {
    const done = this.sql("SELECT 1 FROM __marmot_applied_txn WHERE txn_id = ?").get(txn.txnId)
    if (done !== undefined) {
      const seq = this.sql("SELECT seq FROM __marmot_commit_log WHERE txn_id = ?").pluck().get(txn.txnId) as bigint | undefined
      return { applied: false, rowsApplied: 0, rowsSkipped: 0, seq: BigInt(seq ?? 0n) }
    }
    const v: Version = { stamp: toStamp(txn.commitHlc), node: txn.commitHlc.nodeId }
    let rowsApplied = 0
    let rowsSkipped = 0
    let skipped: LwwSkipped | undefined
    txn.changes.forEach((change, i) => {
      const outcome = this.applyChange(change, v)
      if (outcome === "applied") return void rowsApplied++
      skipped ??= { skipped: [], skippedNewKey: [] }
      if (outcome === "skipped") {
        rowsSkipped++
        skipped.skipped.push(i)
      } else {
        rowsApplied++
        skipped.skippedNewKey.push(i)
      }
    })
    return { applied: true, rowsApplied, rowsSkipped, seq: this.log(txn, v, skipped) }
  }

  /**
   * The bookkeeping of a transaction whose rows the caller already wrote in this SQLite
   * transaction (a standalone node's own commit): row versions, applied marker, commit log entry.
   */
  record(txn: CommittedTransaction): bigint {
    const v: Version = { stamp: toStamp(txn.commitHlc), node: txn.commitHlc.nodeId }
    for (const change of txn.changes) {
      const pk = this.primaryKey(change.table)
      const newKey = change.op === "D" ? undefined : dmlKey(change.table, this.keyValues(change, change.after!, pk))
      if (change.op !== "I") {
        const oldKey = dmlKey(change.table, this.keyValues(change, change.before!, pk))
        if (newKey === undefined || !oldKey.equals(newKey)) this.setVersion(change.table, oldKey, v, true)
      }
      if (newKey !== undefined) this.setVersion(change.table, newKey, v, false)
    }
    return this.log(txn, v)
  }

  private log(txn: CommittedTransaction, v: Version, skipped?: LwwSkipped): bigint {
    this.sql("INSERT INTO __marmot_applied_txn (txn_id, commit_stamp, commit_node) VALUES (?, ?, ?)").run(txn.txnId, v.stamp, v.node)
    const info = this.sql("INSERT INTO __marmot_commit_log (txn_id, commit_stamp, commit_node, body) VALUES (?, ?, ?, ?)").run(
      txn.txnId,
      v.stamp,
      v.node,
      encodeBody(txn, skipped)
    )
    return BigInt(info.lastInsertRowid)
  }
}

/** Wire values decode bytes as Uint8Array; SQLite binds Buffers. */
const bindable = (v: unknown): unknown => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : v)
