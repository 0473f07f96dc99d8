/**
 * MySQL column types → SQLite declared types.
 *
 * The MySQL type name is kept as the declared type wherever SQLite accepts it, so metadata
 * (SHOW COLUMNS, information_schema) can map it back, and SQLite's affinity rules give the right
 * storage class (…INT… → INTEGER, …CHAR…/…TEXT… → TEXT, …BLOB… → BLOB, REAL/FLOA/DOUB → REAL,
 * else NUMERIC). SQLite's type grammar is `name… [(n[, m])]`, so UNSIGNED goes before the
 * parentheses: `DECIMAL UNSIGNED(10,2)`. Integer display widths are dropped (deprecated in
 * MySQL 8) except TINYINT(1), the boolean idiom. ZEROFILL is dropped.
 */
import type { N } from "./EmitExpr.ts"

export interface ColumnType {
  /** the SQLite declared type */
  readonly sql: string
  /** a text type: gets COLLATE NOCASE unless its collation is binary */
  readonly text: boolean
  /** an integer type (candidate rowid alias when AUTO_INCREMENT) */
  readonly integer: boolean
  /** SERIAL = BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE */
  readonly serial: boolean
}

const INTEGER_TYPES = new Set(["TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "INT1", "INT2", "INT3", "INT4", "INT8", "MIDDLEINT"])
const TEXT_TYPES = new Set(["CHAR", "VARCHAR", "NCHAR", "NVARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "CHARACTER", "LONG"])
const KEEP_TYPES = new Set([
  "DECIMAL", "DEC", "NUMERIC", "FIXED", "FLOAT", "DOUBLE", "REAL", "DATE", "DATETIME", "TIMESTAMP", "TIME",
  "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB"
])
const BLOB_TYPES = new Set(["GEOMETRY", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"])

const dims = (d: N): string => {
  if (typeof d.length !== "number") return ""
  return typeof d.scale === "number" ? `(${d.length},${d.scale})` : `(${d.length})`
}

export const mapType = (d: N): ColumnType => {
  const name = String(d?.dataType ?? "").toUpperCase().replace(/\s+/g, " ")
  const base = name.split(" ")[0] ?? ""
  const suffix: Array<string> = Array.isArray(d?.suffix) ? d.suffix.map((s: N) => String(s).toUpperCase()) : []
  const unsigned = suffix.includes("UNSIGNED") || name.includes("UNSIGNED") ? " UNSIGNED" : ""
  const plain = { text: false, integer: false, serial: false }
  if (base === "SERIAL") return { sql: "INTEGER", ...plain, integer: true, serial: true }
  if (INTEGER_TYPES.has(base)) {
    const keepWidth = base === "TINYINT" && d.length === 1 ? "(1)" : ""
    return { sql: base + unsigned + keepWidth, ...plain, integer: true }
  }
  if (base === "BOOL" || base === "BOOLEAN") return { sql: "TINYINT(1)", ...plain, integer: true }
  if (base === "BIT") return { sql: "INTEGER", ...plain }
  if (base === "YEAR") return { sql: "YEAR", ...plain }
  if (TEXT_TYPES.has(base)) {
    const t = base === "CHARACTER" ? "CHAR" : base === "LONG" ? "MEDIUMTEXT" : base
    return { sql: t + dims(d), ...plain, text: true }
  }
  if (base === "ENUM" || base === "SET" || base === "JSON") return { sql: "TEXT", ...plain, text: base !== "JSON" }
  if (KEEP_TYPES.has(base)) return { sql: base + unsigned + dims(d), ...plain }
  if (BLOB_TYPES.has(base)) return { sql: "BLOB", ...plain }
  return { sql: base + dims(d), ...plain }
}

/** SQLite collation for a MySQL collation name: NOCASE for *_ci, BINARY otherwise. */
export const collationOf = (mysql: string): "NOCASE" | "BINARY" =>
  mysql.toLowerCase().endsWith("_ci") ? "NOCASE" : "BINARY"
