import type { ColumnDef } from "../mysql/protocol/Encode.ts"
import type { ParamValue } from "../mysql/protocol/Decode.ts"
import type { Sqlite, TableRef } from "../sql/Statement.ts"
import type { Prepared, SqliteConnection } from "../storage/SqliteConnection.ts"
import { columnDef, type ColumnShape, shapeOfDeclared, shapeOfValues } from "./ColumnTypes.ts"
import { bindArgs, type EngineContext, localizeSql, requireDatabase } from "./Context.ts"
import { fromSqlite } from "./Errors.ts"
import type { Session } from "./Session.ts"

export interface Rows {
  readonly _tag: "Rows"
  readonly columns: ReadonlyArray<ColumnDef>
  readonly rows: ReadonlyArray<ReadonlyArray<unknown>>
}

interface ColumnInfo {
  /** Fixed definitions, or undefined at positions whose type depends on the values. */
  readonly fixed: ReadonlyArray<ColumnDef | undefined>
  readonly names: ReadonlyArray<{ schema: string; table: string; orgTable: string; name: string; orgName: string }>
  readonly allFixed: boolean
}

const columnInfo = new WeakMap<Prepared, ColumnInfo>()

const infoOf = (prepared: Prepared, home: string): ColumnInfo => {
  let info = columnInfo.get(prepared)
  if (info !== undefined) return info
  const cols = prepared.stmt.columns()
  const names = cols.map((c) => ({
    schema: c.database === null ? "" : c.database === "main" ? home : c.database,
    table: c.table ?? "",
    orgTable: c.table ?? "",
    name: c.name,
    orgName: c.column ?? c.name
  }))
  const fixed = cols.map((c, i) => {
    const shape = c.column === null ? undefined : shapeOfDeclared(c.type)
    return shape === undefined ? undefined : columnDef(shape, names[i]!)
  })
  info = { fixed, names, allFixed: fixed.every((f) => f !== undefined) }
  columnInfo.set(prepared, info)
  return info
}

/** Column definitions for a result: declared types where known, else the type the values share. */
export const columnsFor = (prepared: Prepared, home: string, rows: ReadonlyArray<ReadonlyArray<unknown>>): ReadonlyArray<ColumnDef> => {
  const info = infoOf(prepared, home)
  if (info.allFixed) return info.fixed as ReadonlyArray<ColumnDef>
  return info.fixed.map((f, i) => f ?? columnDef(shapeOfValues(rows, i), info.names[i]!))
}

/** Column definitions known before execution (COM_STMT_PREPARE); value-typed columns are strings. */
export const columnsBeforeExecution = (prepared: Prepared, home: string, fallback: ColumnShape): ReadonlyArray<ColumnDef> => {
  const info = infoOf(prepared, home)
  return info.fixed.map((f, i) => f ?? columnDef(fallback, info.names[i]!))
}

/** Where a read runs: the writer if this session's transaction holds it (own writes), else the reader. */
export const readTarget = (
  ctx: EngineContext,
  session: Session,
  tables: ReadonlyArray<TableRef>
): { conn: SqliteConnection; home: string } => {
  const unqualified = tables.some((t) => t.database === undefined)
  let name = session.database
  if (name === undefined && !unqualified) name = tables[0]?.database
  if (name === undefined && !unqualified) return { conn: ctx.scratch, home: "" }
  if (!unqualified && tables.length === 0 && ctx.storage.get(name!) === undefined) return { conn: ctx.scratch, home: "" }
  const handle = requireDatabase(ctx, name)
  return { conn: session.holds(handle) ? handle.writer : handle.reader, home: handle.name }
}

export const prepareRead = (
  ctx: EngineContext,
  session: Session,
  sqlite: Sqlite,
  tables: ReadonlyArray<TableRef>
): { prepared: Prepared; home: string } => {
  const { conn, home } = readTarget(ctx, session, tables)
  try {
    const sql = home === "" ? sqlite.sql : localizeSql(ctx, conn, home, sqlite.sql, tables)
    return { prepared: conn.prepare(sql), home }
  } catch (e) {
    throw fromSqlite(e, home)
  }
}

export const runSelect = (
  ctx: EngineContext,
  session: Session,
  sqlite: Sqlite,
  tables: ReadonlyArray<TableRef>,
  params: ReadonlyArray<ParamValue>,
  calcFoundRows: Sqlite | undefined
): Rows => {
  const { prepared, home } = prepareRead(ctx, session, sqlite, tables)
  const args = bindArgs(ctx, session, sqlite.args, params)
  let rows: Array<Array<unknown>>
  try {
    rows = prepared.reader ? (prepared.stmt.all(args) as Array<Array<unknown>>) : (prepared.stmt.run(args), [])
  } catch (e) {
    throw fromSqlite(e, home)
  }
  if (calcFoundRows !== undefined) {
    const count = prepareRead(ctx, session, calcFoundRows, tables)
    const n = count.prepared.stmt.all(bindArgs(ctx, session, calcFoundRows.args, params)) as Array<Array<unknown>>
    session.foundRows = BigInt((n[0]?.[0] as bigint | number | undefined) ?? 0)
  } else {
    session.foundRows = BigInt(rows.length)
  }
  session.rowCount = -1n
  return { _tag: "Rows", columns: columnsFor(prepared, home, rows), rows }
}
