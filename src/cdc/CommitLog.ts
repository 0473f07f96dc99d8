/**
 * Reading a database's local commit log (`__marmot_commit_log`, written by the Applier in the same
 * SQLite transaction as the rows) from its file, plus the table shapes the envelopes need.
 * Plain and synchronous (better-sqlite3); the Publisher wraps the calls.
 */
import Database from "better-sqlite3"
import { Data, Either, Schema } from "effect"
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { CommittedTransaction } from "../../proto-schemas/src/Transaction.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import { validDatabaseName } from "../storage/Storage.ts"
import { type ColumnShape, ddlEntriesOf, fieldTypeOf, type LogEntry, type TableShape } from "./Debezium.ts"

export class CommitLogError extends Data.TaggedError("CommitLogError")<{ readonly database: string; readonly reason: string }> {
  override get message() {
    return `commit log of ${this.database}: ${this.reason}`
  }
}

/** The databases of a node: `<data_dir>/databases/<name>.db` (src/storage/Storage.ts). */
export const databasesDir = (dataDir: string): string => join(dataDir, "databases")

export const listDatabases = (dataDir: string): Array<string> => {
  const dir = databasesDir(dataDir)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith(".db"))
    .map((f) => f.slice(0, -3))
    .filter(validDatabaseName)
    .sort()
}

const decodeTxn = Schema.decodeUnknownEither(CommittedTransaction)

/** A list of change indices in the body (see LwwSkipped in Applier.ts); empty when absent. */
const indices = (json: unknown, field: string): ReadonlySet<number> => {
  const v = (json as Record<string, unknown>)[field]
  return Array.isArray(v) && v.length > 0 ? new Set(v.filter((i): i is number => typeof i === "number")) : noIndices
}
const noIndices: ReadonlySet<number> = new Set()

export const decodeBody = (body: string): Either.Either<Omit<LogEntry, "seq">, string> => {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (e) {
    return Either.left(`body is not JSON: ${String(e)}`)
  }
  const txn = decodeTxn(json)
  if (Either.isLeft(txn)) return Either.left(`body is not a CommittedTransaction: ${txn.left.message}`)
  return Either.right({
    txn: txn.right,
    ddl: ddlEntriesOf(txn.right),
    skipped: indices(json, "skipped"),
    skippedNewKey: indices(json, "skippedNewKey")
  })
}

interface PragmaColumn {
  readonly name: string
  readonly type: string
  readonly notnull: bigint
  readonly pk: bigint
}

/** A table's columns (declared types) and primary key on `db`, undefined when there is no such table. */
export const tableShapeOf = (db: Database.Database, table: string): TableShape | undefined => {
  const cols = db.prepare(`PRAGMA main.table_info(${quoteIdent(table)})`).all() as Array<PragmaColumn>
  return cols.length === 0 ? undefined : {
    columns: new Map<string, ColumnShape>(cols.map((c) => [c.name, { type: fieldTypeOf(c.type), optional: c.notnull === 0n && c.pk === 0n }])),
    primaryKey: cols.filter((c) => c.pk > 0n).sort((a, b) => Number(a.pk - b.pk)).map((c) => c.name)
  }
}

/** One database file's commit log, read through its own query-only connection. */
export class CommitLogReader {
  private readonly db: Database.Database
  private readonly ino: number
  private hasLog = false
  private schemaVersion = -1n
  private readonly shapes = new Map<string, TableShape | undefined>()

  constructor(readonly database: string, readonly path: string) {
    this.ino = statSync(path).ino
    this.db = new Database(path, { fileMustExist: true })
    this.db.defaultSafeIntegers(true)
    this.db.pragma("busy_timeout = 1000")
    this.db.pragma("query_only = ON")
  }

  /** False once the file was removed or replaced (DROP DATABASE, then maybe CREATE again). */
  isCurrent(): boolean {
    try {
      return statSync(this.path).ino === this.ino
    } catch {
      return false
    }
  }

  private logExists(): boolean {
    if (!this.hasLog) {
      this.hasLog = this.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '__marmot_commit_log'").get() !== undefined
    }
    return this.hasLog
  }

  /** Up to `limit` entries after `afterSeq`, in seq order. Throws CommitLogError on an undecodable body. */
  read(afterSeq: bigint, limit: number): Array<LogEntry> {
    return this.scan(afterSeq, limit).entries
  }

  /**
   * Up to `limit` entries after `afterSeq`, of which those committed by `origin` (all when
   * undefined) are decoded and returned; `last` is the last entry scanned, whoever committed it.
   */
  scan(afterSeq: bigint, limit: number, origin?: number): {
    entries: Array<LogEntry>
    last: { seq: bigint; txnId: string } | undefined
    scanned: number
  } {
    if (!this.logExists()) return { entries: [], last: undefined, scanned: 0 }
    const rows = this.db.prepare("SELECT seq, txn_id, commit_node, body FROM __marmot_commit_log WHERE seq > ? ORDER BY seq LIMIT ?").raw()
      .all(afterSeq, limit) as Array<[bigint, string, bigint, string]>
    const mine = origin === undefined ? rows : rows.filter((r) => r[2] === BigInt(origin))
    const last = rows[rows.length - 1]
    return {
      entries: mine.map(([seq, , , body]) => this.decode(seq, body)),
      last: last === undefined ? undefined : { seq: last[0], txnId: last[1] },
      scanned: rows.length
    }
  }

  /**
   * Up to `limit` entries after `afterSeq` committed by `origin` with a commit stamp above
   * `aboveStamp`, and how far the log was looked through (the last entry returned, or the head
   * read before the search when fewer than `limit` matched): the next search starts there.
   */
  readOrigin(origin: number, afterSeq: bigint, aboveStamp: bigint, limit: number): { entries: Array<LogEntry>; scannedTo: bigint } {
    if (!this.logExists()) return { entries: [], scannedTo: afterSeq }
    const head = this.maxSeq()
    const rows = this.db.prepare(
      "SELECT seq, body FROM __marmot_commit_log WHERE seq > ? AND seq <= ? AND commit_node = ? AND commit_stamp > ? ORDER BY seq LIMIT ?"
    ).raw().all(afterSeq, head, origin, aboveStamp, limit) as Array<[bigint, string]>
    const entries = rows.map(([seq, body]) => this.decode(seq, body))
    const scannedTo = rows.length === limit ? rows[rows.length - 1]![0] : head > afterSeq ? head : afterSeq
    return { entries, scannedTo }
  }

  /** The lowest commit stamp of `origin`'s entries after `afterSeq`, undefined when there are none. */
  lowestStampAfter(afterSeq: bigint, origin: number): bigint | undefined {
    if (!this.logExists()) return undefined
    const v = this.db.prepare("SELECT min(commit_stamp) FROM __marmot_commit_log WHERE seq > ? AND commit_node = ?").pluck().get(afterSeq, origin) as
      | bigint
      | null
    return v === null ? undefined : BigInt(v)
  }

  private decode(seq: bigint, body: string): LogEntry {
    const decoded = decodeBody(body)
    if (Either.isLeft(decoded)) throw new CommitLogError({ database: this.database, reason: `seq ${seq}: ${decoded.left}` })
    return { seq, ...decoded.right }
  }

  /** The transaction at `seq`, undefined when there is none. */
  txnAt(seq: bigint): string | undefined {
    if (!this.logExists()) return undefined
    return this.db.prepare("SELECT txn_id FROM __marmot_commit_log WHERE seq = ?").pluck().get(seq) as string | undefined
  }

  maxSeq(): bigint {
    if (!this.logExists()) return 0n
    return BigInt((this.db.prepare("SELECT max(seq) FROM __marmot_commit_log").pluck().get() as bigint | null) ?? 0n)
  }

  /** Forgets cached shapes when the file's schema changed since the last call. */
  refreshShapes(): void {
    const v = BigInt(this.db.pragma("schema_version", { simple: true }) as bigint)
    if (v !== this.schemaVersion) {
      this.schemaVersion = v
      this.shapes.clear()
    }
  }

  /** The table's current columns and primary key, undefined when it does not exist (any more). */
  shape(table: string): TableShape | undefined {
    if (this.shapes.has(table)) return this.shapes.get(table)
    const shape = tableShapeOf(this.db, table)
    this.shapes.set(table, shape)
    return shape
  }

  /** The highest seq log GC deleted (src/replication/LogGc.ts), 0 when none. */
  horizon(): bigint {
    try {
      return BigInt((this.db.prepare("SELECT seq FROM __marmot_log_horizon WHERE id = 0").pluck().get() as bigint | undefined) ?? 0n)
    } catch {
      return 0n // no horizon table: nothing was ever collected
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
