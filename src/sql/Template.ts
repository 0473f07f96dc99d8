/**
 * Parse + emit a normalized DML statement into a reusable template (args may reference slots
 * of the normalized text), and instantiate templates for one statement's slot values.
 */
import { emitDelete, emitInsert, emitUpdate, type DmlShape } from "./EmitDml.ts"
import { emitSelect, HOLE } from "./EmitSelect.ts"
import type { Normalized } from "./Normalize.ts"
import { Out, SyntaxErr, type TArg, Unsupported } from "./Out.ts"
import { parseOne } from "./Parse.ts"
import type { Arg, MultiTable, Sqlite, Statement, TableRef } from "./Statement.ts"

interface SqlT {
  readonly sql: string
  readonly args: ReadonlyArray<TArg>
}

export interface Template {
  readonly kind: "select" | "insert" | "replace" | "update" | "delete"
  readonly sqlite: SqlT
  readonly hasHoles: boolean
  readonly slotted: boolean
  readonly tables: ReadonlyArray<TableRef>
  readonly target: TableRef | undefined
  readonly columns: ReadonlyArray<string> | undefined
  readonly rows: ReadonlyArray<ReadonlyArray<number>> | undefined
  readonly multi: MultiTable | undefined
  readonly calc: SqlT | undefined
  readonly columnNames: ReadonlyArray<string | number | undefined> | undefined
}

/** Builds the template; throws NeedsExact / Unsupported / SyntaxErr (parse failures as SyntaxErr). */
export const buildTemplate = (norm: Normalized): Template => {
  const ast = parseOne(norm.text)
  const o = new Out("lift", norm.slots)
  switch (ast.type) {
    case "select": {
      const columnNames: Array<string | number | undefined> = []
      const names = norm.selectNames
      emitSelect(o, ast, names !== undefined ? { names, columnNames } : { columnNames })
      let calc: SqlT | undefined
      if (norm.calcFoundRows) {
        const c = new Out("lift", norm.slots)
        c.w("SELECT COUNT(*) FROM (")
        emitSelect(c, ast, { omitLimit: true })
        c.w(")")
        calc = { sql: c.sql, args: c.args }
      }
      return finish(o, "select", undefined, calc, columnNames)
    }
    case "insert": case "replace": return finish(o, ast.type, emitInsert(o, ast), undefined, undefined)
    case "update": return finish(o, "update", emitUpdate(o, ast, norm.ignore), undefined, undefined)
    case "delete": return finish(o, "delete", emitDelete(o, ast), undefined, undefined)
    default:
      throw new Unsupported(`${String(ast.type).toUpperCase()} statements`)
  }
}

const finish = (
  o: Out,
  kind: Template["kind"],
  shape: DmlShape | undefined,
  calc: SqlT | undefined,
  columnNames: ReadonlyArray<string | number | undefined> | undefined
): Template => ({
  kind,
  sqlite: { sql: o.sql, args: o.args },
  hasHoles: o.sql.includes(HOLE),
  slotted: o.args.some((a) => a._tag === "Slot") || (calc?.args.some((a) => a._tag === "Slot") ?? false),
  tables: o.tables,
  target: shape?.target,
  columns: shape?.columns,
  rows: shape?.rows,
  multi: shape?.multi,
  calc,
  columnNames
})

const fillArgs = (args: ReadonlyArray<TArg>, slots: ReadonlyArray<Arg>): ReadonlyArray<Arg> => {
  const out = new Array<Arg>(args.length)
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a._tag === "Slot") {
      const v = slots[a.k]
      if (v === undefined) throw new SyntaxErr("?")
      out[i] = v
    } else out[i] = a
  }
  return out
}

const HOLES = /\u0000(\d+)\u0000/g

const fill = (t: SqlT, slots: ReadonlyArray<Arg>, names: ReadonlyArray<string> | undefined, holes: boolean): Sqlite => ({
  sql: holes ? t.sql.replace(HOLES, (_m, i: string) => (names?.[Number(i)] ?? "?").replaceAll("\u0000", "").replaceAll("\"", "\"\"")) : t.sql,
  args: fillArgs(t.args, slots)
})

export const instantiate = (t: Template, norm: Normalized): Statement => {
  const sqlite = fill(t.sqlite, norm.slots, norm.selectNames, t.hasHoles)
  switch (t.kind) {
    case "select": {
      const cn = t.columnNames
      let columnNames: Array<string> | undefined
      if (cn !== undefined && !cn.includes(undefined)) {
        columnNames = cn.map((x) => typeof x === "number" ? norm.selectNames?.[x] ?? "?" : x as string)
      }
      return {
        kind: "select",
        sqlite,
        tables: t.tables,
        calcFoundRows: t.calc === undefined ? undefined : fill(t.calc, norm.slots, undefined, false),
        columnNames,
        ...(norm.lockingRead ? { lockingRead: true } : {})
      }
    }
    case "insert": case "replace":
      return { kind: t.kind, sqlite, target: t.target!, tables: t.tables, columns: t.columns, rows: t.rows }
    default:
      if (t.multi !== undefined) return { kind: t.kind, sqlite, target: t.target!, tables: t.tables, multi: t.multi }
      return { kind: t.kind, sqlite, target: t.target!, tables: t.tables }
  }
}
