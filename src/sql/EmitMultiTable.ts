/**
 * Multi-table UPDATE / DELETE that SQLite cannot run as one statement: an UPDATE that sets
 * columns of several tables (or of a table other than the first) or joins with LEFT/RIGHT JOIN,
 * and a DELETE from several different tables. They become a SELECT of the matched rows (each
 * target's rowid, and for UPDATE the values its SET assignments compute, all read before anything
 * changes) plus one per-row statement per target, which the executor runs (src/query/MultiTable.ts).
 * The simpler forms stay single statements (EmitDml.ts: UPDATE … FROM, DELETE … WHERE rowid IN).
 */
import { findItem, emitWhere, type DmlShape } from "./EmitDml.ts"
import { emitExpr, nameOf, type N } from "./EmitExpr.ts"
import { emitFrom } from "./EmitSelect.ts"
import { type Out, quoteId, SyntaxErr, Unsupported } from "./Out.ts"
import type { MultiTarget, TableRef } from "./Statement.ts"

const tableRef = (item: N): TableRef => ({
  database: item.db === null || item.db === undefined || item.db === "" ? undefined : nameOf(item.db),
  table: nameOf(item.table)
})

const tableSql = (t: TableRef): string => (t.database !== undefined ? quoteId(t.database) + "." : "") + quoteId(t.table)

/** The name a FROM item is referred to by: its alias, else its table name. */
const refName = (item: N): string => (item.as !== null && item.as !== undefined ? nameOf(item.as) : nameOf(item.table))

const baseTable = (item: N | undefined, name: string): N => {
  if (item === undefined) throw new SyntaxErr(name)
  if (typeof item.table !== "string") throw new Unsupported("a multi-table UPDATE or DELETE of a derived table")
  return item
}

const noOrderOrLimit = (s: N, what: string): void => {
  if ((Array.isArray(s.orderby) && s.orderby.length > 0) || s.limit) throw new Unsupported(`multi-table ${what} with ORDER BY or LIMIT`)
}

/** True when the multi-table UPDATE needs the executor (EmitDml handles inner joins setting the first table). */
export const needsMultiUpdate = (items: ReadonlyArray<N>, sets: ReadonlyArray<N>): boolean => {
  if (items.length < 2) return false
  for (const a of sets) {
    const q = a.table === null || a.table === undefined ? undefined : nameOf(a.table)
    if (q !== undefined && findItem(items, q) !== items[0]) return true
  }
  return items.slice(1).some((f) => f.join !== undefined && f.join !== null && !/^(INNER |CROSS )?JOIN$/i.test(String(f.join)))
}

export const emitMultiUpdate = (o: Out, s: N, items: ReadonlyArray<N>, ignore: boolean): DmlShape => {
  noOrderOrLimit(s, "UPDATE")
  const groups = new Map<N, Array<N>>()
  for (const a of (s.set ?? []) as Array<N>) {
    const q = a.table === null || a.table === undefined ? undefined : nameOf(a.table)
    const item = baseTable(q === undefined ? items[0] : findItem(items, q), q ?? "")
    const list = groups.get(item)
    if (list === undefined) groups.set(item, [a])
    else list.push(a)
  }
  const targets: Array<MultiTarget> = []
  o.w("SELECT ")
  for (const [item, sets] of groups) {
    if (targets.length > 0) o.w(", ")
    o.w(quoteId(refName(item)) + ".rowid")
    for (const a of sets) {
      o.w(", ")
      emitExpr(o, a.value)
    }
    const table = tableRef(item)
    const assignments = sets.map((a) => quoteId(nameOf(a.column)) + " = ?").join(", ")
    targets.push({ table, values: sets.length, sql: `UPDATE ${ignore ? "OR IGNORE " : ""}${tableSql(table)} SET ${assignments} WHERE rowid = ?` })
  }
  o.w(" FROM ")
  emitFrom(o, items)
  emitWhere(o, s.where ? [s.where] : [])
  return { kind: "update", target: targets[0]!.table, columns: undefined, rows: undefined, multi: { targets } }
}

export const emitMultiDelete = (o: Out, s: N, from: ReadonlyArray<N>, targetNames: ReadonlyArray<string>): DmlShape => {
  noOrderOrLimit(s, "DELETE")
  const targets: Array<MultiTarget> = []
  o.w("SELECT ")
  targetNames.forEach((name, i) => {
    const item = baseTable(findItem(from, name), name)
    if (i > 0) o.w(", ")
    o.w(quoteId(refName(item)) + ".rowid")
    const table = tableRef(item)
    targets.push({ table, values: 0, sql: `DELETE FROM ${tableSql(table)} WHERE rowid = ?` })
  })
  o.w(" FROM ")
  emitFrom(o, from)
  emitWhere(o, s.where ? [s.where] : [])
  return { kind: "delete", target: targets[0]!.table, columns: undefined, rows: undefined, multi: { targets } }
}
