/**
 * The last part of preparing a snapshot for install (SnapshotInstall.ts): every row whose version
 * on the live file is newer than the snapshot's (LWW, the applier's order) is copied into the
 * snapshot, and every newer live tombstone deletes the snapshot's row. Replaying this node's log
 * covers what the log still holds; this covers rows whose log entries GC already collected (a
 * source that was itself behind, e.g. a node back from a long stop, must not take them away).
 * The live file is attached to the snapshot's connection as `live`.
 */
import type Database from "better-sqlite3"
import { Either } from "effect"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import { primaryKeyOf } from "./Applier.ts"
import { decodeKey } from "./IntentKey.ts"

const newerLiveVersions = `
  SELECT lv.tbl, lv.pk, lv.stamp, lv.node, lv.deleted FROM live.__marmot_row_version lv
  LEFT JOIN main.__marmot_row_version sv ON sv.tbl = lv.tbl AND sv.pk = lv.pk
  WHERE sv.stamp IS NULL OR lv.stamp > sv.stamp OR (lv.stamp = sv.stamp AND lv.node > sv.node)`

interface TableCopy {
  readonly remove: Database.Statement
  readonly copy: Database.Statement
}

const columnsOf = (db: Database.Database, schema: string, table: string): Array<string> =>
  (db.prepare(`SELECT name FROM pragma_table_info(?, ?)`).pluck().all(table, schema) as Array<string>)

/** Statements for one table present on both sides; undefined when the snapshot lacks it. */
const tableCopy = (db: Database.Database, table: string): TableCopy | undefined => {
  const pk = primaryKeyOf(db, table)
  const live = new Set(columnsOf(db, "live", table))
  const shared = columnsOf(db, "main", table).filter((c) => live.has(c))
  if (pk.length === 0 || shared.length === 0 || !pk.every((c) => live.has(c))) return undefined
  const where = pk.map((c) => `${quoteIdent(c)} IS ?`).join(" AND ")
  const cols = shared.map(quoteIdent).join(", ")
  return {
    remove: db.prepare(`DELETE FROM main.${quoteIdent(table)} WHERE ${where}`),
    copy: db.prepare(`INSERT OR REPLACE INTO main.${quoteIdent(table)} (${cols}) SELECT ${cols} FROM live.${quoteIdent(table)} WHERE ${where}`)
  }
}

/** Runs inside the caller's transaction on the snapshot; returns how many rows or tombstones it took from the live file. */
export const mergeNewerLiveRows = (db: Database.Database): number => {
  const versions = db.prepare(newerLiveVersions).raw().all() as Array<[string, Buffer, bigint, bigint, bigint]>
  const tables = new Map<string, TableCopy | undefined>()
  const setVersion = db.prepare(
    "INSERT INTO main.__marmot_row_version (tbl, pk, stamp, node, deleted) VALUES (?, ?, ?, ?, ?) " +
      "ON CONFLICT (tbl, pk) DO UPDATE SET stamp = excluded.stamp, node = excluded.node, deleted = excluded.deleted"
  )
  let merged = 0
  for (const [tbl, pk, stamp, node, deleted] of versions) {
    const key = decodeKey(pk)
    if (Either.isLeft(key) || key.right._tag !== "Dml") continue
    if (!tables.has(tbl)) tables.set(tbl, tableCopy(db, tbl))
    const statements = tables.get(tbl)
    if (statements === undefined) continue // a table the snapshot does not have: its DDL came from the source's side
    const values = key.right.pk.map((v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : v))
    if (Number(deleted) === 1) statements.remove.run(...values)
    else statements.copy.run(...values)
    setVersion.run(tbl, pk, stamp, node, deleted)
    merged++
  }
  return merged
}
