/**
 * DDL → SQLite: CREATE TABLE [IF NOT EXISTS] (… LIKE, … AS SELECT), ALTER TABLE, DROP TABLE,
 * RENAME TABLE, CREATE/DROP INDEX, CREATE/DROP VIEW, DROP TRIGGER, TRUNCATE.
 * Literals are written inline (SQLite cannot bind parameters in DDL).
 */
import type { N } from "./EmitExpr.ts"
import { nameOf } from "./EmitExpr.ts"
import { mapType } from "./DdlTypes.ts"
import { emitSelect } from "./EmitSelect.ts"
import { createIndexSql, defaultSql, indexColumns, indexName, qualified, tableBody, tableCollation } from "./EmitTable.ts"
import { lex, type Token } from "./Lexer.ts"
import { normalize } from "./Normalize.ts"
import { Out, quoteId, SyntaxErr, Unsupported } from "./Out.ts"
import { parseOne } from "./Parse.ts"
import type { DdlOp, DdlStep, Sqlite, Statement, TableRef } from "./Statement.ts"

const ref = (x: N): TableRef => ({
  database: x?.db === null || x?.db === undefined || x?.db === "" ? undefined : nameOf(x.db),
  table: nameOf(x?.table ?? x)
})
const tname = (t: TableRef): string => qualified(t.database, t.table)
const raw = (sql: string): Sqlite => ({ sql, args: [] })

const ddl = (op: DdlOp, target: TableRef, statements: Array<DdlStep>, tables: Array<TableRef> = [target]): Statement =>
  ({ kind: "ddl", op, statements, target, tables })

const TABLE_OPTION_WORDS = new Set([
  "ENGINE", "CONVERT", "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "ROW_FORMAT", "AUTO_INCREMENT", "COMMENT",
  "ALGORITHM", "LOCK", "FORCE", "STATS_PERSISTENT", "KEY_BLOCK_SIZE", "PACK_KEYS", "CHECKSUM", "DELAY_KEY_WRITE",
  "DISABLE", "ENABLE"
])

/** Token-level fixes for DDL node-sql-parser does not accept. */
const rewrite = (src: string, toks: ReadonlyArray<Token>): string => {
  const parts: Array<string> = []
  let pos = 0
  let depth = 0
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!
    if (t.k === "(") depth++
    else if (t.k === ")") depth--
    if (t.k !== "word") continue
    const prev = toks[i - 1]
    if (depth === 0 && t.u === "PARTITION" && toks[i + 1]?.u === "BY" && toks[0]?.u === "CREATE") {
      // partitioning (mysqldump writes it in /*!50100 … */): no SQLite equivalent, dropped
      parts.push(src.slice(pos, t.s))
      pos = src.length
      break
    }
    if ((t.u === "TEMPORARY" && prev?.u === "DROP") || ((t.u === "CASCADE" || t.u === "RESTRICT") && i === toks.length - 1 && toks[0]?.u === "DROP")) {
      parts.push(src.slice(pos, t.s))
      pos = t.e
      continue
    }
    if (t.u === "IF" && prev?.u === "INDEX" && toks[0]?.u === "CREATE" && toks[i + 1]?.u === "NOT" && toks[i + 2]?.u === "EXISTS") {
      // MariaDB's CREATE INDEX IF NOT EXISTS: the parser lacks it; the flag is re-read from the tokens
      parts.push(src.slice(pos, t.s))
      pos = toks[i + 2]!.e
      i += 2
      continue
    }
    if (t.u === "NATIONAL" && (toks[i + 1]?.u === "CHAR" || toks[i + 1]?.u === "VARCHAR" || toks[i + 1]?.u === "CHARACTER")) {
      parts.push(src.slice(pos, t.s))
      pos = t.e
      continue
    }
    if (t.u === "SERIAL" && prev !== undefined && (prev.k === "word" || prev.k === "ident")) {
      parts.push(src.slice(pos, t.s), "BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE")
      pos = t.e
    } else if (t.u === "BINARY" && prev !== undefined && (prev.k === ")" || prev.k === "word") && toks[i + 1]?.k !== "(" &&
      prev.u !== "SET" && prev.u !== "CHARSET") {
      // VARCHAR(10) BINARY: the binary collation of the column's charset
      parts.push(src.slice(pos, t.s), "COLLATE binary")
      pos = t.e
    } else if ((t.u === "BOOL" || t.u === "BOOLEAN") && prev !== undefined && (prev.k === "word" || prev.k === "ident")) {
      parts.push(src.slice(pos, t.s), "TINYINT(1)")
      pos = t.e
    } else if (t.u === "PRECISION" && prev?.u === "DOUBLE") {
      parts.push(src.slice(pos, t.s))
      pos = t.e
    }
  }
  if (parts.length === 0) return src
  parts.push(src.slice(pos))
  return parts.join("")
}

export const emitDdl = (src0: string, toks0: ReadonlyArray<Token>): Statement => {
  const src = rewrite(src0, toks0)
  const toks = src === src0 ? toks0 : lex(src).toks
  // ALTER TABLE t <table options only> (ENGINE=…, CONVERT TO CHARACTER SET …, DISABLE KEYS): nothing to do
  if (toks[0]?.u === "ALTER" && toks[1]?.u === "TABLE") {
    const i = toks[3]?.k === "." ? 5 : 3
    if (toks[i]?.k === "word" && TABLE_OPTION_WORDS.has(toks[i]!.u) && !toks.some((t) => t.k === "word" && (t.u === "ADD" || t.u === "DROP" || t.u === "MODIFY" || t.u === "CHANGE" || t.u === "RENAME"))) {
      const name = toks[2]!
      const target: TableRef = toks[3]?.k === "." ? { database: name.v, table: toks[4]?.v ?? "" } : { database: undefined, table: name.v }
      return ddl("alter_table", target, [])
    }
  }
  if (toks[0]?.u === "ALTER" && toks[1]?.u === "TABLE" && hasAlterColumn(toks)) return alter(alterBySpec(src, toks))
  const norm = normalize(src, toks, false)
  const ast = parseOne(norm.text)
  switch (ast.type) {
    case "create": {
      const indexIfNotExists = toks0.some((t, i) => t.u === "INDEX" && toks0[i + 1]?.u === "IF" && toks0[i + 2]?.u === "NOT")
      return create(indexIfNotExists ? { ...ast, if_not_exists: "IF NOT EXISTS" } : ast)
    }
    case "alter": return alter(ast)
    case "drop": return drop(ast)
    case "rename": {
      const pairs: Array<[N, N]> = ast.table
      const tables: Array<TableRef> = []
      const statements = pairs.map(([from, to]) => {
        const a = ref(from)
        const b = ref(to)
        if ((b.database ?? a.database) !== a.database) throw new Unsupported("RENAME TABLE across databases")
        tables.push(a, b)
        return raw(`ALTER TABLE ${tname(a)} RENAME TO ${quoteId(b.table)}`)
      })
      return ddl("rename_table", tables[0]!, statements, tables)
    }
    case "truncate": {
      const t = ref(Array.isArray(ast.name) ? ast.name[0] : ast.name)
      return ddl("truncate", t, [raw(`DELETE FROM ${tname(t)}`)])
    }
    default:
      throw new SyntaxErr(src0)
  }
}

const create = (ast: N): Statement => {
  const kw = String(ast.keyword).toLowerCase()
  const ine = ast.if_not_exists ? "IF NOT EXISTS " : ""
  if (kw === "table") {
    const t = ref(Array.isArray(ast.table) ? ast.table[0] : ast.table)
    const temp = ast.temporary ? "TEMP " : ""
    if (ast.like) {
      const like = ref(Array.isArray(ast.like.table) ? ast.like.table[0] : ast.like.table)
      return {
        kind: "ddl", op: "create_table", target: t, tables: [t, like], likeTable: like,
        statements: [raw(`CREATE ${temp}TABLE ${ine}${tname(t)} AS SELECT * FROM ${tname(like)} WHERE 0`)]
      }
    }
    if (ast.query_expr) {
      const o = new Out("inline")
      o.w(`CREATE ${temp}TABLE ${ine}${tname(t)} AS `)
      emitSelect(o, ast.query_expr, {})
      return ddl("create_table", t, [raw(o.sql)], [t, ...o.tables])
    }
    const { body, indexes } = tableBody(ast.create_definitions ?? [], tableCollation(ast.table_options))
    const statements = [raw(`CREATE ${temp}TABLE ${ine}${tname(t)} (${body})`)]
    for (const ix of indexes) statements.push(createIndexSql(t, ix, ine !== ""))
    // AUTO_INCREMENT=N (mysqldump writes it): the rowid alias's AUTOINCREMENT counter starts at N
    const start = (ast.table_options as ReadonlyArray<N> | undefined)?.find((o) => String(o?.keyword).toLowerCase() === "auto_increment")?.value
    if (ine === "" && temp === "" && Number(start) > 1 && body.includes(" AUTOINCREMENT")) {
      const sequence = t.database === undefined ? "sqlite_sequence" : `${quoteId(t.database)}.sqlite_sequence`
      statements.push(raw(`INSERT INTO ${sequence} (name, seq) VALUES ('${t.table.replace(/'/g, "''")}', ${BigInt(start) - 1n})`))
    }
    return ddl("create_table", t, statements)
  }
  if (kw === "index") {
    const t = ref(ast.table)
    const kind = String(ast.index_type ?? "").toLowerCase()
    if (kind === "spatial") throw new Unsupported("SPATIAL indexes")
    const ix = { name: nameOf(ast.index), unique: kind === "unique", columns: indexColumns(ast.index_columns ?? []) }
    return ddl("create_index", t, [createIndexSql(t, ix, ine !== "")])
  }
  if (kw === "view") {
    const v = ref(ast.view?.view !== undefined ? { db: ast.view.db, table: ast.view.view } : ast.view)
    const o = new Out("inline")
    o.w(`CREATE VIEW ${ine}${tname(v)}`)
    if (Array.isArray(ast.columns) && ast.columns.length > 0) o.w(` (${ast.columns.map((c: N) => quoteId(nameOf(c))).join(", ")})`)
    o.w(" AS ")
    emitSelect(o, ast.select, {})
    const statements = [raw(o.sql)]
    if (ast.replace) statements.unshift(raw(`DROP VIEW IF EXISTS ${tname(v)}`))
    return ddl("create_view", v, statements, [v, ...o.tables])
  }
  if (kw === "trigger") throw new Unsupported("CREATE TRIGGER")
  throw new Unsupported(`CREATE ${kw.toUpperCase()}`)
}

const drop = (ast: N): Statement => {
  const kw = String(ast.keyword).toLowerCase()
  const ie = String(ast.prefix ?? "").toLowerCase().includes("if exists") ? "IF EXISTS " : ""
  const names: Array<N> = Array.isArray(ast.name) ? ast.name : [ast.name]
  if (kw === "table" || kw === "view") {
    const refs = names.map(ref)
    const word = kw === "table" ? "TABLE" : "VIEW"
    return ddl(kw === "table" ? "drop_table" : "drop_view", refs[0]!, refs.map((t) => raw(`DROP ${word} ${ie}${tname(t)}`)), refs)
  }
  if (kw === "index") {
    const t = ref(ast.table)
    const ix = nameOf(ast.name?.column ?? ast.name)
    if (ix.toLowerCase() === "primary") throw new Unsupported("DROP INDEX `PRIMARY`")
    return ddl("drop_index", t, [raw(`DROP INDEX ${ie}${qualified(t.database, indexName(t.table, ix))}`)])
  }
  if (kw === "trigger") {
    const n = names[0]
    const t: TableRef = { database: n?.db ? nameOf(n.db) : undefined, table: nameOf(n?.trigger ?? n) }
    return ddl("drop_trigger", t, [raw(`DROP TRIGGER ${ie}${tname(t)}`)])
  }
  throw new Unsupported(`DROP ${kw.toUpperCase()}`)
}

/** An `ALTER [COLUMN] c SET DEFAULT … | DROP DEFAULT` spec at depth 0 (node-sql-parser lacks it). */
const hasAlterColumn = (toks: ReadonlyArray<Token>): boolean => {
  const first = toks[3]?.k === "." ? 5 : 3
  let depth = 0
  for (let i = first; i < toks.length; i++) {
    const t = toks[i]!
    if (t.k === "(") depth++
    else if (t.k === ")") depth--
    else if (depth === 0 && t.u === "ALTER" && t.k === "word" && (i === first || toks[i - 1]?.k === ",")) return true
  }
  return false
}

/**
 * ALTER TABLE with an ALTER COLUMN spec: each spec is parsed on its own (`ALTER TABLE t <spec>`),
 * ALTER COLUMN ones as `{ action: "default" }` items, and the specs are put back together in order.
 */
const alterBySpec = (src: string, toks: ReadonlyArray<Token>): N => {
  const first = toks[3]?.k === "." ? 5 : 3
  const head = src.slice(0, toks[first - 1]!.e)
  const specs: Array<Array<Token>> = [[]]
  let depth = 0
  for (let i = first; i < toks.length; i++) {
    const t = toks[i]!
    if (t.k === "(") depth++
    else if (t.k === ")") depth--
    if (t.k === ";") break
    if (depth === 0 && t.k === ",") specs.push([])
    else specs[specs.length - 1]!.push(t)
  }
  let table: N = undefined
  const expr: Array<N> = []
  for (const spec of specs) {
    if (spec.length === 0) throw new SyntaxErr(src.slice(toks[first]?.s ?? 0))
    const text = src.slice(spec[0]!.s, spec[spec.length - 1]!.e)
    if (spec[0]!.u === "ALTER") {
      const c = spec[1]?.u === "COLUMN" ? 2 : 1
      const column = spec[c]
      const tail = spec.slice(c + 1).map((t) => t.u).join(" ")
      if (column === undefined || (column.k !== "word" && column.k !== "ident")) throw new SyntaxErr(text)
      if (tail === "DROP DEFAULT") {
        expr.push({ action: "default", column: column.v, default_val: undefined })
      } else if (spec[c + 1]?.u === "SET" && spec[c + 2]?.u === "DEFAULT" && spec.length > c + 3) {
        // the value, parsed as the DEFAULT of a throwaway column definition
        const probe = `ALTER TABLE t ADD COLUMN c INT DEFAULT ${src.slice(spec[c + 3]!.s, spec[spec.length - 1]!.e)}`
        const parsed = parseOne(normalize(probe, lex(probe).toks, false).text)
        expr.push({ action: "default", column: column.v, default_val: parsed.expr?.[0]?.default_val })
      } else {
        throw new Unsupported(`ALTER TABLE … ${text.toUpperCase()}`)
      }
      continue
    }
    const one = `${head} ${text}`
    const ast = parseOne(normalize(one, lex(one).toks, false).text)
    table ??= ast.table
    expr.push(...(ast.expr ?? []))
  }
  if (table === undefined) {
    const probe = `${head} ENGINE=InnoDB`
    table = parseOne(normalize(probe, lex(probe).toks, false).text).table
  }
  return { type: "alter", table, expr }
}

/** MODIFY/CHANGE: the new column definition, which the executor puts in place by rebuilding the table. */
const columnChange = (a: N, current: TableRef, action: string): DdlStep => {
  const to = nameOf(a.column.column ?? a.column)
  const from = action === "change" ? nameOf(a.old_column.column ?? a.old_column) : to
  const plain = { ...a, resource: "column", primary_key: undefined, auto_increment: undefined, unique: undefined }
  const { body } = tableBody([plain], undefined)
  const integer = mapType(a.definition).integer || mapType(a.definition).serial
  const autoIncrementSql = (a.auto_increment !== undefined || mapType(a.definition).serial) && integer
    ? tableBody([{ ...plain, auto_increment: "auto_increment", primary_key: "primary key" }], undefined).body
    : undefined
  const suffix = a.suffix
  const keyword = String(suffix?.keyword ?? "").toUpperCase()
  const position = keyword === "FIRST" ? { first: true as const } : keyword === "AFTER" ? { after: nameOf(suffix.expr?.column ?? suffix.expr) } : undefined
  return {
    sql: body,
    args: [],
    change: { kind: "modify", table: current, from, to, autoIncrementSql, primaryKey: a.primary_key !== undefined && a.primary_key !== null, position }
  }
}

const alter = (ast: N): Statement => {
  const t = ref(Array.isArray(ast.table) ? ast.table[0] : ast.table)
  const statements: Array<DdlStep> = []
  const tables: Array<TableRef> = [t]
  let current = t
  const head = (): string => `ALTER TABLE ${tname(current)} `
  for (const a of (ast.expr ?? []) as Array<N>) {
    const action = String(a.action ?? "").toLowerCase()
    const res = String(a.resource ?? "").toLowerCase()
    if (action === "add" && res === "column") {
      if (a.primary_key || a.auto_increment) throw new Unsupported("ALTER TABLE … ADD COLUMN with PRIMARY KEY/AUTO_INCREMENT")
      const { body, indexes } = tableBody([{ ...a, unique: undefined }], undefined)
      statements.push(raw(head() + "ADD COLUMN " + body))
      for (const ix of indexes) statements.push(createIndexSql(current, ix, false))
      if (a.unique !== undefined) {
        const col = nameOf(a.column.column)
        statements.push(createIndexSql(current, { name: col, unique: true, columns: [col] }, false))
      }
    } else if (action === "drop" && res === "column") {
      statements.push(raw(head() + "DROP COLUMN " + quoteId(nameOf(a.column.column ?? a.column))))
    } else if (action === "rename" && res === "column") {
      statements.push(raw(head() + `RENAME COLUMN ${quoteId(nameOf(a.old_column.column))} TO ${quoteId(nameOf(a.column.column))}`))
    } else if (action === "rename" && res === "table") {
      const to = nameOf(a.table)
      statements.push(raw(head() + "RENAME TO " + quoteId(to)))
      current = { database: current.database, table: to }
      tables.push(current)
    } else if (action === "add" && res === "index") {
      if (String(a.keyword ?? "").toLowerCase().startsWith("spatial")) throw new Unsupported("SPATIAL indexes")
      const cols = indexColumns(a.definition)
      statements.push(createIndexSql(current, { name: a.index ?? (cols[0] ?? "idx").replace(/ DESC$/, ""), unique: false, columns: cols }, false))
    } else if (action === "add" && res === "constraint") {
      const d = a.create_definitions
      const ct = String(d?.constraint_type ?? "").toLowerCase()
      if (!ct.startsWith("unique")) throw new Unsupported(`ALTER TABLE … ADD ${ct.toUpperCase()}`)
      const cols = indexColumns(d.definition)
      statements.push(createIndexSql(current, { name: d.index ?? d.constraint ?? (cols[0] ?? "idx").replace(/ DESC$/, ""), unique: true, columns: cols }, false))
    } else if (action === "drop" && (res === "index" || res === "key")) {
      const ix = String(a.index ?? a.key)
      const kw = String(a.keyword ?? "").toLowerCase()
      if (kw === "foreign key") throw new Unsupported("ALTER TABLE … DROP FOREIGN KEY")
      if (kw === "primary key" || ix.toLowerCase() === "primary") throw new Unsupported("ALTER TABLE … DROP PRIMARY KEY")
      statements.push(raw(`DROP INDEX ${qualified(current.database, indexName(current.table, ix))}`))
    } else if (action === "modify" || action === "change") {
      statements.push(columnChange(a, current, action))
      if (a.unique !== undefined && a.unique !== null) {
        const col = nameOf(a.column.column ?? a.column)
        statements.push(createIndexSql(current, { name: col, unique: true, columns: [col] }, false))
      }
    } else if (action === "default") {
      statements.push({
        sql: a.default_val?.value !== undefined ? "DEFAULT " + defaultSql(a.default_val.value) : "",
        args: [],
        change: { kind: "default", table: current, column: String(a.column) }
      })
    } else if (action === "" || res === "engine" || res === "table_option" || a.type === "alter" && action === "") {
      // table options: ignored
    } else {
      throw new Unsupported(`ALTER TABLE … ${action.toUpperCase()} ${res.toUpperCase()}`)
    }
  }
  return ddl("alter_table", t, statements, tables)
}
