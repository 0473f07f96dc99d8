import type Database from "better-sqlite3"
import type { CommittedTransaction } from "../../proto-schemas/src/Transaction.ts"
import { ensureCaptureTriggers } from "../storage/Capture.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import { Applier, type ApplyResult, ensureReplicationTables } from "./Applier.ts"
import { bumpSchemaVersion } from "./SchemaVersion.ts"
import { idempotent, isAlreadyApplied } from "./Ddl.ts"

interface Pending {
  readonly txn: CommittedTransaction
  readonly resolve: (result: ApplyResult) => void
  readonly reject: (error: unknown) => void
}

/**
 * Runs the DDL of `txn` unless it was applied before (inside the caller's SQLite transaction);
 * true when the schema changed. The applier's caches are reset then.
 */
export const applyDdl = (db: Database.Database, applier: Applier, txn: CommittedTransaction): boolean => {
  const ddl = txn.ddl ?? []
  if (ddl.length === 0 || applier.isApplied(txn.txnId)) return false
  for (const sql of ddl) {
    try {
      db.exec(idempotent(sql))
    } catch (e) {
      if (!isAlreadyApplied(sql, e)) throw e
    }
  }
  ensureCaptureTriggers(db)
  bumpSchemaVersion(db)
  applier.schemaChanged()
  return true
}

const isBusy = (e: unknown): boolean => String((e as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY")

/**
 * Applies committed transactions to one database file in group commits: every transaction that
 * arrives while the previous batch runs (or while another process holds the file's write lock)
 * joins the next batch, which is ONE SQLite transaction with a savepoint per replicated
 * transaction, so one that SQLite refuses fails alone. Capture is off on this connection (nothing
 * sets its sink), so applied changes are not captured again.
 */
export class ApplyQueue {
  private pending: Array<Pending> = []
  private scheduled = false
  private retryDelayMs = 1
  private prepared = false
  /** Set while an `exclusive` job runs: batches wait for it. */
  private paused: Promise<unknown> | undefined = undefined
  readonly applier: Applier

  constructor(
    private readonly handle: DatabaseHandle,
    /** Called after a batch that changed the schema committed. */
    private readonly onSchemaChanged: () => void,
    /** Called after every batch that committed (the commit log grew, unless every apply failed). */
    private readonly onCommitted: () => void = () => {}
  ) {
    this.applier = new Applier(handle.writer.db)
  }

  push(txn: CommittedTransaction): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ txn, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        queueMicrotask(this.drain)
      }
    })
  }

  /**
   * Runs `job` while no batch applies to this file (a batch never spans an await, so none is half
   * done when it starts); what arrives meanwhile waits and applies after it.
   */
  async exclusive<A>(job: () => Promise<A>): Promise<A> {
    while (this.paused !== undefined) await this.paused.catch(() => {})
    const running = job()
    this.paused = running
    try {
      return await running
    } finally {
      this.paused = undefined
      this.applier.schemaChanged()
      if (this.pending.length > 0 && !this.scheduled) {
        this.scheduled = true
        queueMicrotask(this.drain)
      }
    }
  }

  private readonly drain = (): void => {
    if (this.paused !== undefined) {
      // resumed by `exclusive` when its job ends
      this.scheduled = false
      return
    }
    const db = this.handle.writer.db
    if (!db.open) return this.failAll(new Error(`database ${this.handle.name} is closed`))
    try {
      db.exec("BEGIN IMMEDIATE")
    } catch (e) {
      if (!isBusy(e)) return this.failAll(e)
      // Another process of this node writes the file: try again shortly, with everything queued meanwhile.
      setTimeout(this.drain, this.retryDelayMs)
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 8)
      return
    }
    this.retryDelayMs = 1
    const batch = this.pending
    this.pending = []
    const outcomes: Array<{ ok: true; value: ApplyResult } | { ok: false; error: unknown }> = []
    let schemaChanged = false
    try {
      if (!this.prepared) {
        ensureReplicationTables(db)
        this.prepared = true
      }
      for (const { txn } of batch) {
        db.exec("SAVEPOINT marmot_apply")
        try {
          if (applyDdl(db, this.applier, txn)) schemaChanged = true
          outcomes.push({ ok: true, value: this.applier.apply(txn) })
          db.exec("RELEASE marmot_apply")
        } catch (error) {
          db.exec("ROLLBACK TO marmot_apply")
          db.exec("RELEASE marmot_apply")
          outcomes.push({ ok: false, error })
        }
      }
      db.exec("COMMIT")
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK")
      for (const p of batch) p.reject(error)
      this.next()
      return
    }
    if (schemaChanged) {
      this.handle.writer.clearStatements()
      this.onSchemaChanged()
    }
    this.onCommitted()
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) p.resolve(outcome.value)
      else p.reject(outcome.error)
    })
    this.next()
  }

  private next(): void {
    if (this.pending.length > 0) queueMicrotask(this.drain)
    else this.scheduled = false
  }

  private failAll(error: unknown): void {
    const batch = this.pending
    this.pending = []
    this.scheduled = false
    for (const p of batch) p.reject(error)
  }
}
