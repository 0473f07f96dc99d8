/**
 * Installing a downloaded snapshot over a live database file. Done while the database's apply
 * queue is paused (`ApplyQueue.exclusive`), in two steps:
 * 1. The snapshot file is made this node's next state: this node's own commit-log entries it
 *    lacks (writes this node applied that the source had not) are applied into it with the same
 *    LWW applier, its log is renumbered above every seq this node ever gave out (peers' cursors on
 *    this node stay valid: they re-read the renumbered entries, which applied markers make
 *    harmless), and this node's GC horizon is kept.
 * 2. SQLite's backup API copies it over the live file in ONE write transaction: every connection
 *    of every process of the node sees the old database or the new one, never a mix, and SQLite's
 *    schema cookie makes their prepared statements reload. Nothing to reopen.
 */
import type Database from "better-sqlite3"
import { Data, Schema } from "effect"
import { CommittedTransaction } from "../../proto-schemas/src/Transaction.ts"
import { ensureCaptureTriggers } from "../storage/Capture.ts"
import { SqliteConnection } from "../storage/SqliteConnection.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import { Applier, ensureReplicationTables } from "./Applier.ts"
import { applyDdl } from "./ApplyQueue.ts"
import { logHorizon } from "./LogGc.ts"
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

/** Step 1: this node's history that the snapshot lacks goes into the snapshot file. Returns how many transactions. */
const carryOver = (snapshot: Database.Database, live: DatabaseHandle): number => {
  ensureReplicationTables(snapshot)
  ensureCaptureTriggers(snapshot)
  const liveDb = live.writer.db
  const liveHead = logSequence(liveDb)
  const liveHorizon = logHorizon(live)
  let bodies: Array<string> = []
  try {
    bodies = liveDb.prepare("SELECT body FROM __marmot_commit_log ORDER BY seq").pluck().all() as Array<string>
  } catch {
    // a brand-new file: no history of its own
  }
  let carried = 0
  snapshot.transaction(() => {
    const snapshotHead = logSequence(snapshot)
    const offset = liveHead > snapshotHead ? liveHead : snapshotHead
    if (offset > 0n) {
      // every new seq is above every old one, so the primary key never collides mid-update
      snapshot.prepare("UPDATE __marmot_commit_log SET seq = seq + ?").run(offset)
      setLogSequence(snapshot, snapshotHead + offset)
    }
    snapshot.prepare("DELETE FROM __marmot_log_horizon").run()
    if (liveHorizon > 0n) snapshot.prepare("INSERT INTO __marmot_log_horizon (id, seq) VALUES (0, ?)").run(liveHorizon)
    const applier = new Applier(snapshot)
    for (const body of bodies) {
      const txn = decodeBody(JSON.parse(body))
      if (applier.isApplied(txn.txnId)) continue
      applyDdl(snapshot, applier, txn)
      applier.apply(txn)
      carried++
    }
  }).immediate()
  return carried
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
