import Database from "better-sqlite3"
import { type CaptureSink, registerCapture } from "./Capture.ts"
import { registerFunctions } from "./Functions.ts"

export interface Prepared {
  readonly stmt: Database.Statement
  /** True when the statement returns rows. */
  readonly reader: boolean
}

const statementCacheSize = 2000

/**
 * One better-sqlite3 connection with a bounded prepared-statement cache keyed by SQL text.
 * Plain and synchronous: this is the hot path.
 */
export class SqliteConnection {
  readonly db: Database.Database
  private readonly statements = new Map<string, Prepared>()
  private readonly attached = new Set<string>()
  /** Where the capture triggers of a write on this connection put their row images. */
  capture: CaptureSink | undefined = undefined
  /** Where the images of the open transaction go when the node replicates (cluster mode). */
  replicationCapture: CaptureSink | undefined = undefined

  constructor(readonly path: string, options: { readonly readonly: boolean; readonly extensions?: ReadonlyArray<string> }) {
    this.db = new Database(path, { readonly: false, fileMustExist: false })
    this.db.pragma("journal_mode = WAL")
    this.db.pragma("synchronous = NORMAL")
    this.db.pragma("busy_timeout = 0")
    this.db.pragma("temp_store = MEMORY")
    if (options.readonly) this.db.pragma("query_only = ON")
    // REPLACE's implicit deletes fire DELETE triggers (and are captured) only with this on.
    else this.db.pragma("recursive_triggers = ON")
    this.db.defaultSafeIntegers(true)
    registerFunctions(this.db)
    // The reader never writes, but statements it only plans (EXPLAIN UPDATE) compile the triggers.
    registerCapture(this.db, () => this.capture, () => this.replicationCapture)
    // SQLite loadable extensions (resolved inside [extensions] directory by Storage)
    for (const path of options.extensions ?? []) this.db.loadExtension(path)
  }

  prepare(sql: string): Prepared {
    const hit = this.statements.get(sql)
    if (hit !== undefined) return hit
    const stmt = this.db.prepare(sql)
    const reader = stmt.reader
    if (reader) stmt.raw(true)
    const prepared: Prepared = { stmt, reader }
    if (this.statements.size >= statementCacheSize) {
      const oldest = this.statements.keys().next()
      if (oldest.done !== true) this.statements.delete(oldest.value)
    }
    this.statements.set(sql, prepared)
    return prepared
  }

  get inTransaction(): boolean {
    return this.db.inTransaction
  }

  exec(sql: string): void {
    this.db.exec(sql)
  }

  /** Makes another database's tables reachable as "name"."table" from this connection. */
  attach(name: string, path: string): void {
    if (this.attached.has(name)) return
    this.db.prepare("ATTACH DATABASE ? AS " + quoteIdent(name)).run(path)
    this.attached.add(name)
  }

  detach(name: string): void {
    if (!this.attached.has(name)) return
    this.statements.clear()
    this.db.prepare("DETACH DATABASE " + quoteIdent(name)).run()
    this.attached.delete(name)
  }

  isAttached(name: string): boolean {
    return this.attached.has(name)
  }

  /** Drops cached statements (after DDL, so column metadata is read again). */
  clearStatements(): void {
    this.statements.clear()
  }

  close(): void {
    this.statements.clear()
    if (this.db.open) this.db.close()
  }
}

export const quoteIdent = (name: string): string => '"' + name.replace(/"/g, '""') + '"'
