/**
 * ALTER TABLE changes SQLite's own ALTER TABLE cannot make: MODIFY/CHANGE [COLUMN] (a column's
 * type, constraints, default, name and position) and ALTER COLUMN … SET/DROP DEFAULT.
 *
 * They use SQLite's documented table rebuild (https://sqlite.org/lang_altertable.html, "Making
 * Other Kinds Of Table Schema Changes"), inside the caller's transaction: create the new table
 * under a temporary name, set the rows aside, drop the old table, rename the new one, put the rows
 * in, recreate the table's indexes (and triggers other than the capture triggers, which the caller
 * regenerates), and carry the AUTO_INCREMENT high-water mark over in sqlite_sequence. Foreign keys
 * stay enforced (deferred to the COMMIT while the table is rebuilt, see `rebuild`); a table that other
 * tables reference with an ON DELETE action cannot be rebuilt (1235). A renamed column
 * is renamed first with ALTER TABLE … RENAME COLUMN, which rewrites the indexes, CHECKs and
 * foreign keys that use it.
 */
import { lex, type Token } from "../sql/Lexer.ts"
import type { ColumnChange, DdlStep } from "../sql/Statement.ts"
import { quoteIdent, type SqliteConnection } from "../storage/SqliteConnection.ts"
import { columnNameOfItem, readTableInfo, splitCreateTable } from "../storage/TableInfo.ts"
import { Errors, MysqlError } from "./Errors.ts"

const capturePrefix = "__marmot_capture_"

/** Applies one MODIFY/CHANGE/ALTER COLUMN step to a table of the connection's main database. */
export const applyColumnChange = (conn: SqliteConnection, database: string, step: DdlStep & { change: ColumnChange }): void => {
  const change = step.change
  const db = conn.db
  const found = db.prepare("SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE").pluck().get(change.table.table) as
    | string
    | undefined
  if (found === undefined) throw Errors.noSuchTable(database, change.table.table)
  const table = found
  const info = readTableInfo(conn, "main", table)!
  const column = change.kind === "modify" ? change.from : change.column
  const existing = info.byName.get(column.toLowerCase())
  if (existing === undefined) throw Errors.unknownColumn(column, table)
  if (change.kind === "modify" && change.from.toLowerCase() !== change.to.toLowerCase()) {
    if (info.byName.has(change.to.toLowerCase())) throw new MysqlError({ code: 1060, sqlState: "42S21", message: `Duplicate column name '${change.to}'` })
    // SQLite renames the column in the table, its indexes, triggers and views
    recorded(conn, `ALTER TABLE main.${quoteIdent(table)} RENAME COLUMN ${quoteIdent(existing.name)} TO ${quoteIdent(change.to)}`)
  }
  refuseReferencedWithActions(conn, table)
  const createSql = db.prepare("SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(table) as string
  const parts = splitCreateTable(createSql)
  if (parts === undefined) throw Errors.notSupported(`changing a column of table '${table}'`)
  const items = parts.items
  const name = change.kind === "modify" ? change.to : change.column
  const at = items.findIndex((item) => columnNameOfItem(item)?.toLowerCase() === name.toLowerCase())
  if (at < 0) throw Errors.unknownColumn(column, table)
  if (change.kind === "default") {
    items[at] = " " + withDefault(items[at]!.trim(), step.sql)
  } else {
    const primaryKey = info.columns.filter((c) => c.primaryKey)
    const solePk = primaryKey.length === 1 && primaryKey[0]!.name.toLowerCase() === existing.name.toLowerCase()
    const inlinePk = hasWords(items[at]!, "PRIMARY", "KEY")
    if (change.primaryKey && primaryKey.length > 0 && !solePk) throw multiplePrimaryKeys()
    let def = step.sql
    if (change.autoIncrementSql !== undefined && (solePk || primaryKey.length === 0)) {
      // the column becomes (or stays) the rowid alias; a table-level PRIMARY KEY ("id") folds into it
      def = change.autoIncrementSql
      const tablePk = items.findIndex((item) => columnNameOfItem(item) === undefined && hasWords(item, "PRIMARY", "KEY"))
      if (tablePk >= 0) items.splice(tablePk, 1)
    } else if (inlinePk || (change.primaryKey && primaryKey.length === 0)) {
      def += " PRIMARY KEY"
    }
    items[at] = " " + def
    if (change.position !== undefined) {
      const [moved] = items.splice(at, 1)
      if ("first" in change.position) items.unshift(moved!)
      else {
        const after = change.position.after
        const to = items.findIndex((item) => columnNameOfItem(item)?.toLowerCase() === after.toLowerCase())
        if (to < 0) throw Errors.unknownColumn(after, table)
        items.splice(to + 1, 0, moved!)
      }
    }
    items[0] = items[0]!.trimStart()
  }
  rebuild(conn, table, items, parts.tail)
}

/**
 * Dropping the old table deletes its rows first, which fires the ON DELETE actions of other
 * tables' foreign keys (and RESTRICT refuses at once, deferred or not); foreign_keys cannot be
 * switched off inside the DDL's transaction. So a table another table references with an action
 * (CASCADE, SET NULL, SET DEFAULT, RESTRICT) is not rebuilt; NO ACTION references are fine.
 */
const refuseReferencedWithActions = (conn: SqliteConnection, table: string): void => {
  const tables = (conn.db.prepare("PRAGMA main.table_list").all() as Array<{ name: string; type: string }>).filter((t) => t.type === "table")
  for (const t of tables) {
    if (t.name.toLowerCase() === table.toLowerCase() || t.name.startsWith("sqlite_")) continue
    const keys = conn.db.prepare(`PRAGMA main.foreign_key_list(${quoteIdent(t.name)})`).all() as Array<{ table: string; on_delete: string }>
    const acting = keys.find((k) => k.table.toLowerCase() === table.toLowerCase() && k.on_delete !== "NO ACTION")
    if (acting !== undefined) {
      throw Errors.notSupported(
        `changing a column of table '${table}' while table '${t.name}' references it with ON DELETE ${acting.on_delete} (a rebuild would fire it)`
      )
    }
  }
}

const multiplePrimaryKeys = () => new MysqlError({ code: 1068, sqlState: "42000", message: "Multiple primary key defined" })

/** The tokens of one column definition (the MySQL lexer: `"x"` reads as a string, which is fine here). */
const tokens = (text: string): ReadonlyArray<Token> => lex(text).toks

const hasWords = (item: string, a: string, b: string): boolean => {
  const toks = tokens(item)
  return toks.some((t, i) => t.k === "word" && t.u === a && toks[i + 1]?.u === b)
}

/** A column definition with its DEFAULT clause replaced by `clause` ("" removes it). */
const withDefault = (def: string, clause: string): string => {
  const toks = tokens(def)
  let depth = 0
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i]!
    if (t.k === "(") depth++
    else if (t.k === ")") depth--
    if (depth !== 0 || t.k !== "word" || t.u !== "DEFAULT") continue
    let end = i + 1
    if (toks[end]?.k === "(") {
      let d = 0
      for (; end < toks.length; end++) {
        if (toks[end]!.k === "(") d++
        else if (toks[end]!.k === ")" && --d === 0) break
      }
    } else if (toks[end]?.k === "op" && (toks[end]!.v === "-" || toks[end]!.v === "+")) {
      end++
    }
    const last = toks[Math.min(end, toks.length - 1)]!
    return (def.slice(0, t.s) + clause + def.slice(last.e)).replace(/ {2,}/g, " ").trimEnd()
  }
  return clause === "" ? def : `${def} ${clause}`
}

/**
 * SQLite's table rebuild: `items` are the new column list of `table`, `tail` the text from its
 * closing parenthesis on. Foreign keys are enforced (better-sqlite3's default), and dropping a
 * table other tables reference deletes its rows first; so the rows wait in a temp table, foreign
 * keys are deferred, and they go back into the new table after the rename, which settles the
 * references the drop left dangling (a row really missing still fails the COMMIT).
 */
/**
 * Runs a schema statement and, in cluster mode, records it for replication: the rebuild's steps
 * replay on every node against that node's own rows.
 */
const recorded = (conn: SqliteConnection, sql: string): void => {
  conn.db.exec(sql)
  conn.replicationCapture?.ddl.push(sql)
}

const rebuild = (conn: SqliteConnection, table: string, items: ReadonlyArray<string>, tail: string): void => {
  const db = conn.db
  const run = (sql: string) => recorded(conn, sql)
  const fresh = `__marmot_rebuild_${table}`
  const saved = "__marmot_rebuild_rows"
  const objects = db.prepare("SELECT name, sql FROM main.sqlite_schema WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL").raw().all(table) as Array<
    [string, string]
  >
  const hasSequence = db.prepare("SELECT 1 FROM main.sqlite_schema WHERE name = 'sqlite_sequence'").get() !== undefined
  const seq = hasSequence ? db.prepare("SELECT seq FROM main.sqlite_sequence WHERE name = ?").pluck().get(table) as bigint | undefined : undefined
  run(`DROP TABLE IF EXISTS main.${quoteIdent(fresh)}`)
  run(`CREATE TABLE main.${quoteIdent(fresh)} (${items.join(",")}${tail}`)
  const columns = (db.prepare(`PRAGMA main.table_xinfo(${quoteIdent(fresh)})`).all() as Array<{ name: string; hidden: number | bigint }>)
    .filter((c) => Number(c.hidden) === 0)
    .map((c) => quoteIdent(c.name))
    .join(", ")
  run("PRAGMA defer_foreign_keys = ON")
  run(`DROP TABLE IF EXISTS temp.${quoteIdent(saved)}`)
  run(`CREATE TEMP TABLE ${quoteIdent(saved)} AS SELECT ${columns} FROM main.${quoteIdent(table)}`)
  run(`DROP TABLE main.${quoteIdent(table)}`)
  // Without the legacy rename, SQLite re-checks every view and trigger against the schema.
  const legacy = Number(db.pragma("legacy_alter_table", { simple: true })) === 1
  run("PRAGMA legacy_alter_table = ON")
  try {
    run(`ALTER TABLE main.${quoteIdent(fresh)} RENAME TO ${quoteIdent(table)}`)
  } finally {
    if (!legacy) run("PRAGMA legacy_alter_table = OFF")
  }
  try {
    run(`INSERT INTO main.${quoteIdent(table)} (${columns}) SELECT ${columns} FROM temp.${quoteIdent(saved)}`)
  } catch (e) {
    // MySQL's answer when a column made NOT NULL holds NULLs
    if (e instanceof Error && e.message.startsWith("NOT NULL constraint failed")) {
      throw new MysqlError({ code: 1138, sqlState: "22004", message: "Invalid use of NULL value" })
    }
    throw e
  } finally {
    run(`DROP TABLE IF EXISTS temp.${quoteIdent(saved)}`)
  }
  for (const [name, sql] of objects) if (!name.startsWith(capturePrefix)) run(sql)
  if (seq !== undefined && /\bAUTOINCREMENT\b/i.test(items.join(","))) {
    const name = "'" + table.replace(/'/g, "''") + "'"
    run(`UPDATE main.sqlite_sequence SET seq = max(seq, ${seq}) WHERE name = ${name}`)
    run(`INSERT INTO main.sqlite_sequence (name, seq) SELECT ${name}, ${seq} WHERE NOT EXISTS (SELECT 1 FROM main.sqlite_sequence WHERE name = ${name})`)
  }
}
