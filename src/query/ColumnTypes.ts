import { Charset, ColumnFlag, ColumnType } from "../mysql/protocol/Constants.ts"
import type { ColumnDef } from "../mysql/protocol/Encode.ts"

/**
 * Result-set column metadata from SQLite's declared column types. Tables created through the
 * translator keep MySQL type names (BIGINT UNSIGNED, VARCHAR(255), DATETIME ...) as their declared
 * types, so the MySQL type comes back from the name. Every integer is reported as LONGLONG:
 * SQLite does not enforce widths, and a narrower binary encoding would truncate values.
 */
export interface ColumnShape {
  readonly type: number
  readonly length: number
  readonly flags: number
  readonly decimals: number
  readonly charset: number
}

const text = Charset.UTF8MB4_GENERAL_CI
const binary = Charset.BINARY

const integer = (unsigned: boolean): ColumnShape => ({
  type: ColumnType.LONGLONG,
  length: 20,
  flags: ColumnFlag.NUM | (unsigned ? ColumnFlag.UNSIGNED : 0),
  decimals: 0,
  charset: binary
})
const double: ColumnShape = { type: ColumnType.DOUBLE, length: 22, flags: ColumnFlag.NUM, decimals: 31, charset: binary }
const decimal: ColumnShape = { type: ColumnType.NEWDECIMAL, length: 65, flags: ColumnFlag.NUM, decimals: 30, charset: binary }
const string: ColumnShape = { type: ColumnType.VAR_STRING, length: 262140, flags: 0, decimals: 31, charset: text }
const blob: ColumnShape = { type: ColumnType.BLOB, length: 4294967295, flags: ColumnFlag.BLOB | ColumnFlag.BINARY, decimals: 0, charset: binary }
const datetime: ColumnShape = { type: ColumnType.DATETIME, length: 19, flags: ColumnFlag.BINARY, decimals: 0, charset: binary }
const date: ColumnShape = { type: ColumnType.DATE, length: 10, flags: ColumnFlag.BINARY, decimals: 0, charset: binary }
const time: ColumnShape = { type: ColumnType.TIME, length: 10, flags: ColumnFlag.BINARY, decimals: 0, charset: binary }
const nullShape: ColumnShape = { type: ColumnType.NULL, length: 0, flags: ColumnFlag.BINARY, decimals: 0, charset: binary }

const cache = new Map<string, ColumnShape>()

/** The MySQL shape of a SQLite declared type, or undefined for an expression column. */
export const shapeOfDeclared = (declared: string | null): ColumnShape | undefined => {
  if (declared === null) return undefined
  let shape = cache.get(declared)
  if (shape !== undefined) return shape
  shape = classify(declared.toUpperCase())
  cache.set(declared, shape)
  return shape
}

const classify = (t: string): ColumnShape => {
  if (t.startsWith("DATETIME") || t.startsWith("TIMESTAMP")) return datetime
  if (t.startsWith("DATE")) return date
  if (t.startsWith("TIME")) return time
  if (t.startsWith("BOOL")) return integer(false)
  if (t.includes("INT")) return integer(t.includes("UNSIGNED"))
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT") || t.startsWith("ENUM") || t.startsWith("SET") || t === "JSON") {
    return string
  }
  if (t.includes("BLOB") || t.includes("BINARY") || t === "") return blob
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return double
  if (t.startsWith("DEC") || t.startsWith("NUMERIC") || t.startsWith("FIXED")) return decimal
  if (t.startsWith("YEAR")) return integer(true)
  return string
}

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
      else return string
    }
  }
  switch (kind) {
    case "none":
      return rows.length === 0 ? string : nullShape
    case "int":
      return integer(false)
    case "double":
      return double
    case "blob":
      return blob
    case "string":
      return string
  }
}

export const stringShape = string

export const columnDef = (
  shape: ColumnShape,
  names: { readonly schema: string; readonly table: string; readonly orgTable: string; readonly name: string; readonly orgName: string }
): ColumnDef => ({
  schema: names.schema,
  table: names.table,
  orgTable: names.orgTable,
  name: names.name,
  orgName: names.orgName,
  charset: shape.charset,
  length: shape.length,
  type: shape.type,
  flags: shape.flags,
  decimals: shape.decimals
})
