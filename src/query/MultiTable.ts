/**
 * Multi-table UPDATE / DELETE that SQLite cannot run as one statement (src/sql/EmitMultiTable.ts):
 * the SELECT of matched rows runs first (so every value is computed before anything changes, and
 * deleting from one table does not hide rows of another), then each target's per-row statement
 * runs once per distinct rowid (MySQL changes a row once, however many join rows match it; the
 * first match's values win). All of it is one savepoint: a failure undoes the whole statement.
 * Affected rows: MySQL's, summed over the tables (changed rows, or matched with CLIENT_FOUND_ROWS).
 */
import type { ParamValue } from "../mysql/protocol/Decode.ts"
import type { MultiTable, Statement } from "../sql/Statement.ts"
import { CaptureSink, unchanged } from "../storage/Capture.ts"
import { bindArgs, type EngineContext, localizeSql, requireDatabase } from "./Context.ts"
import { Errors, fromSqlite } from "./Errors.ts"
import type { Session } from "./Session.ts"
import { withWriter } from "./Transactions.ts"
import { ok, type Ok, updated } from "./Writes.ts"

type UpdateOrDelete = Extract<Statement, { kind: "update" | "delete" }>

export const runMultiTable = (ctx: EngineContext, session: Session, stmt: UpdateOrDelete, multi: MultiTable, params: ReadonlyArray<ParamValue>) => {
  const home = stmt.target.database ?? session.database
  // every target is written under the first one's database lock
  if (multi.targets.some((t) => (t.table.database ?? session.database) !== home)) {
    throw Errors.notSupported(`multi-table ${stmt.kind.toUpperCase()} of tables in different databases`)
  }
  const handle = requireDatabase(ctx, home)
  return withWriter(ctx, session, handle, (conn): Ok => {
    const sink = new CaptureSink()
    try {
      const select = conn.prepare(localizeSql(ctx, conn, handle.name, stmt.sqlite.sql, stmt.tables))
      const writes = multi.targets.map((t) => conn.prepare(localizeSql(ctx, conn, handle.name, t.sql, stmt.tables)).stmt)
      const args = bindArgs(ctx, session, stmt.sqlite.args, params)
      let matched = 0
      let deleted = 0
      conn.capture = sink
      conn.db.transaction(() => {
        const rows = select.stmt.all(args) as Array<Array<unknown>>
        let column = 0
        multi.targets.forEach((target, k) => {
          const seen = new Set<unknown>()
          const at = column
          column += 1 + target.values
          for (const row of rows) {
            const rowid = row[at]
            // LEFT JOIN without a match on the target's side: nothing to change there
            if (rowid === null || rowid === undefined || seen.has(rowid)) continue
            seen.add(rowid)
            const values = target.values === 0 ? [rowid] : [...row.slice(at + 1, at + 1 + target.values), rowid]
            const r = writes[k]!.run(values)
            if (stmt.kind === "delete") deleted += r.changes
            else matched += r.changes
          }
        })
      })()
      if (stmt.kind === "delete") {
        session.rowCount = BigInt(deleted)
        return ok(deleted)
      }
      let changed = 0
      for (const image of sink.images) if (image.op === "U" && !unchanged(image)) changed++
      return updated(session, matched, changed)
    } catch (e) {
      throw fromSqlite(e, handle.name)
    } finally {
      conn.capture = undefined
    }
  })
}
