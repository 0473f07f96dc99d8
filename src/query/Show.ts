import type { ShowStatement } from "../sql/Statement.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import { columnDef, type ColumnShape, stringShape } from "./ColumnTypes.ts"
import { type EngineContext, requireDatabase, sysVar } from "./Context.ts"
import { Errors } from "./Errors.ts"
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

const userTables = (ctx: EngineContext, db: string): Array<{ name: string; type: string }> => {
  const handle = requireDatabase(ctx, db)
  const rows = handle.reader.prepare(
    "SELECT name, type FROM sqlite_schema WHERE type IN ('table','view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_marmot%' ESCAPE '\\' ORDER BY name"
  ).stmt.all() as Array<Array<string>>
  return rows.map(([name, type]) => ({ name: name!, type: type! }))
}

export const runShow = (ctx: EngineContext, session: Session, show: ShowStatement): Rows => {
  switch (show.what) {
    case "databases":
      return resultOf(["Database"], filter(["information_schema", ...ctx.storage.list()], show.like).map((d) => [d]))
    case "tables": {
      const db = show.database ?? session.database
      if (db === undefined) throw Errors.noDatabaseSelected()
      const tables = userTables(ctx, db)
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
      return resultOf(["Variable_name", "Value"], filter(["Threads_connected", "Uptime"], show.like).map((n) => [n, "0"]))
    case "warnings":
    case "errors": {
      const list = show.what === "errors" ? session.warnings.filter((w) => w.level === "Error") : session.warnings
      return resultOf(["Level", "Code", "Message"], list.map((w) => [w.level, BigInt(w.code), w.message]))
    }
    case "columns": {
      const db = show.table.database ?? session.database
      const handle = requireDatabase(ctx, db)
      const info = handle.reader.db.pragma(`table_info(${quoteIdent(show.table.table)})`) as Array<
        { name: string; type: string; notnull: bigint; dflt_value: string | null; pk: bigint }
      >
      if (info.length === 0) throw Errors.noSuchTable(handle.name, show.table.table)
      const rows = info
        .filter((c) => show.like === undefined || likeToRegExp(show.like).test(c.name))
        .map((c) => {
          const key = c.pk > 0n ? "PRI" : ""
          const base = [c.name, c.type.toLowerCase() || "blob"]
          const rest = [c.notnull > 0n || c.pk > 0n ? "NO" : "YES", key, unquoteDefault(c.dflt_value), key === "PRI" && c.type.toUpperCase() === "INTEGER" ? "auto_increment" : ""]
          return show.full ? [...base, null, ...rest, "select,insert,update,references", ""] : [...base, ...rest]
        })
      const names = show.full
        ? ["Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"]
        : ["Field", "Type", "Null", "Key", "Default", "Extra"]
      return resultOf(names, rows)
    }
    case "create_table": {
      const handle = requireDatabase(ctx, show.table.database ?? session.database)
      const row = handle.reader.prepare("SELECT sql FROM sqlite_schema WHERE name = ? AND type IN ('table','view')").stmt.all(show.table.table) as Array<Array<string>>
      if (row.length === 0) throw Errors.noSuchTable(handle.name, show.table.table)
      return resultOf(["Table", "Create Table"], [[show.table.table, row[0]![0]!]])
    }
    case "create_database": {
      if (ctx.storage.get(show.name) === undefined) throw Errors.unknownDatabase(show.name)
      return resultOf(["Database", "Create Database"], [[show.name, `CREATE DATABASE \`${show.name}\` /*!40100 DEFAULT CHARACTER SET utf8mb4 */`]])
    }
    case "engines":
      return resultOf(["Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"], [["SQLite", "DEFAULT", "SQLite through marmot-ts", "YES", "NO", "YES"]])
    case "charset":
      return resultOf(["Charset", "Description", "Default collation", "Maxlen"], filter(["utf8mb4"], show.like).map((c) => [c, "UTF-8 Unicode", "utf8mb4_general_ci", 4n]))
    case "collation":
      return resultOf(["Collation", "Charset", "Id", "Default", "Compiled", "Sortlen"], filter(["utf8mb4_general_ci", "utf8mb4_bin"], show.like).map((c) => [c, "utf8mb4", c.endsWith("_bin") ? 46n : 45n, c.endsWith("_ci") ? "Yes" : "", "Yes", 1n]))
    case "processlist":
      return resultOf(["Id", "User", "Host", "db", "Command", "Time", "State", "Info"], [[BigInt(session.id), session.user, session.host, session.database ?? null, "Query", 0n, "", "SHOW PROCESSLIST"]])
    case "grants":
      return resultOf([`Grants for ${session.user}@%`], [[`GRANT ALL PRIVILEGES ON *.* TO \`${session.user}\`@\`%\``]])
    case "index":
    case "table_status":
      throw Errors.notSupported(`SHOW ${show.what === "index" ? "INDEX" : "TABLE STATUS"}`)
  }
}

const stringify = (v: unknown): string => (v === null || v === undefined ? "" : String(v))

const unquoteDefault = (d: string | null): string | null => {
  if (d === null) return null
  const m = d.match(/^'(.*)'$/s)
  return m ? m[1]!.replace(/''/g, "'") : d
}
