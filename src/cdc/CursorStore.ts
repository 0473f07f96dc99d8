/**
 * Per-sink, per-database publish cursors: the last commit-log entry (seq and its txn id) a sink
 * has had acknowledged. Node-wide state in its own small SQLite file, `<data_dir>/cdc/cursors.db`.
 * WAL with synchronous=NORMAL: a save survives a crash of the process; a power cut may take back
 * the last saves, which only makes the sink publish those batches again (at-least-once holds,
 * JetStream drops the repeats by id). FULL would fsync on the event loop after every batch, and
 * that was most of the commit-to-ack latency at 700 commits/s (bench/cdc.ts).
 */
import Database from "better-sqlite3"
import { Context, Data, Effect, Layer } from "effect"
import { mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { NodeConfig } from "../config/NodeConfig.ts"

export class CursorStoreError extends Data.TaggedError("CursorStoreError")<{ readonly reason: string }> {
  override get message() {
    return `cdc cursor store: ${this.reason}`
  }
}

export interface Cursor {
  readonly seq: bigint
  /** The txn at `seq`: tells a database that was dropped and created again (its log restarts) from one that moved on. */
  readonly txnId: string
}

export interface CursorRow extends Cursor {
  readonly sink: string
  readonly database: string
}

export const cursorsPath = (dataDir: string): string => join(dataDir, "cdc", "cursors.db")

export class CursorStore extends Context.Tag("marmot/cdc/CursorStore")<CursorStore, {
  readonly get: (sink: string, database: string) => Effect.Effect<Cursor | undefined, CursorStoreError>
  readonly save: (sink: string, database: string, cursor: Cursor) => Effect.Effect<void, CursorStoreError>
  readonly all: Effect.Effect<ReadonlyArray<CursorRow>, CursorStoreError>
}>() {
  static readonly makeAt = (path: string) =>
    Effect.gen(function*() {
      const attempt = <A>(what: string, f: () => A) =>
        Effect.try({ try: f, catch: (e) => new CursorStoreError({ reason: `${what} (${path}): ${e instanceof Error ? e.message : String(e)}` }) })
      const db = yield* Effect.acquireRelease(
        attempt("open", () => {
          mkdirSync(dirname(path), { recursive: true })
          const db = new Database(path)
          db.defaultSafeIntegers(true)
          db.pragma("journal_mode = WAL")
          db.pragma("synchronous = NORMAL")
          db.pragma("busy_timeout = 5000")
          db.exec(`CREATE TABLE IF NOT EXISTS cdc_cursor (
            sink TEXT NOT NULL, db TEXT NOT NULL, seq INTEGER NOT NULL, txn_id TEXT NOT NULL,
            PRIMARY KEY (sink, db)) WITHOUT ROWID`)
          return db
        }),
        (db) => Effect.sync(() => db.close())
      )
      const getStmt = db.prepare("SELECT seq, txn_id FROM cdc_cursor WHERE sink = ? AND db = ?").raw()
      const saveStmt = db.prepare(
        "INSERT INTO cdc_cursor (sink, db, seq, txn_id) VALUES (?, ?, ?, ?) ON CONFLICT (sink, db) DO UPDATE SET seq = excluded.seq, txn_id = excluded.txn_id"
      )
      const allStmt = db.prepare("SELECT sink, db, seq, txn_id FROM cdc_cursor ORDER BY sink, db").raw()
      return CursorStore.of({
        get: (sink, database) =>
          attempt("read", () => {
            const row = getStmt.get(sink, database) as [bigint, string] | undefined
            return row === undefined ? undefined : { seq: row[0], txnId: row[1] }
          }),
        save: (sink, database, cursor) => attempt("save", () => void saveStmt.run(sink, database, cursor.seq, cursor.txnId)),
        all: attempt("read", () =>
          (allStmt.all() as Array<[string, string, bigint, string]>).map(([sink, database, seq, txnId]) => ({ sink, database, seq, txnId })))
      })
    })

  static readonly make = Effect.flatMap(NodeConfig, (config) => CursorStore.makeAt(cursorsPath(config.dataDir)))
  static readonly layer = Layer.scoped(CursorStore, CursorStore.make)
}
