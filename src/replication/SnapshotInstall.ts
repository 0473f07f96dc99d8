/**
 * Installing a downloaded snapshot over a live database file. Done while the database's apply
 * queue is paused (`ApplyQueue.exclusive`), in two steps:
 * 1. The snapshot file is made this node's next state: what this node has that the source had
 *    not (its log's transactions, rows whose version is newer here) goes in with the same LWW
 *    rules, so installing never loses a write, even from a source that was behind; and this
 *    node's commit log replaces the source's, unchanged, so peers' cursors on it stay valid and
 *    its GC horizon does not move (the source's history is in the source's log, and in ours
 *    for whatever arrives later).
 * 2. SQLite's backup API copies it over the live file in ONE write transaction: every connection
 *    of every process of the node sees the old database or the new one, never a mix, and SQLite's
 *    schema cookie makes their prepared statements reload. Nothing to reopen.
 */
import type Database from "better-sqlite3"
import { Data, Schema } from "effect"
import { linkSync } from "node:fs"
import { CommittedTransaction } from "../../proto-schemas/src/Transaction.ts"
import { ensureCaptureTriggers } from "../storage/Capture.ts"
import { SqliteConnection } from "../storage/SqliteConnection.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import { Applier, ensureReplicationTables } from "./Applier.ts"
import { applyDdl } from "./ApplyQueue.ts"
import { logHorizon } from "./LogGc.ts"
import { mergeNewerLiveRows } from "./SnapshotMerge.ts"
import { logSequence } from "./SnapshotSource.ts"

export class SnapshotFailed extends Data.TaggedError("SnapshotFailed")<{ readonly database: string; readonly reason: string }> {
  override get message() {
    return `snapshot of ${this.database} failed: ${this.reason}`
  }
}

/** Pages copied per backup step (4 MB): the core's event loop runs between steps. */
const pagesPerStep = 1024

const decodeBody = Schema.decodeUnknownSync(CommittedTransaction)

const setLogSequence = (db: Database.Database, seq: bigint): void => {
  const updated = db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = '__marmot_commit_log'").run(seq).changes
  if (updated === 0) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('__marmot_commit_log', ?)").run(seq)
}

/** Empties the snapshot's commit log (the source's) and gives it this node's head and horizon. */
const replaceLog = (snapshot: Database.Database, head: bigint, horizon: bigint): void => {
  snapshot.exec("DELETE FROM main.__marmot_commit_log")
  setLogSequence(snapshot, head)
  snapshot.exec("DELETE FROM main.__marmot_log_horizon")
  if (horizon > 0n) snapshot.prepare("INSERT INTO main.__marmot_log_horizon (id, seq) VALUES (0, ?)").run(horizon)
}

/**
 * Step 1: this node's state goes into the snapshot file: transactions of its log the source had
 * not applied (their DDL too), rows newer here (SnapshotMerge.ts), its applied markers, and its
 * log itself, verbatim with its seqs and GC horizon, in place of the source's log. Peers' cursors
 * on this node's log stay exactly as valid as before. Returns how many transactions and rows
 * came from this node's side.
 */
const carryOver = (snapshot: Database.Database, live: DatabaseHandle): number => {
  ensureReplicationTables(snapshot)
  ensureCaptureTriggers(snapshot)
  ensureReplicationTables(live.writer.db)
  const liveHead = logSequence(live.writer.db)
  const liveHorizon = logHorizon(live)
  const bodies = live.writer.db.prepare("SELECT body FROM __marmot_commit_log ORDER BY seq").pluck().all() as Array<string>
  snapshot.prepare("ATTACH DATABASE ? AS live").run(live.path)
  try {
    return snapshot.transaction(() => {
      let carried = 0
      const applier = new Applier(snapshot)
      for (const body of bodies) {
        const txn = decodeBody(JSON.parse(body))
        if (applier.isApplied(txn.txnId)) continue
        applyDdl(snapshot, applier, txn)
        applier.apply(txn)
        carried++
      }
      carried += mergeNewerLiveRows(snapshot)
      snapshot.exec("INSERT OR IGNORE INTO main.__marmot_applied_txn SELECT * FROM live.__marmot_applied_txn")
      replaceLog(snapshot, liveHead, liveHorizon)
      snapshot.exec(
        "INSERT INTO main.__marmot_commit_log (seq, txn_id, commit_stamp, commit_node, body) " +
          "SELECT seq, txn_id, commit_stamp, commit_node, body FROM live.__marmot_commit_log"
      )
      return carried
    }).immediate()
  } finally {
    snapshot.prepare("DETACH DATABASE live").run()
  }
}

/**
 * Installs the verified snapshot at `snapshotPath` over `live` (the caller holds the apply queue).
 * Returns how many of this node's own transactions were carried over.
 */
export const installSnapshot = async (
  live: DatabaseHandle,
  snapshotPath: string,
  extensions: ReadonlyArray<string>
): Promise<number> => {
  const snapshot = new SqliteConnection(snapshotPath, { readonly: false, extensions })
  try {
    const carried = carryOver(snapshot.db, live)
    snapshot.db.pragma("wal_checkpoint(TRUNCATE)")
    await snapshot.db.backup(live.path, { progress: () => pagesPerStep })
    return carried
  } finally {
    snapshot.close()
  }
}

/**
 * A database this node has no file for: nothing to carry over (no rows, an empty log), so the
 * snapshot, its log emptied, becomes the database by a hard link to `livePath`, which is atomic
 * and creates the file complete (a process opening the database sees the whole copy or no file).
 * False when a file appeared meanwhile (a CREATE DATABASE): the caller installs over it instead.
 */
export const installAsNew = (livePath: string, snapshotPath: string, extensions: ReadonlyArray<string>): boolean => {
  const snapshot = new SqliteConnection(snapshotPath, { readonly: false, extensions })
  try {
    ensureReplicationTables(snapshot.db)
    ensureCaptureTriggers(snapshot.db)
    snapshot.db.transaction(() => replaceLog(snapshot.db, 0n, 0n)).immediate()
    snapshot.db.pragma("wal_checkpoint(TRUNCATE)")
  } finally {
    snapshot.close()
  }
  try {
    linkSync(snapshotPath, livePath)
    return true
  } catch (e) {
    if ((e as { code?: unknown }).code === "EEXIST") return false
    throw e
  }
}
