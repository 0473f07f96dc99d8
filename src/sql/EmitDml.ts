/**
 * INSERT / REPLACE / UPDATE / DELETE → SQLite.
 *
 *  INSERT IGNORE → INSERT OR IGNORE; ON DUPLICATE KEY UPDATE → ON CONFLICT DO UPDATE SET with
 *  VALUES(col) → excluded."col"; INSERT … SET → column-list form; multi-table UPDATE → UPDATE … FROM;
 *  multi-table DELETE (all targets one table) → DELETE … WHERE rowid IN (SELECT …).
 */
import { emitExpr, nameOf, type N } from "./EmitExpr.ts"
import { emitFrom, emitLimit, emitOrderBy, emitSelect, emitTableFactor, emitTableName } from "./EmitSelect.ts"
import { type Out, quoteId, Refused, SyntaxErr, Unsupported } from "./Out.ts"
import { emitMultiDelete, emitMultiUpdate, needsMultiUpdate } from "./EmitMultiTable.ts"
import type { MultiTable, TableRef } from "./Statement.ts"

export interface DmlShape {
  readonly kind: "insert" | "replace" | "update" | "delete"
  readonly target: TableRef
  readonly columns: ReadonlyArray<string> | undefined
  readonly rows: ReadonlyArray<ReadonlyArray<number>> | undefined
  readonly multi?: MultiTable
}

const tableRef = (db: N, table: N): TableRef => ({
  database: db === null || db === undefined || db === "" ? undefined : nameOf(db),
  table: nameOf(table)
})

const isBareValue = (e: N): boolean => {
  switch (e?.type) {
    case "param": case "number": case "bigint": case "single_quote_string": case "double_quote_string":
    case "hex_string": case "full_hex_string": case "bit_string": case "natural_string": case "string":
      return true
    default:
      return false
  }
}

export const emitInsert = (o: Out, s: N): DmlShape => {
  const kind: "insert" | "replace" = s.type === "replace" ? "replace" : "insert"
  const t = Array.isArray(s.table) ? s.table[0] : s.table
  if (t === undefined || t === null) throw new SyntaxErr("")
  const target = tableRef(t.db, t.table)
  const prefix = String(s.prefix ?? "").toLowerCase()
  const upsert = s.on_duplicate_update?.set
  o.w(kind === "replace" ? "REPLACE INTO " : prefix.includes("ignore") ? "INSERT OR IGNORE INTO " : "INSERT INTO ")
  emitTableName(o, t.db, t.table)
  let columns: Array<string> | undefined = Array.isArray(s.columns) && s.columns.length > 0
    ? s.columns.map((c: N) => nameOf(c))
    : undefined
  let rowsAst: Array<Array<N>> | undefined
  let select: N
  if (Array.isArray(s.set) && s.set.length > 0) {
    columns = s.set.map((a: N) => nameOf(a.column))
    rowsAst = [s.set.map((a: N) => a.value)]
  } else if (s.values?.type === "values") {
    rowsAst = (s.values.values as Array<N>).map((r) => r.value ?? [])
  } else if (s.values?.type === "select" || s.values?.ast !== undefined) {
    select = s.values.ast ?? s.values
  } else {
    throw new Unsupported("this INSERT form")
  }
  if (columns !== undefined) o.w(" (" + columns.map(quoteId).join(", ") + ")")
  let rows: Array<Array<number>> | undefined
  if (rowsAst !== undefined) {
    rows = []
    o.w(" VALUES ")
    rowsAst.forEach((r, i) => {
      if (i > 0) o.w(", ")
      o.w("(")
      const idx: Array<number> = []
      r.forEach((v, j) => {
        if (j > 0) o.w(", ")
        const before = o.args.length
        emitExpr(o, v)
        idx.push(isBareValue(v) && o.args.length === before + 1 ? before : -1)
      })
      o.w(")")
      rows!.push(idx)
    })
  } else {
    o.w(" ")
    emitSelect(o, select, { forceWhere: Array.isArray(upsert) && upsert.length > 0 })
  }
  if (Array.isArray(upsert) && upsert.length > 0) {
    o.w(" ON CONFLICT DO UPDATE SET ")
    o.upsert = true
    upsert.forEach((a: N, i: number) => {
      if (i > 0) o.w(", ")
      o.w(quoteId(nameOf(a.column)) + " = ")
      emitExpr(o, a.value)
    })
    o.upsert = false
  }
  return { kind, target, columns, rows }
}

/** The FROM item a multi-table UPDATE/DELETE target names (by alias, else by table name). */
export const findItem = (items: ReadonlyArray<N>, name: string): N | undefined => {
  const lower = name.toLowerCase()
  return items.find((f) => f.as !== null && f.as !== undefined && nameOf(f.as).toLowerCase() === lower) ??
    items.find((f) => (f.as === null || f.as === undefined) && typeof f.table === "string" && f.table.toLowerCase() === lower)
}

export const emitUpdate = (o: Out, s: N, ignore: boolean): DmlShape => {
  const items: Array<N> = Array.isArray(s.table) ? s.table : [s.table]
  const first = items[0]
  if (first === undefined || typeof first.table !== "string") throw new Unsupported("this UPDATE form")
  const sets: Array<N> = s.set ?? []
  if (needsMultiUpdate(items, sets)) return emitMultiUpdate(o, s, items, ignore)
  o.w(ignore ? "UPDATE OR IGNORE " : "UPDATE ")
  emitTableFactor(o, first)
  o.w(" SET ")
  sets.forEach((a, i) => {
    if (i > 0) o.w(", ")
    o.w(quoteId(nameOf(a.column)) + " = ")
    emitExpr(o, a.value)
  })
  const conds: Array<N> = []
  if (items.length > 1) {
    const rest = items.slice(1).map((f, i) => {
      if (i === 0 && f.on) conds.push(f.on)
      return i === 0 ? { ...f, join: undefined, on: undefined } : f
    })
    o.w(" FROM ")
    emitFrom(o, rest)
  }
  if (s.where) conds.push(s.where)
  emitWhere(o, conds)
  if (Array.isArray(s.orderby) && s.orderby.length > 0) { o.w(" "); emitOrderBy(o, s.orderby) }
  if (s.limit) emitLimit(o, s.limit)
  return { kind: "update", target: tableRef(first.db, first.table), columns: undefined, rows: undefined }
}

export const emitWhere = (o: Out, conds: ReadonlyArray<N>): void => {
  if (conds.length === 0) return
  o.w(" WHERE ")
  conds.forEach((c, i) => {
    if (i > 0) o.w(" AND ")
    emitExpr(o, c, conds.length > 1 ? 3 : 0)
  })
}

export const emitDelete = (o: Out, s: N): DmlShape => {
  const from: Array<N> = Array.isArray(s.from) ? s.from : []
  const targets: Array<N> = (Array.isArray(s.table) ? s.table : []).filter((t: N) => t.addition !== true)
  const single = from.length === 1 && from[0].expr === undefined &&
    (targets.length === 0 || (targets.length === 1 && findItem(from, nameOf(targets[0].table)) === from[0]))
  if (single) {
    const f = from[0]
    o.w("DELETE FROM ")
    emitTableFactor(o, f)
    emitWhere(o, s.where ? [s.where] : [])
    if (Array.isArray(s.orderby) && s.orderby.length > 0) { o.w(" "); emitOrderBy(o, s.orderby) }
    if (s.limit) emitLimit(o, s.limit)
    return { kind: "delete", target: tableRef(f.db, f.table), columns: undefined, rows: undefined }
  }
  if (targets.length === 0 || from.length === 0) throw new Unsupported("this DELETE form")
  const resolved = targets.map((t) => {
    const item = findItem(from, nameOf(t.table))
    if (item === undefined) throw new Refused(1109, "42S02", `Unknown table '${nameOf(t.table)}' in MULTI DELETE`)
    if (typeof item.table !== "string") throw new SyntaxErr(nameOf(t.table))
    return { item, ref: (item.as !== null && item.as !== undefined ? nameOf(item.as) : item.table) as string }
  })
  const base = resolved[0]!.item
  const baseKey = (x: N): string => `${x.db ?? ""}\u0000${String(x.table).toLowerCase()}`
  if (resolved.some((r) => baseKey(r.item) !== baseKey(base))) return emitMultiDelete(o, s, from, resolved.map((r) => r.ref))
  if (Array.isArray(s.orderby) && s.orderby.length > 0) throw new Unsupported("multi-table DELETE with ORDER BY")
  o.w("DELETE FROM ")
  emitTableName(o, base.db, base.table)
  o.w(" WHERE rowid IN (")
  resolved.forEach((r, i) => {
    if (i > 0) o.w(" UNION ALL ")
    o.w("SELECT " + quoteId(r.ref) + ".rowid FROM ")
    emitFrom(o, from)
    emitWhere(o, s.where ? [s.where] : [])
  })
  o.w(")")
  return { kind: "delete", target: tableRef(base.db, base.table), columns: undefined, rows: undefined }
}
