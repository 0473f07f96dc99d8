/**
 * Per-table checksums for convergence checks: for every user table of every database, the row
 * count and a SHA-256 over its rows in primary-key order (all columns in table order when there is
 * no primary key). Two nodes holding the same rows give the same digest whatever order the writes
 * arrived in; a value's storage class counts (the integer 1 and the real 1.0 differ).
 *
 * Synchronous on the given connection (the cluster core's reader connections): one read
 * transaction per database, so its tables are one snapshot. Internal tables (`__marmot*`,
 * `sqlite_*`) are left out.
 */
import type Database from "better-sqlite3"
import { createHash, type Hash } from "node:crypto"

export interface TableChecksum {
  readonly rows: number
  /** Hex SHA-256 of the rows' encoding. */
  readonly sha256: string
}

const quote = (name: string) => `"${name.replace(/"/g, "\"\"")}"`

const tag = { null: 0, integer: 1, real: 2, text: 3, blob: 4 } as const

const lengthPrefixed = (hash: Hash, kind: number, bytes: Uint8Array) => {
  const header = Buffer.alloc(5)
  header[0] = kind
  header.writeUInt32BE(bytes.length, 1)
  hash.update(header)
  hash.update(bytes)
}

/** Feeds one value into `hash` unambiguously: a type tag, then a length-prefixed body. */
export const hashValue = (hash: Hash, value: unknown): void => {
  if (value === null || value === undefined) hash.update(Buffer.of(tag.null))
  else if (typeof value === "bigint") lengthPrefixed(hash, tag.integer, Buffer.from(value.toString(), "latin1"))
  else if (typeof value === "number") {
    // better-sqlite3 with safe integers hands INTEGERs as bigint, so a number is a REAL
    lengthPrefixed(hash, tag.real, Buffer.from(String(value), "latin1"))
  } else if (typeof value === "string") lengthPrefixed(hash, tag.text, Buffer.from(value, "utf8"))
  else if (value instanceof Uint8Array) lengthPrefixed(hash, tag.blob, value)
  else lengthPrefixed(hash, tag.text, Buffer.from(String(value), "utf8"))
}

/** User tables of the connection's main database, sorted by name. */
export const userTables = (db: Database.Database): Array<string> =>
  (db.prepare(
    "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' " +
      "AND name NOT LIKE '\\_\\_marmot%' ESCAPE '\\' ORDER BY name"
  ).pluck().all() as Array<string>)

/** The ORDER BY of a table: its primary key columns in key order, else every column. */
const orderOf = (db: Database.Database, table: string): string => {
  const columns = db.prepare(`SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`).raw().all(table) as Array<[string, number | bigint]>
  const key = columns.filter(([, pk]) => Number(pk) > 0).sort(([, a], [, b]) => Number(a) - Number(b))
  return (key.length > 0 ? key : columns).map(([name]) => quote(name)).join(", ")
}

export const checksumTable = (db: Database.Database, table: string): TableChecksum => {
  const hash = createHash("sha256")
  const order = orderOf(db, table)
  const stmt = db.prepare(`SELECT * FROM main.${quote(table)}${order === "" ? "" : ` ORDER BY ${order}`}`).raw(true)
  let rows = 0
  for (const row of stmt.iterate() as Iterable<Array<unknown>>) {
    hash.update(Buffer.of(0x1e))
    for (const value of row) hashValue(hash, value)
    rows++
  }
  return { rows, sha256: hash.digest("hex") }
}

/** Every user table of one database, read in one transaction. */
export const checksumDatabase = (db: Database.Database): Record<string, TableChecksum> =>
  db.transaction(() => {
    const out: Record<string, TableChecksum> = {}
    for (const table of userTables(db)) out[table] = checksumTable(db, table)
    return out
  })()
