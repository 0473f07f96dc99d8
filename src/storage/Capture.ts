import type Database from "better-sqlite3"
import { quoteIdent } from "./SqliteConnection.ts"

/**
 * Row-level change capture with generated AFTER INSERT/UPDATE/DELETE triggers that hand the row
 * images to a JS function (better-sqlite3 has no preupdate hook or session extension). Images
 * are positional, in the table's column order when the triggers were made; the triggers are
 * regenerated after every schema change, so the order always matches `columns`.
 */
export type Op = "I" | "U" | "D"

export interface RowImage {
  readonly table: string
  readonly op: Op
  readonly before: ReadonlyArray<unknown> | undefined
  readonly after: ReadonlyArray<unknown> | undefined
}

/** Where the images of the statement or transaction running on a connection go. */
export class CaptureSink {
  readonly images: Array<RowImage> = []
  /** Schema statements (SQLite text) the transaction ran, in order, for replication. */
  readonly ddl: Array<string> = []
  /** Tables those statements change (their intent keys keep two schema changes apart). */
  readonly ddlTables = new Set<string>()
}

export const captureFunction = "marmot_capture"
const triggerPrefix = "__marmot_capture_"

const ops: Record<string, Op> = { I: "I", U: "U", D: "D" }

/**
 * Registers the trigger target on a writer connection: `statement()` is where the running
 * statement's images go (affected-row counts), `transaction()` where the open transaction's go
 * (replication); either may be absent.
 */
export const registerCapture = (
  db: Database.Database,
  statement: () => CaptureSink | undefined,
  transaction: () => CaptureSink | undefined = () => undefined
): void => {
  db.function(captureFunction, { varargs: true, deterministic: false, directOnly: false }, (...args: Array<unknown>) => {
    const target = statement()
    const txn = transaction()
    if (target === undefined && txn === undefined) return null
    const table = args[0] as string
    const op = ops[args[1] as string]!
    const n = Number(args[2])
    const image: RowImage = op === "U"
      ? { table, op, before: args.slice(3, 3 + n), after: args.slice(3 + n, 3 + 2 * n) }
      : op === "I"
      ? { table, op, before: undefined, after: args.slice(3, 3 + n) }
      : { table, op, before: args.slice(3, 3 + n), after: undefined }
    target?.images.push(image)
    txn?.images.push(image)
    return null
  })
}

/** The columns the capture triggers of `table` put in an image, in image order. */
export const capturedColumns = (db: Database.Database, table: string): Array<string> =>
  (db.prepare(`PRAGMA main.table_xinfo(${quoteIdent(table)})`).all() as Array<{ name: string; hidden: number | bigint }>)
    .filter((c) => Number(c.hidden) === 0 || Number(c.hidden) === 2 || Number(c.hidden) === 3)
    .map((c) => c.name)

const sameValue = (a: unknown, b: unknown): boolean =>
  a === b || (Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b)) ||
  (typeof a === "number" && typeof b === "bigint" && Number.isInteger(a) && BigInt(a) === b) ||
  (typeof a === "bigint" && typeof b === "number" && Number.isInteger(b) && BigInt(b) === a)

/** An UPDATE image that changed nothing (MySQL does not count it as affected). */
export const unchanged = (image: RowImage): boolean => {
  if (image.op !== "U") return false
  const before = image.before!
  const after = image.after!
  for (let i = 0; i < before.length; i++) if (!sameValue(before[i], after[i])) return false
  return true
}

const triggerSql = (table: string, columns: ReadonlyArray<string>, op: Op): string => {
  const event = op === "I" ? "INSERT" : op === "U" ? "UPDATE" : "DELETE"
  const image = (side: "OLD" | "NEW") => columns.map((c) => `${side}.${quoteIdent(c)}`).join(", ")
  const values = op === "I" ? image("NEW") : op === "D" ? image("OLD") : `${image("OLD")}, ${image("NEW")}`
  const lit = "'" + table.replace(/'/g, "''") + "'"
  return `CREATE TRIGGER ${quoteIdent(triggerPrefix + op + "_" + table)} AFTER ${event} ON ${quoteIdent(table)} ` +
    `BEGIN SELECT ${captureFunction}(${lit}, '${op}', ${columns.length}, ${values}); END`
}

/**
 * Makes every user table of the connection's main database carry current capture triggers
 * (and drops those of tables that are gone). Runs inside the caller's transaction.
 */
export const ensureCaptureTriggers = (db: Database.Database): void => {
  // table_list tells ordinary tables from virtual ones (FTS) and their shadow tables: no triggers there.
  const tables = (db.prepare("PRAGMA main.table_list").all() as Array<{ name: string; type: string }>)
    .filter((t) => t.type === "table" && !t.name.startsWith("sqlite_") && !t.name.startsWith("__marmot"))
    .map((t) => t.name)
  const existing = new Map(
    (db.prepare("SELECT name, sql FROM main.sqlite_schema WHERE type = 'trigger' AND name LIKE '\\_\\_marmot\\_capture\\_%' ESCAPE '\\'").raw().all() as Array<[string, string]>)
  )
  const wanted = new Map<string, string>()
  for (const table of tables) {
    const columns = capturedColumns(db, table)
    for (const op of ["I", "U", "D"] as const) wanted.set(triggerPrefix + op + "_" + table, triggerSql(table, columns, op))
  }
  for (const [name, sql] of existing) {
    if (wanted.get(name) !== sql) db.exec(`DROP TRIGGER IF EXISTS main.${quoteIdent(name)}`)
  }
  for (const [name, sql] of wanted) {
    if (existing.get(name) !== sql) db.exec(sql)
  }
}
