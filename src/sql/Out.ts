/**
 * The emitter's output buffer and its signals. An `Out` collects SQLite text, the args of its
 * `?` (in order) and the tables a statement references.
 *
 * mode "lift": literals become args (DML). mode "inline": literals are written as SQLite
 * literals (DDL, views, defaults: SQLite cannot bind parameters there).
 */
import type { Arg, SqlValue, TableRef } from "./Statement.ts"

/** A reference to slot k of the normalized statement (filled in at instantiation). */
export interface Slot {
  readonly _tag: "Slot"
  readonly k: number
}
export type TArg = Arg | Slot

/** Parsed but not supported: becomes error 1235. */
export class Unsupported {
  constructor(readonly what: string) {}
}
/** Not valid MySQL (as far as we can tell): becomes error 1064. */
export class SyntaxErr {
  constructor(readonly near: string) {}
}
/** Parsed, and refused with this MySQL error (e.g. 1109 for an unknown target of a multi-table DELETE). */
export class Refused {
  constructor(readonly code: number, readonly sqlState: string, readonly message: string) {}
}
/** The lifted form put a parameter where only a literal is allowed: retry without lifting. */
export class NeedsExact {}

export const quoteId = (name: string): string => "\"" + name.replaceAll("\"", "\"\"") + "\""

/** A value as an SQLite literal (only for inline mode; strings are quoted safely). */
export const sqliteLiteral = (v: SqlValue): string => {
  if (v === null) return "NULL"
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "NULL"
  if (typeof v === "bigint") return v.toString()
  if (typeof v === "string") return "'" + v.replaceAll("'", "''") + "'"
  return "X'" + v.toString("hex") + "'"
}

export class Out {
  sql = ""
  readonly args: Array<TArg> = []
  readonly tables: Array<TableRef> = []
  private readonly seen = new Set<string>()
  /** CTE names in scope (lower-case): not reported as tables */
  readonly ctes = new Set<string>()
  /** inside ON DUPLICATE KEY UPDATE: VALUES(col) means excluded."col" */
  upsert = false
  /** when set, the values of slots (inline mode needs them) */
  constructor(
    readonly mode: "lift" | "inline",
    readonly slots: ReadonlyArray<Arg> | undefined = undefined
  ) {}

  w(text: string): void {
    this.sql += text
  }

  /** Emits `?` bound to `arg`, returning its index in args. */
  arg(arg: TArg): number {
    this.sql += "?"
    this.args.push(arg)
    return this.args.length - 1
  }

  /** Emits a literal value: a bound arg in lift mode, an SQLite literal in inline mode. */
  value(v: SqlValue): number {
    if (this.mode === "inline") {
      this.sql += sqliteLiteral(v)
      return -1
    }
    return this.arg({ _tag: "Value", value: v })
  }

  table(database: string | undefined, table: string): void {
    if (database === undefined && this.ctes.has(table.toLowerCase())) return
    const key = (database ?? "") + "\u0000" + table
    if (this.seen.has(key)) return
    this.seen.add(key)
    this.tables.push({ database, table })
  }
}
