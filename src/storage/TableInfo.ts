import { quoteIdent, type SqliteConnection } from "./SqliteConnection.ts"

/** What MySQL metadata needs to know about a column beyond its result-set name. */
export interface ColumnInfo {
  readonly name: string
  /** The declared type as written in CREATE TABLE (the translator keeps MySQL type names). */
  readonly declared: string
  readonly notNull: boolean
  readonly primaryKey: boolean
  /** The only column of a UNIQUE index (MySQL's UNIQUE_KEY flag). */
  readonly unique: boolean
  /** The first column of a non-unique index (MySQL's MULTIPLE_KEY flag). */
  readonly multipleKey: boolean
  readonly autoIncrement: boolean
  readonly defaultValue: string | null
  /** The COLLATE of the column definition (NOCASE, BINARY, RTRIM, upper-cased), undefined without one. */
  readonly collation: string | undefined
}

export interface TableInfo {
  readonly name: string
  readonly columns: ReadonlyArray<ColumnInfo>
  readonly byName: ReadonlyMap<string, ColumnInfo>
  /** The INTEGER PRIMARY KEY column (SQLite's rowid alias) that MySQL's AUTO_INCREMENT maps to. */
  readonly autoIncrement: string | undefined
}

interface PragmaColumn {
  readonly name: string
  readonly type: string
  readonly notnull: bigint | number
  readonly dflt_value: string | null
  readonly pk: bigint | number
}

/**
 * The MySQL type the translator noted after a column's SQLite type, for the rowid alias
 * (`"id" INTEGER /*mysql:BIGINT UNSIGNED*\/`) and ENUM/SET (`"e" TEXT /*mysql:enum('a','b')*\/`).
 */
const mysqlTypeOf = (definition: string | undefined): string | undefined => {
  if (definition === undefined) return undefined
  const m = /^(?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|\S+)\s+\w+(?:\([^)]*\))?\s*\/\*mysql:([\s\S]*?)\*\//.exec(definition)
  return m ? m[1] : undefined
}

/**
 * The column definitions of a CREATE TABLE text, by lower-cased column name (table constraints are
 * skipped). Quotes and parentheses are respected, so `DEFAULT 'a,b'` or `DECIMAL(10,2)` stay whole.
 */
export const columnDefinitions = (createSql: string): Map<string, string> => {
  const out = new Map<string, string>()
  for (const item of topLevelItems(createSql)) {
    const name = columnNameOfItem(item)
    if (name !== undefined) out.set(name.toLowerCase(), item.trim())
  }
  return out
}

/** The column an item of a CREATE TABLE column list defines; undefined for a table constraint. */
export const columnNameOfItem = (item: string): string | undefined => {
  const m = /^\s*(?:"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|\[([^\]]*)\]|([^\s(]+))/.exec(item)
  if (m === null) return undefined
  const name = m[1]?.replace(/""/g, '"') ?? m[2]?.replace(/``/g, "`") ?? m[3] ?? m[4]!
  if (m[4] !== undefined && /^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)$/i.test(name)) return undefined
  return name
}

/** The comma-separated items between the outer parentheses of a CREATE TABLE text. */
const topLevelItems = (createSql: string): Array<string> => splitCreateTable(createSql)?.items ?? []

/**
 * A CREATE TABLE text cut into the text before its column list (up to and including the opening
 * parenthesis), the comma-separated items of the list, and the rest (the closing parenthesis and
 * table options such as WITHOUT ROWID). Quotes, comments and nested parentheses are respected.
 */
export const splitCreateTable = (createSql: string): { head: string; items: Array<string>; tail: string } | undefined => {
  const items: Array<string> = []
  const open = createSql.indexOf("(")
  if (open < 0) return undefined
  let depth = 0
  let start = open + 1
  for (let i = open; i < createSql.length; i++) {
    const ch = createSql[i]!
    if (ch === "'" || ch === '"' || ch === "`") {
      const end = createSql.indexOf(ch, i + 1)
      if (end < 0) break
      i = end // a doubled quote just reopens at the next character: same effect
    } else if (ch === "(") depth++
    else if (ch === ")") {
      depth--
      if (depth === 0) {
        items.push(createSql.slice(start, i))
        return { head: createSql.slice(0, open + 1), items, tail: createSql.slice(i) }
      }
    } else if (ch === "," && depth === 1) {
      items.push(createSql.slice(start, i))
      start = i + 1
    } else if (ch === "/" && createSql[i + 1] === "*") {
      const end = createSql.indexOf("*/", i + 2)
      if (end < 0) break
      i = end + 1
    }
  }
  return undefined
}

/**
 * The names of a table's foreign keys in declaration order (column REFERENCES and table FOREIGN KEY
 * clauses), undefined where the clause has no CONSTRAINT name. SQLite's foreign_key_list numbers
 * them in reverse of this order.
 */
export const foreignKeyNames = (createSql: string): Array<string | undefined> => {
  const out: Array<string | undefined> = []
  for (const item of topLevelItems(createSql)) {
    const text = item.replace(/'(?:[^']|'')*'/g, "''")
    const named = /^\s*CONSTRAINT\s+(?:"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|(\S+))\s+FOREIGN\s+KEY\b/i.exec(text)
    if (named !== null) out.push(named[1]?.replace(/""/g, '"') ?? named[2] ?? named[3])
    else if (/^\s*FOREIGN\s+KEY\b/i.test(text) || /\bREFERENCES\b/i.test(text)) out.push(undefined)
  }
  return out
}

const collationOf = (definition: string | undefined): string | undefined => {
  if (definition === undefined) return undefined
  const m = /\bCOLLATE\s+"?(\w+)"?/i.exec(definition.replace(/'(?:[^']|'')*'/g, "''"))
  return m ? m[1]!.toUpperCase() : undefined
}

/** Reads a table's shape through PRAGMAs on `conn`; undefined when there is no such table. */
export const readTableInfo = (conn: SqliteConnection, schema: string, table: string): TableInfo | undefined => {
  const s = quoteIdent(schema)
  const t = quoteIdent(table)
  const cols = conn.db.prepare(`PRAGMA ${s}.table_info(${t})`).all() as Array<PragmaColumn>
  if (cols.length === 0) return undefined
  const indexes = conn.db.prepare(`PRAGMA ${s}.index_list(${t})`).all() as Array<{ name: string; unique: bigint | number; origin: string }>
  const unique = new Set<string>()
  const multiple = new Set<string>()
  for (const index of indexes) {
    const parts = conn.db.prepare(`PRAGMA ${s}.index_info(${quoteIdent(index.name)})`).all() as Array<{ name: string | null }>
    const first = parts[0]?.name
    if (first === null || first === undefined) continue
    if (Number(index.unique) === 1 && index.origin !== "pk") {
      if (parts.length === 1) unique.add(first)
      else multiple.add(first)
    } else if (Number(index.unique) === 0) multiple.add(first)
  }
  const createSql = (conn.db.prepare(`SELECT sql FROM ${s}.sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(table) ?? "") as string
  const pks = cols.filter((c) => Number(c.pk) > 0)
  const rowidAlias = pks.length === 1 && pks[0]!.type.toUpperCase() === "INTEGER" ? pks[0]!.name : undefined
  const definitions = columnDefinitions(createSql)
  const columns = cols.map((c): ColumnInfo => ({
    name: c.name,
    declared: mysqlTypeOf(definitions.get(c.name.toLowerCase())) ?? c.type,
    notNull: Number(c.notnull) > 0 || Number(c.pk) > 0,
    primaryKey: Number(c.pk) > 0,
    unique: unique.has(c.name),
    multipleKey: multiple.has(c.name) && !unique.has(c.name) && Number(c.pk) === 0,
    autoIncrement: c.name === rowidAlias,
    defaultValue: c.dflt_value,
    collation: collationOf(definitions.get(c.name.toLowerCase()))
  }))
  return {
    name: table,
    columns,
    byName: new Map(columns.map((c) => [c.name.toLowerCase(), c])),
    autoIncrement: rowidAlias
  }
}

/** Table shapes of one database, dropped whenever its schema version moves. */
export class TableInfoCache {
  private version = -1
  private readonly tables = new Map<string, TableInfo | undefined>()

  get(conn: SqliteConnection, schemaVersion: number, table: string): TableInfo | undefined {
    if (schemaVersion !== this.version) {
      this.tables.clear()
      this.version = schemaVersion
    }
    const key = table.toLowerCase()
    if (this.tables.has(key)) return this.tables.get(key)
    const info = readTableInfo(conn, "main", table)
    this.tables.set(key, info)
    return info
  }
}
