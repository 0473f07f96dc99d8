import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { RowChange } from "../../proto-schemas/src/RowChange.ts"
import { CommittedTransaction, txnIdOf } from "../../proto-schemas/src/Transaction.ts"
import { Applier, ensureReplicationTables } from "../../src/replication/Applier.ts"
import { dmlKey } from "../../src/replication/IntentKey.ts"

const columns = ["id", "v"]

const open = () => {
  const db = new Database(":memory:")
  db.defaultSafeIntegers(true)
  db.exec(`CREATE TABLE t ("id" INTEGER PRIMARY KEY, "v" TEXT)`)
  ensureReplicationTables(db)
  return { db, applier: new Applier(db) }
}

const change = (op: "I" | "U" | "D", before: [bigint, string] | undefined, after: [bigint, string] | undefined) =>
  new RowChange({
    database: "d",
    table: "t",
    op,
    key: dmlKey("t", [(before ?? after)![0]]),
    columns,
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after })
  })

const txn = (wallMs: number, node: number, ...changes: Array<RowChange>) => {
  const hlc = Hlc.make(wallMs, 0, nodeId(node))
  return new CommittedTransaction({
    txnId: txnIdOf(hlc),
    commitHlc: hlc,
    coordinator: nodeId(node),
    database: "d",
    changes,
    schemaVersion: 0
  })
}

const applyAll = (applier: Applier, db: Database.Database, txns: ReadonlyArray<CommittedTransaction>) =>
  txns.map((t) => db.transaction(() => applier.apply(t))())

const rows = (db: Database.Database) => db.prepare("SELECT id, v FROM t ORDER BY id").raw().all()

describe("Applier (LWW by HLC stamp)", () => {
  it("ends with the newest image whatever the order the transactions arrive in", () => {
    const t1 = txn(1000, 1, change("I", undefined, [1n, "v1"]))
    const t2 = txn(2000, 2, change("U", [1n, "v1"], [1n, "v2"]))
    const t3 = txn(3000, 3, change("U", [1n, "v2"], [1n, "v3"]))
    const orders = [[t1, t2, t3], [t3, t2, t1], [t2, t3, t1], [t1, t3, t2]]
    for (const order of orders) {
      const { applier, db } = open()
      applyAll(applier, db, order)
      expect(rows(db)).toEqual([[1n, "v3"]])
    }
  })

  it("keeps a deleted row deleted when an older insert arrives later (tombstone)", () => {
    const { applier, db } = open()
    const del = txn(3000, 1, change("D", [1n, "x"], undefined))
    const ins = txn(2000, 2, change("I", undefined, [1n, "x"]))
    const [first, second] = applyAll(applier, db, [del, ins])
    expect(rows(db)).toEqual([])
    expect(first).toMatchObject({ applied: true, rowsApplied: 1 })
    expect(second).toMatchObject({ applied: true, rowsApplied: 0, rowsSkipped: 1 })
    const tomb = db.prepare("SELECT deleted, node FROM __marmot_row_version WHERE tbl = 't'").raw().get()
    expect(tomb).toEqual([1n, 1n])
  })

  it("breaks a tie of equal wall and logical time by the higher node id", () => {
    for (const order of [[1, 2], [2, 1]]) {
      const { applier, db } = open()
      applyAll(applier, db, order.map((n) => txn(5000, n, change("I", undefined, [7n, `from ${n}`]))))
      expect(rows(db)).toEqual([[7n, "from 2"]])
    }
  })

  it("applies a transaction exactly once", () => {
    const { applier, db } = open()
    const t1 = txn(1000, 1, change("I", undefined, [1n, "a"]))
    const t2 = txn(2000, 1, change("U", [1n, "a"], [1n, "b"]))
    const [r1, , r3] = applyAll(applier, db, [t1, t2, t1])
    expect(r3).toEqual({ applied: false, rowsApplied: 0, rowsSkipped: 0, seq: r1!.seq })
    expect(rows(db)).toEqual([[1n, "b"]])
    expect(db.prepare("SELECT count(*) FROM __marmot_commit_log").pluck().get()).toBe(2n)
  })

  it("moves a row whose primary key changed: old key tombstoned, new key written", () => {
    const { applier, db } = open()
    applyAll(applier, db, [
      txn(1000, 1, change("I", undefined, [1n, "a"])),
      txn(2000, 1, change("U", [1n, "a"], [5n, "a"])),
      // an older insert of the old key must not bring it back
      txn(1500, 2, change("I", undefined, [1n, "late"]))
    ])
    expect(rows(db)).toEqual([[5n, "a"]])
  })

  it("records every applied transaction in the commit log, in apply order, with its body", () => {
    const { applier, db } = open()
    const results = applyAll(applier, db, [txn(2000, 1, change("I", undefined, [1n, "a"])), txn(1000, 2, change("I", undefined, [2n, "b"]))])
    expect(results.map((r) => r.seq)).toEqual([1n, 2n])
    const body = db.prepare("SELECT body FROM __marmot_commit_log WHERE seq = 2").pluck().get() as string
    expect(JSON.parse(body)).toMatchObject({ database: "d", coordinator: 2, changes: [{ op: "I", table: "t" }] })
  })

  it("rolls back everything when one change cannot be applied", () => {
    const { applier, db } = open()
    const bad = new RowChange({ database: "d", table: "nope", op: "I", key: dmlKey("nope", [1n]), columns, after: [1n, "x"] })
    expect(() => applyAll(applier, db, [txn(1000, 1, change("I", undefined, [1n, "a"]), bad)])).toThrow()
    expect(rows(db)).toEqual([])
    expect(db.prepare("SELECT count(*) FROM __marmot_applied_txn").pluck().get()).toBe(0n)
  })
})
