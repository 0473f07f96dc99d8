/**
 * The commit log's `body` column: a `CommittedTransaction` as JSON, in exactly the Schema's encoded
 * form (proto-schemas/src/Transaction.ts, Values.ts), which every reader decodes with the Schema
 * (anti-entropy, snapshots, the change publisher). Written by hand because the Applier writes one per
 * transaction on every node, and `Schema.encodeSync` cost more than applying the rows; a property
 * test holds it equal to the Schema's output (test/replication/CommitLogBody.test.ts).
 */
import type { Hlc } from "../../proto-schemas/src/Hlc.ts"
import type { RowChange } from "../../proto-schemas/src/RowChange.ts"
import type { CommittedTransaction } from "../../proto-schemas/src/Transaction.ts"
import type { SqlRow, SqlValue } from "../../proto-schemas/src/Values.ts"

const base64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64")

const value = (v: SqlValue): unknown => {
  if (v === null || typeof v === "string") return v
  if (typeof v === "number") {
    if (Number.isFinite(v) && !Object.is(v, -0)) return v
    return { f: Object.is(v, -0) ? "-0" : v > 0 ? "Infinity" : v < 0 ? "-Infinity" : "NaN" }
  }
  if (typeof v === "bigint") return { i: v.toString() }
  return { b: base64(v) }
}

const row = (r: SqlRow) => r.map(value)

const hlc = (h: Hlc) => ({ wallMs: h.wallMs, logical: h.logical, nodeId: h.nodeId })

const change = (c: RowChange) => {
  const out: Record<string, unknown> = {
    database: c.database,
    table: c.table,
    op: c.op,
    key: base64(c.key),
    columns: c.columns
  }
  if (c.before !== undefined) out["before"] = row(c.before)
  if (c.after !== undefined) out["after"] = row(c.after)
  if (c.baseStamp !== undefined) out["baseStamp"] = { stamp: c.baseStamp.stamp.toString(), nodeId: c.baseStamp.nodeId }
  return out
}

/** `extra`: fields next to the transaction's own (what last-write-wins skipped, for the change publisher). */
export const encodeBody = (txn: CommittedTransaction, extra?: object): string => {
  const out: Record<string, unknown> = {
    txnId: txn.txnId,
    commitHlc: hlc(txn.commitHlc),
    coordinator: txn.coordinator,
    database: txn.database,
    changes: txn.changes.map(change),
    schemaVersion: txn.schemaVersion
  }
  if (txn.seq !== undefined) out["seq"] = txn.seq.toString()
  if (txn.ddl !== undefined) out["ddl"] = txn.ddl
  if (txn.databaseOp !== undefined) out["databaseOp"] = txn.databaseOp
  return JSON.stringify(extra === undefined ? out : Object.assign(out, extra))
}
