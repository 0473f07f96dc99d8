import type { ShowStatement } from "../sql/Statement.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import type { TableRef } from "../sql/Statement.ts"
import type { SqliteConnection } from "../storage/SqliteConnection.ts"
import { type ColumnInfo, foreignKeyNames, readTableInfo, type TableInfo } from "../storage/TableInfo.ts"
import { columnDef, type ColumnShape, isTextType, mysqlTypeName, stringShape } from "./ColumnTypes.ts"
import { type EngineContext, requireDatabase, sysVar } from "./Context.ts"
import { Errors, fromSqlite, MysqlError } from "./Errors.ts"
import { informationSchemaTables, isInformationSchema } from "./InformationSchema.ts"
import type { Rows } from "./Reads.ts"
import type { Session } from "./Session.ts"
import { globalDefaults } from "./SystemVariables.ts"

const resultOf = (names: ReadonlyArray<string>, rows: Array<Array<unknown>>, shape: ColumnShape = stringShape): Rows => ({
  _tag: "Rows",
  columns: names.map((name) => columnDef(shape, { schema: "", table: "", orgTable: "", name, orgName: name })),
  rows
})

/** MySQL LIKE pattern (with \ escapes) → RegExp; MySQL compares case-insensitively here. */
export const likeToRegExp = (pattern: string): RegExp => {
  let re = "^"
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === "\\" && i + 1 < pattern.length) re += escapeRe(pattern[++i]!)
    else if (ch === "%") re += ".*"
    else if (ch === "_") re += "."
    else re += escapeRe(ch)
  }
  return new RegExp(re + "$", "is")
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const filter = (values: ReadonlyArray<string>, like: string | undefined) => {
  if (like === undefined) return values
  const re = likeToRegExp(like)
  return values.filter((v) => re.test(v))
}

const userTables = (ctx: EngineContext, db: string): Array<{ name: string; type: string }> => userTableList(requireDatabase(ctx, db).reader)

/** Tables and views of the connection's main database, without SQLite's and marmot's own. */
export const userTableList = (conn: SqliteConnection): Array<{ name: string; type: string }> => {
  const rows = conn.prepare(
    "SELECT name, type FROM sqlite_schema WHERE type IN ('table','view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_marmot%' ESCAPE '\\' ORDER BY name"
  ).stmt.all() as Array<Array<string>>
  return rows.map(([name, type]) => ({ name: name!, type: type! }))
}

export const runShow = (ctx: EngineContext, session: Session, show: ShowStatement): Rows => {
  const rows = showRows(ctx, session, show)
  return "where" in show && show.where !== undefined ? applyWhere(ctx, rows, show.where) : rows
}

/** SHOW … WHERE: the condition runs on the scratch connection over the result rows as a VALUES table. */
const applyWhere = (ctx: EngineContext, result: Rows, where: string): Rows => {
  if (result.rows.length === 0) return result
  const names = result.columns.map((c) => quoteIdent(c.name)).join(", ")
  const tuple = `(?${", ?".repeat(result.columns.length)})`
  const sql = `WITH r("__row", ${names}) AS (VALUES ${result.rows.map(() => tuple).join(", ")}) SELECT "__row" FROM r WHERE ${where}`
  let keep: Array<unknown>
  try {
    keep = ctx.scratch.db.prepare(sql).pluck().all(...result.rows.flatMap((row, i) => [i, ...row]))
  } catch (e) {
    const column = /^no such column: "?([^"\s]+)/.exec(e instanceof Error ? e.message : "")
    throw column !== null ? Errors.unknownColumn(column[1]!, "where clause") : fromSqlite(e, "")
  }
  return { ...result, rows: keep.map((i) => result.rows[Number(i)]!) }
}

const showRows = (ctx: EngineContext, session: Session, show: ShowStatement): Rows => {
  switch (show.what) {
    case "databases":
      return resultOf(["Database"], filter(["information_schema", ...ctx.storage.list()], show.like).map((d) => [d]))
    case "tables": {
      const db = show.database ?? session.database
      if (db === undefined) throw Errors.noDatabaseSelected()
      const tables = isInformationSchema(db) ? informationSchemaTables().map((name) => ({ name, type: "view" })) : userTables(ctx, db)
      const names = new Set(filter(tables.map((t) => t.name), show.like))
      const kept = tables.filter((t) => names.has(t.name))
      const label = `Tables_in_${db}` + (show.like === undefined ? "" : ` (${show.like})`)
      return show.full
        ? resultOf([label, "Table_type"], kept.map((t) => [t.name, t.type === "view" ? "VIEW" : "BASE TABLE"]))
        : resultOf([label], kept.map((t) => [t.name]))
    }
    case "variables": {
      const names = new Set([...globalDefaults.keys(), ...ctx.globals.keys(), ...(show.scope === "session" ? session.variables.keys() : [])])
      const sorted = filter([...names].sort(), show.like)
      return resultOf(["Variable_name", "Value"], sorted.map((n) => [n, stringify(sysVar(ctx, session, n, show.scope))]))
    }
    case "status":
    {
      const values = new Map([["Ssl_cipher", session.tls?.cipher ?? ""], ["Ssl_version", session.tls?.version ?? ""], ["Threads_connected", "0"], ["Uptime", "0"]])
      return resultOf(["Variable_name", "Value"], filter([...values.keys()], show.like).map((n) => [n, values.get(n)!]))
    }
    case "warnings":
    case "errors": {
      const list = show.what === "errors" ? session.warnings.filter((w) => w.level === "Error") : session.warnings
      return resultOf(["Level", "Code", "Message"], list.map((w) => [w.level, BigInt(w.code), w.message]))
    }
    case "columns": {
      const { info } = tableOf(ctx, session, show.table)
      const like = show.like === undefined ? undefined : likeToRegExp(show.like)
      const rows = info.columns
        .filter((c) => like === undefined || like.test(c.name))
        .map((c) => {
          const key = c.primaryKey ? "PRI" : c.unique ? "UNI" : c.multipleKey ? "MUL" : ""
          const dflt = c.autoIncrement ? null : unquoteDefault(c.defaultValue)
          const extra = c.autoIncrement ? "auto_increment" : /^current_timestamp(\(\))?$/i.test(dflt ?? "") ? "DEFAULT_GENERATED" : ""
          const base = [c.name, mysqlTypeName(c.declared)]
          const rest = [c.notNull ? "NO" : "YES", key, dflt === null ? null : /^current_timestamp/i.test(dflt) ? "CURRENT_TIMESTAMP" : dflt, extra]
          return show.full ? [...base, collationName(c), ...rest, "select,insert,update,references", ""] : [...base, ...rest]
        })
      const names = show.full
        ? ["Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"]
        : ["Field", "Type", "Null", "Key", "Default", "Extra"]
      return resultOf(names, rows)
    }
    case "index": {
      const { handle, info } = tableOf(ctx, session, show.table)
      return resultOf(INDEX_COLUMNS, indexRows(handle.reader, show.table.table, info))
    }
    case "table_status": {
      const db = show.database ?? session.database
      if (db === undefined) throw Errors.noDatabaseSelected()
      const handle = requireDatabase(ctx, db)
      const tables = userTables(ctx, db)
      const names = new Set(filter(tables.map((t) => t.name), show.like))
      return resultOf(TABLE_STATUS_COLUMNS, tables.filter((t) => names.has(t.name)).map((t) => tableStatusRow(handle.reader, t)))
    }
    case "create_table": {
      const handle = requireDatabase(ctx, show.table.database ?? session.database)
      const row = handle.reader.prepare("SELECT sql, type, name FROM sqlite_schema WHERE name = ? AND type IN ('table','view')").stmt.all(show.table.table) as Array<Array<string>>
      if (row.length === 0) throw Errors.noSuchTable(handle.name, show.table.table)
      const [sql, type, name] = row[0]!
      if (show.view === true && type !== "view") {
        throw new MysqlError({ code: 1347, sqlState: "HY000", message: `'${handle.name}.${name}' is not VIEW` })
      }
      if (type === "view") {
        const body = sql!.replace(/^CREATE\s+VIEW\s+\S+\s+AS\s+/i, "")
        return resultOf(
          ["View", "Create View", "character_set_client", "collation_connection"],
          [[name, `CREATE ALGORITHM=UNDEFINED DEFINER=\`root\`@\`%\` SQL SECURITY DEFINER VIEW ${bq(name!)} AS ${body}`, "utf8mb4", "utf8mb4_general_ci"]]
        )
      }
      return resultOf(["Table", "Create Table"], [[name, mysqlCreateTable(handle.reader, readTableInfo(handle.reader, "main", name!)!)]])
    }
    case "create_database": {
      if (ctx.storage.get(show.name) === undefined) throw Errors.unknownDatabase(show.name)
      return resultOf(["Database", "Create Database"], [[show.name, `CREATE DATABASE \`${show.name}\` /*!40100 DEFAULT CHARACTER SET utf8mb4 */`]])
    }
    case "engines":
      return resultOf(["Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"], [ENGINE_ROW])
    case "charset":
      return resultOf(["Charset", "Description", "Default collation", "Maxlen"], filter(["utf8mb4"], show.like).map((c) => [c, "UTF-8 Unicode", "utf8mb4_general_ci", 4n]))
    case "collation":
      return resultOf(["Collation", "Charset", "Id", "Default", "Compiled", "Sortlen"], filter(["utf8mb4_general_ci", "utf8mb4_bin"], show.like).map((c) => [c, "utf8mb4", c.endsWith("_bin") ? 46n : 45n, c.endsWith("_ci") ? "Yes" : "", "Yes", 1n]))
    case "processlist":
      return resultOf(["Id", "User", "Host", "db", "Command", "Time", "State", "Info"], [[BigInt(session.id), session.user, session.host, session.database ?? null, "Query", 0n, "", "SHOW PROCESSLIST"]])
    case "empty":
      return resultOf(EMPTY_COLUMNS[show.kind] ?? ["Name"], [])
    case "plugins":
      return resultOf(["Name", "Status", "Type", "Library", "License"], [
        ["mysql_native_password", "ACTIVE", "AUTHENTICATION", null, "GPL"],
        ["caching_sha2_password", "ACTIVE", "AUTHENTICATION", null, "GPL"],
        ["InnoDB", "ACTIVE", "STORAGE ENGINE", null, "GPL"]
      ])
    case "grants":
      return resultOf([`Grants for ${session.user}@%`], [[`GRANT ALL PRIVILEGES ON *.* TO \`${session.user}\`@\`%\``]])
  }
}

const ROUTINE_STATUS = ["Db", "Name", "Type", "Definer", "Modified", "Created", "Security_type", "Comment", "character_set_client", "collation_connection", "Database Collation"]
const EMPTY_COLUMNS: Record<string, ReadonlyArray<string>> = {
  TRIGGERS: ["Trigger", "Event", "Table", "Statement", "Timing", "Created", "sql_mode", "Definer", "character_set_client", "collation_connection", "Database Collation"],
  EVENTS: [
    "Db", "Name", "Definer", "Time zone", "Type", "Execute at", "Interval value", "Interval field", "Starts", "Ends", "Status", "Originator",
    "character_set_client", "collation_connection", "Database Collation"
  ],
  "OPEN TABLES": ["Database", "Table", "In_use", "Name_locked"],
  "FUNCTION STATUS": ROUTINE_STATUS,
  "PROCEDURE STATUS": ROUTINE_STATUS,
  "MASTER STATUS": ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"],
  "REPLICA STATUS": ["Replica_IO_State", "Source_Host", "Source_User", "Source_Port", "Connect_Retry", "Source_Log_File", "Read_Source_Log_Pos", "Replica_IO_Running", "Replica_SQL_Running"],
  PRIVILEGES: ["Privilege", "Context", "Comment"]
}

const stringify = (v: unknown): string => (v === null || v === undefined ? "" : String(v))

const unquoteDefault = (d: string | null): string | null => {
  if (d === null) return null
  const m = d.match(/^'(.*)'$/s)
  return m ? m[1]!.replace(/''/g, "'") : d
}

const tableOf = (ctx: EngineContext, session: Session, ref: TableRef) => {
  const handle = requireDatabase(ctx, ref.database ?? session.database)
  const info = readTableInfo(handle.reader, "main", ref.table)
  if (info === undefined) throw Errors.noSuchTable(handle.name, ref.table)
  return { handle, info }
}

/** Text columns: NOCASE is reported as the server's default collation, anything else as binary. */
export const collationName = (c: ColumnInfo): string | null =>
  !isTextType(c.declared) ? null : c.collation === "NOCASE" ? "utf8mb4_general_ci" : "utf8mb4_bin"

const INDEX_COLUMNS = [
  "Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name", "Collation", "Cardinality", "Sub_part", "Packed", "Null",
  "Index_type", "Comment", "Index_comment", "Visible", "Expression"
]

/**
 * MySQL's name of a SQLite index of `table`: the translator stores `<table>__<name>` (SQLite index
 * names are per schema); after RENAME TABLE the prefix is the old table's. An automatic index of a
 * UNIQUE constraint is named after its first column, as MySQL names an unnamed key.
 */
export const mysqlIndexName = (table: string, index: string, origin: string, firstColumn: string | undefined): string => {
  if (origin === "u" && index.startsWith("sqlite_autoindex_")) return firstColumn ?? index
  const prefix = `${table.toLowerCase()}__`
  if (index.toLowerCase().startsWith(prefix)) return index.slice(prefix.length)
  const at = index.indexOf("__")
  return at > 0 ? index.slice(at + 2) : index
}

/** SHOW INDEX rows: PRIMARY first (from the table's primary key), then unique and other indexes in creation order. */
export const indexRows = (conn: SqliteConnection, table: string, info: TableInfo): Array<Array<unknown>> => {
  const t = quoteIdent(table)
  const rows: Array<Array<unknown>> = []
  const nullable = (column: string | null) => (column !== null && info.byName.get(column.toLowerCase())?.notNull === false ? "YES" : "")
  const push = (key: string, nonUnique: boolean, seq: number, column: string | null) =>
    rows.push([info.name, nonUnique ? 1n : 0n, key, BigInt(seq), column, "A", 0n, null, null, nullable(column), "BTREE", "", "", "YES", null])
  const cols = conn.db.prepare(`PRAGMA main.table_info(${t})`).all() as Array<{ name: string; pk: bigint | number }>
  cols.filter((c) => Number(c.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk)).forEach((c, i) => push("PRIMARY", false, i + 1, c.name))
  const order = conn.db.prepare("SELECT name FROM main.sqlite_schema WHERE type = 'index' AND tbl_name = ? ORDER BY rowid").pluck().all(table) as Array<string>
  const list = (conn.db.prepare(`PRAGMA main.index_list(${t})`).all() as Array<{ name: string; unique: bigint | number; origin: string }>)
    .filter((i) => i.origin !== "pk")
    .sort((a, b) => Number(b.unique) - Number(a.unique) || order.indexOf(a.name) - order.indexOf(b.name))
  for (const index of list) {
    const parts = conn.db.prepare(`PRAGMA main.index_info(${quoteIdent(index.name)})`).all() as Array<{ seqno: bigint | number; name: string | null }>
    const key = mysqlIndexName(table, index.name, index.origin, parts[0]?.name ?? undefined)
    parts.forEach((p, i) => push(key, Number(index.unique) === 0, i + 1, p.name))
  }
  return rows
}

const TABLE_STATUS_COLUMNS = [
  "Name", "Engine", "Version", "Row_format", "Rows", "Avg_row_length", "Data_length", "Max_data_length", "Index_length", "Data_free",
  "Auto_increment", "Create_time", "Update_time", "Check_time", "Collation", "Checksum", "Create_options", "Comment"
]

/**
 * One SHOW TABLE STATUS row: exact row count, the next AUTO_INCREMENT id, and the bytes of the table's
 * and its indexes' pages (from dbstat, only for database files up to 100 MB: it reads every page).
 */
export const tableStatusRow = (conn: SqliteConnection, t: { name: string; type: string }): Array<unknown> => {
  if (t.type === "view") return [t.name, ...Array<null>(16).fill(null), "VIEW"]
  const rows = conn.db.prepare(`SELECT count(*) FROM main.${quoteIdent(t.name)}`).pluck().get() as bigint | number
  const info = readTableInfo(conn, "main", t.name)
  const next = info === undefined ? null : nextAutoIncrement(conn, info)
  let data = 0n
  let index = 0n
  const pages = conn.db.prepare("PRAGMA main.page_count").pluck().get() as bigint | number
  if (Number(pages) <= 25_600) {
    const size = conn.db.prepare("SELECT coalesce(sum(pgsize), 0) FROM dbstat('main') WHERE name = ?").pluck()
    data = BigInt(size.get(t.name) as bigint | number)
    for (const i of conn.db.prepare("SELECT name FROM main.sqlite_schema WHERE type = 'index' AND tbl_name = ?").pluck().all(t.name) as Array<string>) {
      index += BigInt(size.get(i) as bigint | number)
    }
  }
  const count = BigInt(rows)
  const average = count > 0n ? data / count : 0n
  return [t.name, "InnoDB", 10n, "Dynamic", count, average, data, 0n, index, 0n, next, null, null, null, "utf8mb4_general_ci", null, "", ""]
}

/** The id the next AUTO_INCREMENT insert gets (after the highest ever used), null without such a column. */
const nextAutoIncrement = (conn: SqliteConnection, info: TableInfo): bigint | null => {
  if (info.autoIncrement === undefined) return null
  const hasSequence = conn.db.prepare("SELECT 1 FROM main.sqlite_schema WHERE name = 'sqlite_sequence'").pluck().get() !== undefined
  const seq = hasSequence ? conn.db.prepare("SELECT seq FROM main.sqlite_sequence WHERE name = ?").pluck().get(info.name) as bigint | number | undefined : undefined
  const max = conn.db.prepare(`SELECT max(rowid) FROM main.${quoteIdent(info.name)}`).pluck().get() as bigint | number | null
  const a = BigInt(seq ?? 0)
  const b = BigInt(max ?? 0)
  return (a > b ? a : b) + 1n
}

const bq = (name: string) => "`" + name.replace(/`/g, "``") + "`"

/** A SQLite column default as MySQL prints it: numbers quoted, CURRENT_TIMESTAMP and NULL bare. */
const mysqlDefault = (d: string): string => {
  if (/^'.*'$/s.test(d) || /^(NULL|CURRENT_TIMESTAMP(\(\))?)$/i.test(d)) return d.toUpperCase() === "CURRENT_TIMESTAMP()" ? "CURRENT_TIMESTAMP" : d
  if (/^[-+]?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(d)) return `'${d.replace(/^\+/, "")}'`
  return `(${d.replace(/^\((.*)\)$/s, "$1")})`
}

/** SHOW CREATE TABLE in MySQL's syntax, rebuilt from the SQLite schema (so dumps load into MySQL). */
export const mysqlCreateTable = (conn: SqliteConnection, info: TableInfo): string => {
  const lines = info.columns.map((c) => {
    const type = mysqlTypeName(c.declared)
    let def = `  ${bq(c.name)} ${type}`
    if (isTextType(c.declared) && c.collation !== "NOCASE") def += " COLLATE utf8mb4_bin"
    if (c.notNull) def += " NOT NULL"
    if (c.autoIncrement) def += " AUTO_INCREMENT"
    else if (c.defaultValue !== null) def += ` DEFAULT ${mysqlDefault(c.defaultValue)}`
    else if (!c.notNull && !/blob|text|json|geometry/.test(type)) def += " DEFAULT NULL"
    return def
  })
  const keys = new Map<string, { unique: boolean; columns: Array<string> }>()
  for (const r of indexRows(conn, info.name, info)) {
    const name = r[2] as string
    const key = keys.get(name) ?? { unique: r[1] === 0n, columns: [] }
    key.columns.push(bq(String(r[4])))
    keys.set(name, key)
  }
  for (const [name, key] of keys) {
    const columns = `(${key.columns.join(",")})`
    lines.push(name === "PRIMARY" ? `  PRIMARY KEY ${columns}` : `  ${key.unique ? "UNIQUE " : ""}KEY ${bq(name)} ${columns}`)
  }
  for (const fk of foreignKeys(conn, info.name)) {
    let def = `  CONSTRAINT ${bq(fk.name)} FOREIGN KEY (${fk.columns.map(bq).join(", ")}) REFERENCES ${bq(fk.refTable)} (${fk.refColumns.map(bq).join(", ")})`
    if (fk.onDelete !== "NO ACTION") def += ` ON DELETE ${fk.onDelete}`
    if (fk.onUpdate !== "NO ACTION") def += ` ON UPDATE ${fk.onUpdate}`
    lines.push(def)
  }
  const next = nextAutoIncrement(conn, info)
  const autoIncrement = next !== null && next > 1n ? ` AUTO_INCREMENT=${next}` : ""
  return `CREATE TABLE ${bq(info.name)} (\n${lines.join(",\n")}\n) ENGINE=InnoDB${autoIncrement} DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`
}

export const ENGINE_ROW = ["InnoDB", "DEFAULT", "SQLite through marmot-ts (reported as InnoDB)", "YES", "NO", "YES"]

export interface ForeignKey {
  readonly name: string
  readonly columns: ReadonlyArray<string>
  readonly refTable: string
  readonly refColumns: ReadonlyArray<string>
  readonly onDelete: string
  readonly onUpdate: string
}

/** The table's foreign keys in declaration order, by their CONSTRAINT name, else `<table>_ibfk_<n>` as MySQL names unnamed ones. */
export const foreignKeys = (conn: SqliteConnection, table: string): Array<ForeignKey> => {
  const rows = conn.db.prepare(`PRAGMA main.foreign_key_list(${quoteIdent(table)})`).all() as Array<
    { id: bigint | number; table: string; from: string; to: string | null; on_update: string; on_delete: string }
  >
  const byId = new Map<number, typeof rows>()
  for (const r of rows) byId.set(Number(r.id), [...(byId.get(Number(r.id)) ?? []), r])
  const createSql = (conn.db.prepare("SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(table) ?? "") as string
  const declared = foreignKeyNames(createSql)
  let unnamed = 0
  return [...byId.entries()].sort((a, b) => b[0] - a[0]).map(([, parts], i) => ({
    name: (declared.length === byId.size ? declared[i] : undefined) ?? `${table}_ibfk_${++unnamed}`,
    columns: parts.map((p) => p.from),
    refTable: parts[0]!.table,
    refColumns: parts.map((p) => p.to ?? ""),
    onDelete: parts[0]!.on_delete,
    onUpdate: parts[0]!.on_update
  }))
}
