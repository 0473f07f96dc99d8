/**
 * Installing a snapshot over a live file (SnapshotInstall.ts) on real SQLite files: the result is
 * the LWW union of both sides, whatever the live node's log still holds, and the live node's log
 * stays as it was.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { RowChange } from "../../proto-schemas/src/RowChange.ts"
import { CommittedTransaction, txnIdOf } from "../../proto-schemas/src/Transaction.ts"
import { Applier, ensureReplicationTables } from "../../src/replication/Applier.ts"
import { dmlKey } from "../../src/replication/IntentKey.ts"
import { installSnapshot } from "../../src/replication/SnapshotInstall.ts"
import { DatabaseHandle } from "../../src/storage/Storage.ts"

const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** One change of row `id` of table t, committed by `node` at `wallMs`. */
const txn = (wallMs: number, node: number, op: "I" | "D", id: bigint, v: string) => {
  const image = op === "D" ? { before: [id, v] } : { after: [id, v] }
  const change = new RowChange({ database: "d", table: "t", op, key: dmlKey("t", [id]), columns: ["id", "v"], ...image })
  const commitHlc = Hlc.make(wallMs, 0, nodeId(node))
  const fields = { commitHlc, coordinator: nodeId(node), database: "d", changes: [change], schemaVersion: 0 }
  return new CommittedTransaction({ txnId: txnIdOf(commitHlc), ...fields })
}

const file = (dir: string, name: string, txns: ReadonlyArray<CommittedTransaction>) => {
  const handle = new DatabaseHandle(name, join(dir, `${name}.db`))
  const db = handle.writer.db
  db.exec(`CREATE TABLE IF NOT EXISTS t ("id" INTEGER PRIMARY KEY, "v" TEXT)`)
  ensureReplicationTables(db)
  const applier = new Applier(db)
  for (const t of txns) db.transaction(() => applier.apply(t))()
  return handle
}

const rows = (h: DatabaseHandle) => h.reader.db.prepare("SELECT id, v FROM t ORDER BY id").raw().all()
const one = (h: DatabaseHandle, sql: string) => h.reader.db.prepare(sql).pluck().get()

describe("installing a snapshot", () => {
  it("keeps what only the live file has, from its log or from rows whose log GC collected, and takes the rest from the snapshot", async () => {
    const dir = mkdtempSync(join(tmpdir(), "marmot-install-"))
    dirs.push(dir)
    const shared = [txn(1000, 1, "I", 1n, "one"), txn(1100, 1, "I", 2n, "two"), txn(1200, 1, "I", 3n, "three")]
    // the live node went on after the source stopped: a newer row 2, row 3 deleted, row 4 new;
    // then GC collected all of it from its log (and rows 5 stays in its log)
    const live = file(dir, "live", [...shared, txn(2000, 2, "I", 2n, "two, newer"), txn(2100, 2, "D", 3n, "three"), txn(2200, 2, "I", 4n, "four")])
    live.writer.db.exec("DELETE FROM __marmot_commit_log")
    live.writer.db.exec("INSERT INTO __marmot_log_horizon (id, seq) VALUES (0, 6)")
    const fromLog = txn(2300, 2, "I", 5n, "five")
    live.writer.db.transaction(() => new Applier(live.writer.db).apply(fromLog))()
    // the (stale) source has its own newer row 1 and an older write of row 4
    const source = file(dir, "source", [...shared, txn(1500, 3, "I", 4n, "four, older"), txn(3000, 3, "I", 1n, "one, newer")])
    source.close()

    const carried = await installSnapshot(live, join(dir, "source.db"), [])
    expect(carried).toBeGreaterThanOrEqual(4)
    expect(rows(live)).toEqual([[1n, "one, newer"], [2n, "two, newer"], [4n, "four"], [5n, "five"]])
    expect(one(live, "SELECT deleted FROM __marmot_row_version WHERE stamp = " + String(Hlc.toStamp(Hlc.make(2100, 0, nodeId(2)))))).toBe(1n)
    // the log is this node's, unchanged: same seqs, same horizon, the next seq continues it
    expect(one(live, "SELECT seq FROM __marmot_log_horizon")).toBe(6n)
    expect(live.reader.db.prepare("SELECT seq, txn_id FROM __marmot_commit_log").raw().all()).toEqual([[7n, fromLog.txnId]])
    expect(one(live, "SELECT seq FROM sqlite_sequence WHERE name = '__marmot_commit_log'")).toBe(7n)
    live.close()
  })
})
