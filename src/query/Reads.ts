import type { ColumnDef } from "../mysql/protocol/Encode.ts"
import type { ParamValue } from "../mysql/protocol/Decode.ts"
import type { Sqlite, TableRef } from "../sql/Statement.ts"
import type { Prepared, SqliteConnection } from "../storage/SqliteConnection.ts"
import { ColumnFlag, ColumnType } from "../mysql/protocol/Constants.ts"
import { columnDef, type ColumnShape, overflows, shapeOfDeclared, shapeOfValues, tableFlags, widenedInteger } from "./ColumnTypes.ts"
import { bindArgs, type EngineContext, localizeSql, requireDatabase } from "./Context.ts"
import { fromSqlite } from "./Errors.ts"
import { readsInformationSchema, refreshInformationSchema } from "./InformationSchema.ts"
import type { Session } from "./Session.ts"

export interface Rows {
  readonly _tag: "Rows"
  readonly columns: ReadonlyArray<ColumnDef>
  readonly rows: ReadonlyArray<ReadonlyArray<unknown>>
}

interface ResultColumns {
  /** Definitions from declared types, or undefined where the type depends on the values. */
  readonly fixed: ReadonlyArray<ColumnDef | undefined>
  readonly shapes: ReadonlyArray<ColumnShape | undefined>
  readonly names: ReadonlyArray<{ schema: string; table: string; orgTable: string; name: string; orgName: string }>
  readonly allFixed: boolean
  /** Columns whose values need a look before sending: narrow integers, scaled decimals. */
  readonly checked: ReadonlyArray<number>
}

const resultColumns = new WeakMap<Prepared, ResultColumns>()

const infoOf = (ctx: EngineContext, prepared: Prepared, home: string): ResultColumns => {
  let info = resultColumns.get(prepared)
  if (info !== undefined) return info
  const cols = prepared.stmt.columns()
  const names = cols.map((c) => ({
    schema: c.database === null ? "" : c.database === "main" ? home : c.database,
    table: c.table ?? "",
    orgTable: c.table ?? "",
    name: c.name,
    orgName: c.column ?? c.name
  }))
  const tableColumns = cols.map((c, i) => {
    if (c.table === null || c.column === null || names[i]!.schema === "") return undefined
    return ctx.storage.get(names[i]!.schema)?.tableInfo(c.table)?.byName.get(c.column.toLowerCase())
  })
  const shapes = cols.map((c, i) => (c.column === null ? undefined : shapeOfDeclared(tableColumns[i]?.declared ?? c.type)))
  const fixed = cols.map((_c, i) => {
    const shape = shapes[i]
    if (shape === undefined) return undefined
    const column = tableColumns[i]
    return columnDef(shape, names[i]!, column === undefined ? 0 : tableFlags(column))
  })
  const checked = shapes.flatMap((s, i) => (s !== undefined && (s.range !== undefined || (s.type === ColumnType.NEWDECIMAL && s.decimals > 0)) ? [i] : []))
  info = { fixed, shapes, names, allFixed: fixed.every((f) => f !== undefined), checked }
  resultColumns.set(prepared, info)
  return info
}

/** Column definitions for a result: declared types where known, else the type the values share. */
const columnsFor = (
  ctx: EngineContext,
  prepared: Prepared,
  home: string,
  rows: Array<Array<unknown>>
): ReadonlyArray<ColumnDef> => {
  const info = infoOf(ctx, prepared, home)
  let defs: Array<ColumnDef> | undefined
  for (const i of info.checked) {
    const s = info.shapes[i]!
    if (s.type === ColumnType.NEWDECIMAL) {
      for (const row of rows) {
        const v = row[i]
        if (typeof v === "number" || typeof v === "bigint") row[i] = Number(v).toFixed(s.decimals)
      }
    } else if (overflows(s, rows, i)) {
      defs ??= [...(info.fixed as ReadonlyArray<ColumnDef>)]
      defs[i] = columnDef(widenedInteger, info.names[i]!, info.fixed[i]!.flags & ~(ColumnFlag.UNSIGNED))
    }
  }
  if (info.allFixed) return defs ?? (info.fixed as ReadonlyArray<ColumnDef>)
  return info.fixed.map((f, i) => defs?.[i] ?? f ?? columnDef(shapeOfValues(rows, i), info.names[i]!))
}

/** Column definitions known before execution (COM_STMT_PREPARE); value-typed columns are strings. */
export const columnsBeforeExecution = (ctx: EngineContext, prepared: Prepared, home: string, fallback: ColumnShape): ReadonlyArray<ColumnDef> => {
  const info = infoOf(ctx, prepared, home)
  return info.fixed.map((f, i) => f ?? columnDef(fallback, info.names[i]!))
}

/** Where a read runs: the writer if this session's transaction holds it (own writes), else the reader. */
export const readTarget = (
  ctx: EngineContext,
  session: Session,
  tables: ReadonlyArray<TableRef>
): { conn: SqliteConnection; home: string } => {
  if (readsInformationSchema(tables, session.database)) {
    refreshInformationSchema(ctx, tables, session)
    return { conn: ctx.scratch, home: "" }
  }
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
  return { _tag: "Rows", columns: columnsFor(ctx, prepared, home, rows), rows }
}
