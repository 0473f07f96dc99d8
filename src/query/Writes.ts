import type { ParamValue } from "../mysql/protocol/Decode.ts"
import type { Statement } from "../sql/Statement.ts"
import type { SqliteConnection } from "../storage/SqliteConnection.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import type { TableInfo } from "../storage/TableInfo.ts"
import { applyColumnChange } from "./AlterTable.ts"
import { firstGenerated, planIds } from "./InsertIds.ts"
import { runMultiTable } from "./MultiTable.ts"
import { bindArgs, type EngineContext, localizeSql, requireDatabase } from "./Context.ts"
import { CaptureSink, ensureCaptureTriggers, unchanged } from "../storage/Capture.ts"
import { Errors, fromSqlite, MysqlError } from "./Errors.ts"
import type { Session } from "./Session.ts"
import { commit, withWriter } from "./Transactions.ts"

export interface Ok {
  readonly _tag: "Ok"
  readonly affectedRows: bigint | number
  readonly lastInsertId: bigint | number
  readonly info?: string | undefined
}

export const ok = (affectedRows: bigint | number = 0, lastInsertId: bigint | number = 0): Ok => ({
  _tag: "Ok",
  affectedRows,
  lastInsertId
})

type Insert = Extract<Statement, { kind: "insert" | "replace" }>
type UpdateOrDelete = Extract<Statement, { kind: "update" | "delete" }>
type Ddl = Extract<Statement, { kind: "ddl" }>

export const runInsert = (ctx: EngineContext, session: Session, stmt: Insert, params: ReadonlyArray<ParamValue>) => {
  const handle = requireDatabase(ctx, stmt.target.database ?? session.database)
  return withWriter(ctx, session, handle, (conn): Ok => {
    const sink = new CaptureSink()
    let args: Array<unknown> = []
    try {
      args = bindArgs(ctx, session, stmt.sqlite.args, params)
      const ids = planIds(conn, handle.tableInfo(stmt.target.table), stmt, args)
      const prepared = conn.prepare(localizeSql(ctx, conn, handle.name, ids.sql, stmt.tables))
      conn.capture = sink
      const result = prepared.stmt.run(args)
      const changes = BigInt(result.changes)
      // MySQL counts a REPLACE that deleted a row as 2, an upsert that changed a row as 2, an unchanged one as 0.
      let affected = 0n
      let inserted = false
      for (const image of sink.images) {
        if (image.table !== stmt.target.table) continue
        affected += image.op === "U" ? (unchanged(image) ? 0n : 2n) : 1n
        if (image.op === "I") inserted = true
      }
      // an upsert that only updated rows generated ids it did not use: LAST_INSERT_ID() stays
      const generated = inserted || sink.images.length === 0 ? firstGenerated() : undefined
      if (generated !== undefined && changes > 0n) session.lastInsertId = generated
      session.rowCount = affected
      return ok(affected, (changes > 0n ? generated ?? ids.lastExplicit : undefined) ?? 0n)
    } catch (e) {
      throw duplicateEntry(e, conn, handle.tableInfo(stmt.target.table), stmt, args) ?? fromSqlite(e, handle.name)
    } finally {
      conn.capture = undefined
    }
  })
}

export const runUpdateOrDelete = (
  ctx: EngineContext,
  session: Session,
  stmt: UpdateOrDelete,
  params: ReadonlyArray<ParamValue>
) => {
  if (stmt.multi !== undefined) return runMultiTable(ctx, session, stmt, stmt.multi, params)
  const handle = requireDatabase(ctx, stmt.target.database ?? session.database)
  return withWriter(ctx, session, handle, (conn): Ok => {
    const sink = new CaptureSink()
    try {
      const prepared = conn.prepare(localizeSql(ctx, conn, handle.name, stmt.sqlite.sql, stmt.tables))
      conn.capture = sink
      const result = prepared.stmt.run(bindArgs(ctx, session, stmt.sqlite.args, params))
      if (stmt.kind === "delete") {
        session.rowCount = BigInt(result.changes)
        return ok(result.changes)
      }
      // MySQL reports rows it changed, or rows it matched when the client set CLIENT_FOUND_ROWS.
      let matched = 0
      let changed = 0
      for (const image of sink.images) {
        if (image.op !== "U" || image.table !== stmt.target.table) continue
        matched++
        if (!unchanged(image)) changed++
      }
      if (matched === 0) matched = changed = result.changes
      return updated(session, matched, changed)
    } catch (e) {
      throw fromSqlite(e, handle.name)
    } finally {
      conn.capture = undefined
    }
  })
}

/** An UPDATE's outcome: MySQL reports rows it changed, or rows it matched when the client set CLIENT_FOUND_ROWS. */
export const updated = (session: Session, matched: number, changed: number): Ok => {
  const affected = session.foundRowsFlag ? matched : changed
  session.rowCount = BigInt(affected)
  return { ...ok(affected), info: `Rows matched: ${matched}  Changed: ${changed}  Warnings: 0` }
}

/**
 * MySQL names the duplicate value and the key; SQLite names only the columns. For a VALUES
 * insert the clashing row is found again to say which value it was.
 */
const duplicateEntry = (
  e: unknown,
  conn: SqliteConnection,
  shape: TableInfo | undefined,
  stmt: Insert,
  args: ReadonlyArray<unknown>
): MysqlError | undefined => {
  const m = (e instanceof Error ? e.message : "").match(/^(?:UNIQUE|PRIMARY KEY) constraint failed: (.+)$/)
  if (m === null) return undefined
  const columns = m[1]!.split(",").map((c) => c.trim().replace(/^[^.]*\./, ""))
  const table = stmt.target.table
  let key = columns.join("_")
  try {
    const indexes = conn.db.prepare(`PRAGMA main.index_list(${quoteIdent(table)})`).all() as Array<{ name: string; unique: unknown; origin: string }>
    for (const index of indexes) {
      if (Number(index.unique) !== 1) continue
      const cols = (conn.db.prepare(`PRAGMA main.index_info(${quoteIdent(index.name)})`).all() as Array<{ name: string }>).map((c) => c.name)
      if (cols.join(",") !== columns.join(",")) continue
      key = index.origin === "pk" ? "PRIMARY" : index.name.startsWith(table + "__") ? index.name.slice(table.length + 2) : index.name
      break
    }
    if (columns.length === 1 && shape?.autoIncrement === columns[0]) key = "PRIMARY"
  } catch {
    // the message stays without the key name
  }
  let value = ""
  const insertColumns = stmt.columns
  if (stmt.rows !== undefined && insertColumns !== undefined) {
    const positions = columns.map((c) => insertColumns.findIndex((ic) => ic.toLowerCase() === c.toLowerCase()))
    if (positions.every((p) => p >= 0)) {
      const probe = conn.db.prepare(`SELECT 1 FROM main.${quoteIdent(table)} WHERE ${columns.map((c) => `${quoteIdent(c)} IS ?`).join(" AND ")}`)
      for (const row of stmt.rows) {
        const vals = positions.map((p) => (row[p]! >= 0 ? args[row[p]!] : undefined))
        if (vals.some((v) => v === undefined)) continue
        if (probe.get(vals) !== undefined) {
          value = vals.map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v))).join("-")
          break
        }
      }
    }
  }
  return Errors.duplicateEntry(value, `${table}.${key}`)
}


/** MySQL's TRUNCATE starts AUTO_INCREMENT over. */
const resetAutoIncrement = (conn: SqliteConnection, table: string): void => {
  const exists = conn.db.prepare("SELECT 1 FROM main.sqlite_schema WHERE name = 'sqlite_sequence'").get()
  if (exists !== undefined) conn.db.prepare("DELETE FROM main.sqlite_sequence WHERE name = ?").run(table)
}

/** SQLite takes no bound parameters in DDL, so lifted literals go back into the text. */
export const inlineArgs = (sql: string, values: ReadonlyArray<unknown>): string => {
  if (values.length === 0) return sql
  let out = ""
  let next = 0
  let quote: string | undefined
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!
    if (quote !== undefined) {
      out += ch
      if (ch === quote) quote = undefined
    } else if (ch === '"' || ch === "'" || ch === "`") {
      quote = ch
      out += ch
    } else if (ch === "?" && next < values.length) {
      out += sqlLiteral(values[next++])
    } else {
      out += ch
    }
  }
  return out
}

const sqlLiteral = (v: unknown): string => {
  if (v === null || v === undefined) return "NULL"
  if (typeof v === "bigint" || typeof v === "number") return String(v)
  if (Buffer.isBuffer(v)) return `X'${v.toString("hex")}'`
  return "'" + String(v).replace(/'/g, "''") + "'"
}

export const runDdl = (ctx: EngineContext, session: Session, stmt: Ddl, params: ReadonlyArray<ParamValue>): Ok | Promise<Ok> => {
  // DDL commits an open transaction first, as in MySQL.
  const committed = session.inTransaction ? commit(ctx, session) : undefined
  if (committed instanceof Promise) return committed.then(() => runDdl(ctx, session, stmt, params))
  const handle = requireDatabase(ctx, stmt.target.database ?? session.database)
  return withWriter(ctx, session, handle, (conn): Ok => {
    const apply = () => {
      for (const s of stmt.statements) {
        if (s.change !== undefined) {
          applyColumnChange(conn, handle.name, { ...s, change: s.change })
          continue
        }
        const sql = inlineArgs(localizeSql(ctx, conn, handle.name, s.sql, [stmt.target]), bindArgs(ctx, session, s.args, params))
        conn.exec(sql)
        conn.replicationCapture?.ddl.push(sql)
      }
      conn.replicationCapture?.ddlTables.add(stmt.target.table)
      if (stmt.op === "truncate") resetAutoIncrement(conn, stmt.target.table)
      ensureCaptureTriggers(conn.db)
    }
    try {
      if (conn.inTransaction) apply()
      else conn.db.transaction(apply)()
    } catch (e) {
      const mapped = fromSqlite(e, handle.name)
      if (stmt.op === "drop_table" && mapped.code === 1146) {
        throw new MysqlError({ code: 1051, sqlState: "42S02", message: `Unknown table '${handle.name}.${stmt.target.table}'` })
      }
      throw mapped
    } finally {
      ctx.storage.schemaChanged(handle)
    }
    return ok(0)
  })
}

