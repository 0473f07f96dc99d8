import type { ParamValue } from "../mysql/protocol/Decode.ts"
import type { Statement } from "../sql/Statement.ts"
import type { SqliteConnection } from "../storage/SqliteConnection.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import { bindArgs, type EngineContext, localizeSql, requireDatabase } from "./Context.ts"
import { fromSqlite, MysqlError } from "./Errors.ts"
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

interface TableShape {
  readonly columns: ReadonlyArray<string>
  /** The INTEGER PRIMARY KEY column (SQLite's rowid alias), which MySQL's AUTO_INCREMENT maps to. */
  readonly autoIncrement: string | undefined
}

const shapes = new WeakMap<DatabaseHandle, { version: number; byTable: Map<string, TableShape> }>()

const shapeOf = (handle: DatabaseHandle, conn: SqliteConnection, table: string): TableShape => {
  let entry = shapes.get(handle)
  if (entry === undefined || entry.version !== handle.schemaVersion) {
    entry = { version: handle.schemaVersion, byTable: new Map() }
    shapes.set(handle, entry)
  }
  let shape = entry.byTable.get(table)
  if (shape !== undefined) return shape
  const info = conn.db.pragma(`main.table_info(${quoteIdent(table)})`) as Array<
    { name: string; type: string; pk: bigint | number }
  >
  const pks = info.filter((c) => Number(c.pk) > 0)
  const rowidAlias = pks.length === 1 && pks[0]!.type.toUpperCase() === "INTEGER" ? pks[0]!.name : undefined
  shape = { columns: info.map((c) => c.name), autoIncrement: rowidAlias }
  entry.byTable.set(table, shape)
  return shape
}

const isZeroOrNull = (v: unknown): boolean =>
  v === null || v === undefined || v === 0n || v === 0 || v === "0" || v === ""

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/**
 * MySQL generates an AUTO_INCREMENT id for NULL or 0; SQLite would store the 0. Generated ids are
 * assigned here, so LAST_INSERT_ID() is exactly the first id this statement generated.
 */
const assignIds = (
  conn: SqliteConnection,
  shape: TableShape,
  table: string,
  stmt: Insert,
  args: Array<unknown>
): { firstGenerated: bigint | undefined; lastExplicit: bigint | undefined; implicit: boolean } => {
  const auto = shape.autoIncrement
  const none = { firstGenerated: undefined, lastExplicit: undefined, implicit: false }
  if (auto === undefined) return none
  const columns = stmt.columns ?? shape.columns
  const position = columns.findIndex((c) => sameName(c, auto))
  if (position < 0) return { ...none, implicit: true }
  if (stmt.rows === undefined) return none
  let next: bigint | undefined
  let firstGenerated: bigint | undefined
  let lastExplicit: bigint | undefined
  for (const row of stmt.rows) {
    const argIndex = row[position]
    if (argIndex === undefined || argIndex < 0) continue
    const v = args[argIndex]
    if (isZeroOrNull(v)) {
      if (next === undefined) {
        const max = conn.prepare(`SELECT max(rowid) FROM main.${quoteIdent(table)}`).stmt.all() as Array<Array<unknown>>
        next = BigInt((max[0]?.[0] as bigint | null | undefined) ?? 0n) + 1n
      }
      args[argIndex] = next
      firstGenerated ??= next
      next++
    } else {
      const explicit = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined
      if (explicit !== undefined) {
        lastExplicit = explicit
        if (next !== undefined && explicit >= next) next = explicit + 1n
      }
    }
  }
  return { firstGenerated, lastExplicit, implicit: false }
}

export const runInsert = (ctx: EngineContext, session: Session, stmt: Insert, params: ReadonlyArray<ParamValue>) => {
  const handle = requireDatabase(ctx, stmt.target.database ?? session.database)
  return withWriter(ctx, session, handle, (conn): Ok => {
    try {
      const prepared = conn.prepare(localizeSql(ctx, conn, handle.name, stmt.sqlite.sql, stmt.tables))
      const args = bindArgs(ctx, session, stmt.sqlite.args, params)
      const shape = shapeOf(handle, conn, stmt.target.table)
      const ids = assignIds(conn, shape, stmt.target.table, stmt, args)
      const result = prepared.stmt.run(args)
      const changes = BigInt(result.changes)
      let generated = ids.firstGenerated
      if (ids.implicit && changes > 0n) generated = BigInt(result.lastInsertRowid) - changes + 1n
      if (generated !== undefined && changes > 0n) session.lastInsertId = generated
      session.rowCount = changes
      return ok(changes, (changes > 0n ? generated ?? ids.lastExplicit : undefined) ?? 0n)
    } catch (e) {
      throw fromSqlite(e, handle.name)
    }
  })
}

export const runUpdateOrDelete = (
  ctx: EngineContext,
  session: Session,
  stmt: UpdateOrDelete,
  params: ReadonlyArray<ParamValue>
) => {
  const handle = requireDatabase(ctx, stmt.target.database ?? session.database)
  return withWriter(ctx, session, handle, (conn): Ok => {
    try {
      const prepared = conn.prepare(localizeSql(ctx, conn, handle.name, stmt.sqlite.sql, stmt.tables))
      const result = prepared.stmt.run(bindArgs(ctx, session, stmt.sqlite.args, params))
      session.rowCount = BigInt(result.changes)
      return ok(result.changes)
    } catch (e) {
      throw fromSqlite(e, handle.name)
    }
  })
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

export const runDdl = (ctx: EngineContext, session: Session, stmt: Ddl, params: ReadonlyArray<ParamValue>) => {
  if (session.inTransaction) commit(session)
  const handle = requireDatabase(ctx, stmt.target.database ?? session.database)
  return withWriter(ctx, session, handle, (conn): Ok => {
    const apply = () => {
      for (const s of stmt.statements) {
        const sql = localizeSql(ctx, conn, handle.name, s.sql, [stmt.target])
        conn.exec(inlineArgs(sql, bindArgs(ctx, session, s.args, params)))
      }
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

