/**
 * SELECT (with WITH, compound operators, joins, derived tables, GROUP BY/HAVING/WINDOW,
 * ORDER BY, LIMIT) → SQLite.
 */
import { emitCollate, emitExpr, nameOf, type N } from "./EmitExpr.ts"
import { emitWindowSpec } from "./EmitFunc.ts"
import { NeedsExact, type Out, quoteId, SyntaxErr, Unsupported } from "./Out.ts"

/** Name-hole marker for result-column names filled in per statement instance. */
export const HOLE = "\u0000"

export interface SelectOpts {
  /** emit `WHERE true` when there is no WHERE (INSERT … SELECT … ON CONFLICT) */
  readonly forceWhere?: boolean
  /** leave out LIMIT/OFFSET (SQL_CALC_FOUND_ROWS count query) */
  readonly omitLimit?: boolean
  /** result-column naming for the top-level SELECT: names[i] from the source text */
  readonly names?: ReadonlyArray<string>
  /** out: per column, its name (string), a hole index (number), or undefined when unknown (`*`) */
  readonly columnNames?: Array<string | number | undefined>
}

const unwrap = (q: N): N => (q !== null && typeof q === "object" && q.ast !== undefined ? q.ast : q)

export const emitSubquery = (o: Out, q: N): void => {
  o.w("(")
  emitSelect(o, unwrap(q), {})
  o.w(")")
}

export const emitSelect = (o: Out, s: N, opts: SelectOpts): void => {
  if (s.type !== "select") throw new Unsupported(`${String(s.type)} as a query`)
  if (Array.isArray(s.with) && s.with.length > 0) emitWith(o, s.with)
  const compound = s._next !== undefined && s._next !== null
  let cur: N = s
  let first = true
  while (cur !== undefined && cur !== null) {
    const next = cur._next
    const isLast = next === undefined || next === null
    const hasTail = (Array.isArray(cur.orderby) && cur.orderby.length > 0) || (cur.limit && cur.limit.value?.length > 0)
    const own = first ? opts : {}
    if (compound && hasTail && (!isLast || cur.parentheses_symbol === true)) {
      o.w("SELECT * FROM (")
      emitCore(o, cur, own, false)
      o.w(")")
    } else {
      emitCore(o, cur, own, opts.omitLimit === true)
    }
    if (!isLast) o.w(" " + String(cur.set_op ?? "union").toUpperCase() + " ")
    first = false
    cur = next
  }
  if (Array.isArray(s._orderby) && s._orderby.length > 0) { o.w(" "); emitOrderBy(o, s._orderby) }
  if (s._limit && opts.omitLimit !== true) emitLimit(o, s._limit)
}

const emitWith = (o: Out, ws: Array<N>): void => {
  o.w(ws.some((w) => w.recursive === true) ? "WITH RECURSIVE " : "WITH ")
  for (const w of ws) o.ctes.add(nameOf(w.name).toLowerCase())
  ws.forEach((w, i) => {
    if (i > 0) o.w(", ")
    o.w(quoteId(nameOf(w.name)))
    if (Array.isArray(w.columns) && w.columns.length > 0) {
      o.w(" (" + w.columns.map((c: N) => quoteId(nameOf(c.column ?? c))).join(", ") + ")")
    }
    o.w(" AS ")
    emitSubquery(o, w.stmt)
  })
  o.w(" ")
}

/** Some aggregate call in an expression tree (subqueries included: then SQLite's rule is left to apply). */
const hasAggregate = (e: unknown): boolean => {
  if (e === null || typeof e !== "object") return false
  if ((e as N).type === "aggr_func") return true
  return Object.values(e as object).some(hasAggregate)
}

/** One SELECT block with its ORDER BY/LIMIT (LIMIT left out when `omitLimit`). */
const emitCore = (o: Out, s: N, opts: SelectOpts, omitLimit: boolean): void => {
  if (s.into && (s.into.position || s.into.expr)) throw new Unsupported("SELECT … INTO")
  const gb0 = s.groupby
  const grouped = (Array.isArray(gb0) ? gb0 : gb0?.columns ?? []).length > 0
  if (s.having && !grouped && !hasAggregate(s.columns) && !hasAggregate(s.having)) {
    // MySQL filters a non-aggregate query by HAVING over its result columns (aliases); SQLite
    // refuses HAVING there: the query becomes a subquery (keeping its ORDER BY) filtered by WHERE.
    o.w("SELECT * FROM (")
    emitCore(o, { ...s, having: null, limit: null }, opts, true)
    o.w(") WHERE ")
    emitExpr(o, Array.isArray(s.having) ? s.having[0] : s.having)
    if (s.limit && !omitLimit) emitLimit(o, s.limit)
    return
  }
  o.w("SELECT ")
  const distinct = typeof s.distinct === "string" ? s.distinct : s.distinct?.type
  if (typeof distinct === "string" && distinct.toUpperCase().startsWith("DISTINCT")) o.w("DISTINCT ")
  emitColumns(o, s.columns, opts)
  const from: Array<N> = Array.isArray(s.from) ? s.from : s.from ? [s.from] : []
  const real = from.filter((f) => f.type !== "dual")
  if (real.length > 0) { o.w(" FROM "); emitFrom(o, real) }
  if (s.where) { o.w(" WHERE "); emitExpr(o, s.where) } else if (opts.forceWhere === true) o.w(" WHERE true")
  const gb = s.groupby
  const groupCols: Array<N> | undefined = Array.isArray(gb) ? gb : gb?.columns ?? undefined
  if (Array.isArray(groupCols) && groupCols.length > 0) {
    if (Array.isArray(gb?.modifiers) && gb.modifiers.some((m: N) => m !== null && m !== undefined)) throw new Unsupported("GROUP BY … WITH ROLLUP")
    o.w(" GROUP BY ")
    groupCols.forEach((g, i) => { if (i > 0) o.w(", "); emitOrdinalOrExpr(o, g) })
  } else if (s.having && !hasAggregate(s.columns)) {
    // an aggregate only in HAVING makes the query one group in MySQL; SQLite needs the GROUP BY said
    o.w(" GROUP BY NULL")
  }
  if (s.having) { o.w(" HAVING "); emitExpr(o, Array.isArray(s.having) ? s.having[0] : s.having) }
  if (s.window?.expr) {
    o.w(" WINDOW ")
    ;(s.window.expr as Array<N>).forEach((w, i) => {
      if (i > 0) o.w(", ")
      o.w(quoteId(String(w.name)) + " AS ")
      const spec = w.as_window_specification
      if (typeof spec === "string") o.w(quoteId(spec))
      else emitWindowSpec(o, spec?.window_specification ?? {})
    })
  }
  if (Array.isArray(s.orderby) && s.orderby.length > 0) { o.w(" "); emitOrderBy(o, s.orderby) }
  if (s.limit && !omitLimit) emitLimit(o, s.limit)
}

const emitColumns = (o: Out, cols: N, opts: SelectOpts): void => {
  if (!Array.isArray(cols)) { o.w("*"); opts.columnNames?.push(undefined); return }
  const names = opts.names !== undefined && opts.names.length === cols.length ? opts.names : undefined
  cols.forEach((c: N, i: number) => {
    if (i > 0) o.w(", ")
    const e = c.expr ?? c
    if (e.type === "column_ref" && nameOf(e.column) === "*") {
      emitExpr(o, e)
      opts.columnNames?.push(undefined)
      return
    }
    if (e.type === "star") { o.w("*"); opts.columnNames?.push(undefined); return }
    emitExpr(o, e)
    const alias = c.as === null || c.as === undefined ? undefined : nameOf(c.as)
    if (alias !== undefined && alias !== "") {
      o.w(" AS " + quoteId(alias))
      opts.columnNames?.push(alias)
    } else if (e.type === "column_ref") {
      opts.columnNames?.push(nameOf(e.column))
    } else if (names !== undefined) {
      o.w(` AS "${HOLE}${i}${HOLE}"`)
      opts.columnNames?.push(i)
    } else {
      opts.columnNames?.push(undefined)
    }
  })
}

export const emitFrom = (o: Out, items: ReadonlyArray<N>): void => {
  items.forEach((f, i) => {
    if (i > 0) {
      if (f.join) o.w(" " + String(f.join).toUpperCase().replace("INNER JOIN", "JOIN") + " ")
      else o.w(", ")
    }
    emitTableFactor(o, f)
    if (f.on) { o.w(" ON "); emitExpr(o, f.on) }
    if (Array.isArray(f.using) && f.using.length > 0) {
      o.w(" USING (" + f.using.map((u: N) => quoteId(nameOf(u))).join(", ") + ")")
    }
  })
}

export const emitTableFactor = (o: Out, f: N): void => {
  if (f.expr !== undefined && f.expr !== null) {
    const q = f.expr
    if (q.ast !== undefined || q.type === "select") emitSubquery(o, q)
    else throw new Unsupported("this table expression")
  } else if (typeof f.table === "string" || (f.table && typeof f.table === "object" && "value" in f.table)) {
    emitTableName(o, f.db, f.table)
  } else {
    throw new Unsupported("this FROM item")
  }
  const alias = f.as === null || f.as === undefined ? undefined : nameOf(f.as)
  if (alias !== undefined && alias !== "") o.w(" AS " + quoteId(alias))
}

/** `"db"."table"` or `"table"`, and records the table reference. */
export const emitTableName = (o: Out, db: N, table: N): void => {
  const d = db === null || db === undefined || db === "" ? undefined : nameOf(db)
  const t = nameOf(table)
  if (t === "") throw new SyntaxErr("")
  o.table(d, t)
  o.w(d !== undefined ? quoteId(d) + "." + quoteId(t) : quoteId(t))
}

export const emitOrderBy = (o: Out, items: ReadonlyArray<N>): void => {
  o.w("ORDER BY ")
  items.forEach((it, i) => {
    if (i > 0) o.w(", ")
    emitOrdinalOrExpr(o, it.expr)
    if (it.collate) emitCollate(o, it.collate)
    const dir = typeof it.type === "string" ? it.type.toUpperCase() : ""
    if (dir === "DESC") o.w(" DESC")
    else if (dir === "ASC") o.w(" ASC")
  })
}

/** ORDER/GROUP BY item: a bare integer is a column ordinal and must stay a literal. */
const emitOrdinalOrExpr = (o: Out, e: N): void => {
  if (e?.type === "number" && Number.isInteger(e.value)) { o.w(String(e.value)); return }
  if (e?.type === "param" && o.mode === "lift") {
    const k = Number(String(e.value).slice(1))
    if (o.slots?.[k]?._tag === "Value") throw new NeedsExact()
  }
  emitExpr(o, e)
}

export const emitLimit = (o: Out, l: N): void => {
  const v: Array<N> = l.value ?? []
  if (v.length === 0) return
  const sep = String(l.seperator ?? "").toLowerCase()
  o.w(" LIMIT ")
  if (sep === "," && v.length === 2) {
    emitExpr(o, v[1])
    o.w(" OFFSET ")
    emitExpr(o, v[0])
  } else {
    emitExpr(o, v[0])
    if (v.length === 2) { o.w(" OFFSET "); emitExpr(o, v[1]) }
  }
}
