import { Charset, ColumnFlag, ColumnType } from "../mysql/protocol/Constants.ts"
import type { ColumnDef } from "../mysql/protocol/Encode.ts"
import type { ColumnInfo } from "../storage/TableInfo.ts"

/**
 * Result-set column metadata. Tables created through the translator keep MySQL type names
 * (INT, BIGINT UNSIGNED, VARCHAR(100), DATETIME, DECIMAL(10,2) ...) as SQLite declared types, so
 * the MySQL type, length and flags come back from the name; keys and NOT NULL come from the table.
 * SQLite does not enforce integer widths, so a result whose values overflow the declared width
 * is sent as LONGLONG rather than truncated.
 */
export interface ColumnShape {
  readonly type: number
  readonly length: number
  readonly flags: number
  readonly decimals: number
  readonly charset: number
  /** Integer range the type's binary encoding holds, when narrower than 64 bits. */
  readonly range?: readonly [bigint, bigint]
}

const utf8 = Charset.UTF8MB4_GENERAL_CI
const binary = Charset.BINARY
const { BINARY, BLOB, NUM, UNSIGNED } = ColumnFlag

const shape = (type: number, length: number, flags: number, charset: number, decimals = 0, range?: readonly [bigint, bigint]): ColumnShape =>
  range === undefined ? { type, length, flags, decimals, charset } : { type, length, flags, decimals, charset, range }

const integer = (type: number, bits: number, length: number, unsigned: boolean): ColumnShape => {
  const range: readonly [bigint, bigint] | undefined = bits >= 64
    ? undefined
    : unsigned
    ? [0n, (1n << BigInt(bits)) - 1n]
    : [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n]
  return shape(type, unsigned ? length - 1 : length, NUM | (unsigned ? UNSIGNED : 0), binary, 0, range)
}

const longlong = integer(ColumnType.LONGLONG, 64, 20, false)
const double = shape(ColumnType.DOUBLE, 22, NUM, binary, 31)
const varString = (chars: number) => shape(ColumnType.VAR_STRING, chars * 4, 0, utf8)
const text = (bytes: number) => shape(ColumnType.BLOB, bytes, BLOB, utf8)
const blob = (bytes: number) => shape(ColumnType.BLOB, bytes, BLOB | BINARY, binary)
const nullShape = shape(ColumnType.NULL, 0, BINARY, binary)
const defaultString = varString(65535 / 4)

const size = (t: string): [number, number] | undefined => {
  const m = t.match(/\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/)
  return m === null ? undefined : [Number(m[1]), Number(m[2] ?? 0)]
}

const classify = (upper: string): ColumnShape => {
  const t = upper.trim()
  const unsigned = t.includes("UNSIGNED")
  const n = size(t)
  if (t.startsWith("ENUM(") || t.startsWith("SET(")) {
    // MySQL sends ENUM/SET as STRING with the ENUM/SET flag, as long as the longest value (SET: all of them)
    const values = [...t.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'").length)
    const chars = t.startsWith("SET") ? values.reduce((a, b) => a + b, 0) + Math.max(0, values.length - 1) : Math.max(0, ...values)
    return shape(ColumnType.STRING, chars * 4, t.startsWith("SET") ? ColumnFlag.SET : ColumnFlag.ENUM, utf8)
  }
  if (t.startsWith("BOOL")) return integer(ColumnType.TINY, 8, 1, false)
  if (t.startsWith("TINYINT")) return integer(ColumnType.TINY, 8, 4, unsigned)
  if (t.startsWith("SMALLINT")) return integer(ColumnType.SHORT, 16, 6, unsigned)
  if (t.startsWith("MEDIUMINT")) return integer(ColumnType.INT24, 24, 9, unsigned)
  if (t.startsWith("BIGINT")) return integer(ColumnType.LONGLONG, 64, 20, unsigned)
  if (t.startsWith("INT")) return integer(ColumnType.LONG, 32, 11, unsigned)
  if (t.includes("INT")) return longlong
  if (t.startsWith("DATETIME")) return shape(ColumnType.DATETIME, 19 + (n && n[0] > 0 ? n[0] + 1 : 0), BINARY, binary, n?.[0] ?? 0)
  if (t.startsWith("TIMESTAMP")) return shape(ColumnType.TIMESTAMP, 19 + (n && n[0] > 0 ? n[0] + 1 : 0), BINARY, binary, n?.[0] ?? 0)
  if (t.startsWith("DATE")) return shape(ColumnType.DATE, 10, BINARY, binary)
  if (t.startsWith("TIME")) return shape(ColumnType.TIME, 10, BINARY, binary)
  if (t.startsWith("YEAR")) return shape(ColumnType.YEAR, 4, UNSIGNED | NUM, binary, 0, [0n, 65535n])
  if (t.startsWith("VARBINARY")) return shape(ColumnType.VAR_STRING, n?.[0] ?? 255, BINARY, binary)
  if (t.startsWith("BINARY")) return shape(ColumnType.STRING, n?.[0] ?? 1, BINARY, binary)
  if (t.startsWith("CHAR") || t.startsWith("NCHAR")) return shape(ColumnType.STRING, (n?.[0] ?? 1) * 4, 0, utf8)
  if (t.startsWith("VARCHAR") || t.startsWith("NVARCHAR")) return varString(n?.[0] ?? 255)
  if (t.startsWith("TINYTEXT")) return text(255)
  if (t.startsWith("MEDIUMTEXT")) return text(16777215 * 4)
  if (t.startsWith("LONGTEXT") || t === "JSON") return text(4294967295)
  if (t.startsWith("TEXT") || t.includes("CLOB")) return text(65535 * 4)
  if (t.startsWith("TINYBLOB")) return blob(255)
  if (t.startsWith("MEDIUMBLOB")) return blob(16777215)
  if (t.startsWith("LONGBLOB")) return blob(4294967295)
  if (t.startsWith("BLOB") || t === "") return blob(65535)
  if (t.startsWith("FLOAT")) return shape(ColumnType.FLOAT, 12, NUM, binary, 31)
  if (t.startsWith("DOUBLE") || t.startsWith("REAL")) return double
  if (t.startsWith("DEC") || t.startsWith("NUMERIC") || t.startsWith("FIXED")) {
    const [precision, scale] = n ?? [10, 0]
    return shape(ColumnType.NEWDECIMAL, precision + (scale > 0 ? 1 : 0) + (unsigned ? 0 : 1), NUM | (unsigned ? UNSIGNED : 0), binary, scale)
  }
  if (t.includes("CHAR") || t.includes("TEXT")) return defaultString
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return double
  return defaultString
}

const cache = new Map<string, ColumnShape>()

/** The MySQL shape of a declared type; undefined for an expression column. */
export const shapeOfDeclared = (declared: string | null): ColumnShape | undefined => {
  if (declared === null) return undefined
  let s = cache.get(declared)
  if (s === undefined) {
    s = classify(declared.toUpperCase())
    cache.set(declared, s)
  }
  return s
}

/** Key and NULL flags of a table column, as MySQL sets them. */
export const tableFlags = (c: ColumnInfo): number =>
  (c.notNull ? ColumnFlag.NOT_NULL : 0) | (c.primaryKey ? ColumnFlag.PRI_KEY : 0) | (c.unique ? ColumnFlag.UNIQUE_KEY : 0) |
  (c.multipleKey ? ColumnFlag.MULTIPLE_KEY : 0) | (c.autoIncrement ? ColumnFlag.AUTO_INCREMENT : 0) |
  (c.notNull && c.defaultValue === null && !c.autoIncrement ? ColumnFlag.NO_DEFAULT_VALUE : 0)

/** The shape that fits every value of an expression column: a common type, else a string. */
export const shapeOfValues = (rows: ReadonlyArray<ReadonlyArray<unknown>>, column: number): ColumnShape => {
  let kind: "none" | "int" | "double" | "string" | "blob" = "none"
  for (const row of rows) {
    const v = row[column]
    if (v === null || v === undefined) continue
    const k = typeof v === "bigint" ? "int" : typeof v === "number" ? (Number.isInteger(v) ? "int" : "double") : Buffer.isBuffer(v) ? "blob" : "string"
    if (kind === "none") kind = k
    else if (kind !== k) {
      if ((kind === "int" && k === "double") || (kind === "double" && k === "int")) kind = "double"
      else return defaultString
    }
  }
  switch (kind) {
    case "none":
      return rows.length === 0 ? defaultString : nullShape
    case "int":
      return longlong
    case "double":
      return double
    case "blob":
      return blob(65535)
    case "string":
      return defaultString
  }
}

/** True when some value of the column does not fit the shape's integer encoding. */
export const overflows = (s: ColumnShape, rows: ReadonlyArray<ReadonlyArray<unknown>>, column: number): boolean => {
  const range = s.range
  if (range === undefined) return false
  for (const row of rows) {
    const v = row[column]
    if (typeof v === "bigint") {
      if (v < range[0] || v > range[1]) return true
    } else if (typeof v === "number") {
      if (!Number.isInteger(v) || v < Number(range[0]) || v > Number(range[1])) return true
    } else if (v !== null && v !== undefined) return true
  }
  return false
}

export const stringShape = defaultString
export const widenedInteger = longlong

export const columnDef = (
  s: ColumnShape,
  names: { readonly schema: string; readonly table: string; readonly orgTable: string; readonly name: string; readonly orgName: string },
  extraFlags = 0
): ColumnDef => ({
  schema: names.schema,
  table: names.table,
  orgTable: names.orgTable,
  name: names.name,
  orgName: names.orgName,
  charset: s.charset,
  length: s.length,
  type: s.type,
  flags: s.flags | extraFlags,
  decimals: s.decimals
})

const TYPE_ALIASES: Record<string, string> = {
  integer: "int", int1: "tinyint", int2: "smallint", int3: "mediumint", int4: "int", int8: "bigint", middleint: "mediumint",
  dec: "decimal", numeric: "decimal", fixed: "decimal", real: "double", nchar: "char", nvarchar: "varchar", bool: "tinyint(1)", boolean: "tinyint(1)"
}

/**
 * The type as MySQL 8 prints it in SHOW COLUMNS / information_schema: lower case, no integer display
 * width (but tinyint(1)), UNSIGNED after the dimensions (`DECIMAL UNSIGNED(10,2)` → `decimal(10,2) unsigned`).
 */
export const mysqlTypeName = (declared: string): string => {
  const e = /^\s*(enum|set)\s*(\(.*\))\s*$/is.exec(declared)
  if (e !== null) return e[1]!.toLowerCase() + e[2]! // the values keep their case
  const t = declared.trim().toLowerCase()
  if (t === "") return "blob"
  const m = /^([a-z0-9_]+)((?:\s+(?:unsigned|zerofill))*)\s*(\([^)]*\))?((?:\s+(?:unsigned|zerofill))*)/.exec(t)
  if (m === null) return t
  const base = TYPE_ALIASES[m[1]!] ?? m[1]!
  const unsigned = /unsigned/.test((m[2] ?? "") + (m[4] ?? "")) ? " unsigned" : ""
  let dims = (m[3] ?? "").replace(/\s+/g, "")
  if (base === "decimal" && dims === "") dims = "(10,0)"
  else if ((base === "char" || base === "binary") && dims === "") dims = "(1)"
  else if (/int$/.test(base) && !(base === "tinyint" && dims === "(1)")) dims = ""
  return base + dims + unsigned
}

/** A text type (it has a collation in MySQL's metadata). */
export const isTextType = (declared: string): boolean => /CHAR|TEXT|CLOB|ENUM|\bSET\b/i.test(declared) && !/BINARY/i.test(declared)
