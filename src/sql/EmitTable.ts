/**
 * CREATE TABLE column and constraint definitions → SQLite, and index statements.
 *
 * Index naming: SQLite index names are per schema, MySQL's per table, so the SQLite index for
 * MySQL index `i` on table `t` is named `t__i` (unnamed keys take their first column's name,
 * as MySQL does). DROP INDEX i ON t / ALTER TABLE t DROP INDEX i find it again by that name.
 */
import { collationOf, mapType } from "./DdlTypes.ts"
import { emitExpr, nameOf, type N } from "./EmitExpr.ts"
import { Out, quoteId, Unsupported } from "./Out.ts"
import type { Sqlite, TableRef } from "./Statement.ts"

export const indexName = (table: string, index: string): string => `${table}__${index}`

/** `"db"."name"` for schema objects named after a table (indexes), else `"name"`. */
export const qualified = (db: string | undefined, name: string): string =>
  db !== undefined ? quoteId(db) + "." + quoteId(name) : quoteId(name)

export interface IndexDef {
  readonly name: string
  readonly unique: boolean
  readonly columns: ReadonlyArray<string>
}

/** Index column names with prefix lengths dropped: `c(191)` parses as a column with a suffix or as a call. */
export const indexColumns = (defs: ReadonlyArray<N>): Array<string> =>
  defs.map((d) => {
    if (d?.type === "function") return nameOf(d.name?.name?.[0]) + (d.order_by === "desc" ? " DESC" : "")
    const col = nameOf(d?.column ?? d?.expr?.column ?? d)
    const desc = String(d?.order_by ?? d?.order ?? "").toLowerCase() === "desc"
    return col + (desc ? " DESC" : "")
  })

const colList = (cols: ReadonlyArray<string>): string =>
  cols.map((c) => (c.endsWith(" DESC") ? quoteId(c.slice(0, -5)) + " DESC" : quoteId(c))).join(", ")

export const createIndexSql = (t: TableRef, ix: IndexDef, ifNotExists: boolean): Sqlite => ({
  sql: `CREATE ${ix.unique ? "UNIQUE " : ""}INDEX ${ifNotExists ? "IF NOT EXISTS " : ""}` +
    `${qualified(t.database, indexName(t.table, ix.name))} ON ${quoteId(t.table)} (${colList(ix.columns)})`,
  args: []
})

/** An expression written with inlined literals (DEFAULT, CHECK, GENERATED). */
const inlineExpr = (e: N): string => {
  const o = new Out("inline")
  emitExpr(o, e)
  return o.sql
}

export const defaultSql = (v: N): string => {
  if (v?.type === "function") {
    const fn = nameOf(v.name?.name?.[0]).toUpperCase()
    if (fn === "CURRENT_TIMESTAMP" || fn === "NOW" || fn === "LOCALTIMESTAMP" || fn === "LOCALTIME") return "CURRENT_TIMESTAMP"
    if (fn === "CURRENT_DATE" || fn === "CURDATE") return "CURRENT_DATE"
    if (fn === "CURRENT_TIME" || fn === "CURTIME") return "CURRENT_TIME"
  }
  const text = inlineExpr(v)
  return /^(-?[0-9.e+-]+|'.*'|NULL|X'[0-9a-f]*'|[01])$/is.test(text) ? text : `(${text})`
}

const refSql = (r: N): string => {
  const t = Array.isArray(r.table) ? r.table[0] : r.table
  let s = ` REFERENCES ${quoteId(nameOf(t?.table ?? t))}`
  const cols: Array<N> = r.definition ?? []
  if (cols.length > 0) s += ` (${cols.map((c) => quoteId(nameOf(c.column ?? c))).join(", ")})`
  for (const a of (r.on_action ?? []) as Array<N>) {
    const action = String(a.value?.value ?? a.value ?? "").toUpperCase()
    s += ` ${String(a.type).toUpperCase()} ${action}`
  }
  return s
}

export interface TableBody {
  readonly body: string
  readonly indexes: ReadonlyArray<IndexDef>
}

/** The column list of CREATE TABLE plus the indexes to create after it. */
/** ENUM/SET become TEXT; their MySQL type rides along in a comment for metadata: TEXT /*mysql:enum('a','b')*\/. */
const enumComment = (d: N): string => {
  const base = String(d?.dataType ?? "").toLowerCase()
  if (base !== "enum" && base !== "set") return ""
  const values: Array<N> = Array.isArray(d?.expr?.value) ? d.expr.value : []
  return ` /*mysql:${base}(${values.map((v) => `'${String(v?.value ?? "")}'`).join(",")})*/`.replace(/\*\/(?=.)/g, "")
}

export const tableBody = (defs: ReadonlyArray<N>, tableCollation: string | undefined): TableBody => {
  const columns = defs.filter((d) => d.resource === "column")
  const pkConstraint = defs.find((d) => d.resource === "constraint" && String(d.constraint_type).toLowerCase() === "primary key")
  const pkCols = pkConstraint !== undefined ? indexColumns(pkConstraint.definition) : columns.filter((c) => c.primary_key).map((c) => nameOf(c.column.column))
  const ai = columns.find((c) => c.auto_increment !== undefined || mapType(c.definition).serial)
  const aiName = ai !== undefined ? nameOf(ai.column.column) : undefined
  // AUTO_INCREMENT folds into a rowid alias when it is the whole primary key, or when there is none
  const rowid = ai !== undefined && mapType(ai.definition).integer &&
    ((pkCols.length === 1 && pkCols[0] === aiName) || pkCols.length === 0)
  const parts: Array<string> = []
  const indexes: Array<IndexDef> = []
  const usedNames = new Set<string>()
  const addIndex = (name: string | undefined, unique: boolean, cols: Array<string>): void => {
    let n = name ?? (cols[0] ?? "idx").replace(/ DESC$/, "")
    if (name === undefined) for (let k = 2; usedNames.has(n.toLowerCase()); k++) n = `${cols[0]}_${k}`
    usedNames.add(n.toLowerCase())
    indexes.push({ name: n, unique, columns: cols })
  }
  for (const c of columns) {
    const name = nameOf(c.column.column)
    const t = mapType(c.definition)
    if (rowid && name === aiName) {
      // A rowid alias must be declared exactly INTEGER; the MySQL type rides along in a comment
      // (SQLite keeps the CREATE text) for metadata. AUTOINCREMENT: ids of deleted rows are never reused.
      // Generated ids are 53 or 64 bits wide (auto_id_mode), so the column is BIGINT whatever its MySQL width.
      const widened = t.serial || t.sql.includes("UNSIGNED") ? "BIGINT UNSIGNED" : "BIGINT"
      parts.push(`${quoteId(name)} INTEGER /*mysql:${widened}*/ PRIMARY KEY AUTOINCREMENT${c.nullable?.type === "not null" || t.serial ? " NOT NULL" : ""}`)
      continue
    }
    let s = `${quoteId(name)} ${t.sql}${enumComment(c.definition)}`
    if (c.primary_key && pkConstraint === undefined && pkCols.length === 1) s += " PRIMARY KEY"
    if (c.nullable?.type === "not null" || t.serial) s += " NOT NULL"
    if (c.default_val?.value !== undefined) s += " DEFAULT " + defaultSql(c.default_val.value)
    if (t.text) {
      const coll = c.collate?.collate?.name ?? c.collate?.value
      const binary = Array.isArray(c.definition?.suffix) && c.definition.suffix.some((x: N) => String(x).toUpperCase() === "BINARY")
      const cs = nameOf(c.character_set?.value).toLowerCase()
      s += " COLLATE " + (binary || cs === "binary" ? "BINARY" : collationOf(String(coll ?? tableCollation ?? "_ci")))
    }
    if (c.check) s += ` CHECK (${inlineExpr(c.check.definition?.[0] ?? c.check)})`
    if (c.reference_definition) s += refSql(c.reference_definition)
    if (c.generated) {
      const g = c.generated
      s += ` GENERATED ALWAYS AS (${inlineExpr(g.expr)})${String(g.storage_type ?? "").toLowerCase() === "stored" ? " STORED" : " VIRTUAL"}`
    }
    parts.push(s)
    if (c.unique !== undefined && !t.serial) addIndex(name, true, [name])
  }
  if (pkCols.length > 1 || (pkConstraint !== undefined && !rowid)) parts.push(`PRIMARY KEY (${colList(pkCols)})`)
  for (const d of defs) {
    if (d.resource === "index") {
      const kw = String(d.keyword ?? "").toLowerCase()
      if (kw.startsWith("spatial")) continue
      addIndex(d.index ?? undefined, false, indexColumns(d.definition))
    } else if (d.resource === "constraint") {
      const ct = String(d.constraint_type).toLowerCase()
      if (ct === "primary key") continue
      if (ct.startsWith("unique")) addIndex(d.index ?? d.constraint ?? undefined, true, indexColumns(d.definition))
      else if (ct === "foreign key") {
        const name = d.constraint ? `CONSTRAINT ${quoteId(String(d.constraint))} ` : ""
        parts.push(`${name}FOREIGN KEY (${colList(indexColumns(d.definition))})${refSql(d.reference_definition)}`)
      } else if (ct === "check") {
        parts.push(`CHECK (${inlineExpr(d.definition[0])})`)
      } else throw new Unsupported(`${ct} constraint`)
    }
  }
  return { body: parts.join(", "), indexes }
}

/** The table-level default collation from CREATE TABLE options, if any. */
export const tableCollation = (options: ReadonlyArray<N> | null | undefined): string | undefined => {
  for (const o of options ?? []) {
    const kw = String(o.keyword ?? "").toLowerCase()
    if (kw.includes("collate")) return nameOf(o.value)
    if (kw.includes("character set") || kw.includes("charset")) {
      if (nameOf(o.value).toLowerCase() === "binary") return "binary"
    }
  }
  return undefined
}
