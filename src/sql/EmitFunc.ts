/**
 * Function calls, aggregates, CAST/CONVERT, INTERVAL arithmetic, EXTRACT and window clauses.
 * Ordinary functions are emitted lower-case by name with translated arguments: the executor
 * registers MySQL's functions as SQLite functions. Only syntax MySQL has and SQLite lacks is
 * rewritten here.
 */
import { emitExpr, emitList, nameOf, P_PRIMARY, type N } from "./EmitExpr.ts"
import { emitOrderBy, emitSubquery } from "./EmitSelect.ts"
import { type Out, quoteId, SyntaxErr, Unsupported } from "./Out.ts"
import type { SessionFnName } from "./Statement.ts"

const SESSION_FNS: Record<string, SessionFnName> = {
  LAST_INSERT_ID: "last_insert_id", DATABASE: "database", SCHEMA: "database", FOUND_ROWS: "found_rows",
  CONNECTION_ID: "connection_id", USER: "user", SESSION_USER: "user", SYSTEM_USER: "user",
  CURRENT_USER: "current_user", VERSION: "version", ROW_COUNT: "row_count"
}
/** renamed functions (same arguments) */
const RENAMES: Record<string, string> = {
  IF: "iif", CURRENT_TIMESTAMP: "now", LOCALTIME: "now", LOCALTIMESTAMP: "now", CURRENT_DATE: "curdate",
  CURRENT_TIME: "curtime", SUBSTRING: "substr", MID: "substr"
}

const fnName = (e: N): { readonly upper: string; readonly schema: string | undefined } => {
  const parts: Array<N> = e.name?.name ?? []
  const name = parts.map(nameOf).join(".")
  const schema = e.name?.schema ? nameOf(e.name.schema) : undefined
  return { upper: name.toUpperCase(), schema }
}

const argsOf = (e: N): Array<N> => {
  const a = e.args
  if (a === null || a === undefined) return []
  if (Array.isArray(a)) return a
  if (a.type === "expr_list") return a.value ?? []
  return [a]
}

export const emitFunction = (o: Out, e: N): void => {
  const { upper, schema } = fnName(e)
  const args = argsOf(e)
  if (schema !== undefined) throw new Unsupported(`stored function ${schema}.${upper.toLowerCase()}`)
  const session = SESSION_FNS[upper]
  if (session !== undefined && args.length === 0) {
    if (o.mode === "inline") throw new Unsupported(`${upper}() here`)
    o.arg({ _tag: "SessionFn", fn: session })
    return emitOver(o, e)
  }
  switch (upper) {
    case "__MARMOT_ARG":
      if (args.length !== 1) throw new SyntaxErr(upper)
      return emitExpr(o, args[0])
    case "LAST_INSERT_ID":
      throw new Unsupported("LAST_INSERT_ID(expr)")
    case "VALUES":
      if (o.upsert && args.length === 1 && args[0].type === "column_ref") {
        o.w("excluded." + quoteId(nameOf(args[0].column)))
        return
      }
      throw new Unsupported("VALUES() outside ON DUPLICATE KEY UPDATE")
    case "EXISTS": {
      const q = args[0]
      o.w("EXISTS ")
      emitSubquery(o, q?.ast ?? q)
      return
    }
    case "DATE_ADD": case "ADDDATE": case "DATE_SUB": case "SUBDATE": {
      const fn = upper === "DATE_ADD" || upper === "ADDDATE" ? "date_add" : "date_sub"
      if (args.length !== 2) throw new SyntaxErr(upper)
      if (args[1]?.type === "interval") return emitInterval(o, args[1], args[0], fn)
      o.w(fn + "(")
      emitExpr(o, args[0])
      o.w(", ")
      emitExpr(o, args[1])
      o.w(", 'DAY')")
      return
    }
    case "CONVERT": {
      const [x, type] = args
      if (args.length === 1 && typeof x?.suffix === "string" && /^USING /i.test(x.suffix)) {
        const { suffix: _drop, ...rest } = x
        emitExpr(o, rest, P_PRIMARY)
        return
      }
      if (args.length === 2 && type?.type === "datatype") return emitCastTo(o, x, type)
      throw new Unsupported("this CONVERT form")
    }
    case "TRIM": {
      // TRIM([LEADING|TRAILING|BOTH] [remstr] FROM str) arrives as a flat list with origin markers
      const fromIdx = args.findIndex((a: N) => a.type === "origin" && String(a.value).toUpperCase() === "FROM")
      if (fromIdx < 0) break
      const side = args[0]?.type === "origin" ? String(args[0].value).toUpperCase() : "BOTH"
      const rem = args.slice(args[0]?.type === "origin" ? 1 : 0, fromIdx)
      const fn = side === "LEADING" ? "ltrim" : side === "TRAILING" ? "rtrim" : "trim"
      o.w(fn + "(")
      emitExpr(o, args[fromIdx + 1])
      if (rem.length === 1) { o.w(", "); emitExpr(o, rem[0]) }
      o.w(")")
      return
    }
    case "POSITION": {
      const inExpr = args[0]
      if (args.length === 1 && inExpr?.type === "binary_expr" && inExpr.operator === "IN") {
        o.w("instr(")
        emitExpr(o, inExpr.right)
        o.w(", ")
        emitExpr(o, inExpr.left)
        o.w(")")
        return
      }
      break
    }
  }
  const renamed = RENAMES[upper]
  o.w((renamed ?? upper.toLowerCase()) + "(")
  emitList(o, args)
  o.w(")")
  emitOver(o, e)
}

export const emitAggregate = (o: Out, e: N): void => {
  const upper = String(e.name).toUpperCase()
  const a = e.args ?? {}
  const distinct = a.distinct ? "DISTINCT " : ""
  const x = a.expr
  if (upper === "GROUP_CONCAT") {
    const sepNode = a.separator?.value ?? a.separator
    const hasSep = sepNode !== undefined && sepNode !== null && typeof sepNode === "object"
    const items: Array<N> = x?.type === "expr_list" ? x.value : [x]
    if (items.length !== 1) throw new Unsupported("GROUP_CONCAT of several expressions")
    o.w("group_concat(" + distinct)
    emitExpr(o, items[0])
    if (hasSep) {
      if (distinct !== "") {
        const sep = sepNode.value
        if (sep !== ",") throw new Unsupported("GROUP_CONCAT(DISTINCT … SEPARATOR other than ',')")
      } else {
        o.w(", ")
        emitExpr(o, sepNode)
      }
    }
    if (Array.isArray(a.orderby) && a.orderby.length > 0) {
      o.w(" ")
      emitOrderBy(o, a.orderby)
    }
    o.w(")")
    return emitOver(o, e)
  }
  if (x?.type === "expr_list" && x.value.length !== 1) throw new Unsupported(`${upper}(DISTINCT several expressions)`)
  o.w(upper.toLowerCase() + "(" + distinct)
  if (x?.type === "star") o.w("*")
  else if (x !== undefined && x !== null) emitExpr(o, x?.type === "expr_list" ? x.value[0] : x)
  o.w(")")
  emitOver(o, e)
}

const INTERVAL_UNITS = new Set([
  "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR", "SECOND_MICROSECOND",
  "MINUTE_MICROSECOND", "MINUTE_SECOND", "HOUR_MICROSECOND", "HOUR_SECOND", "HOUR_MINUTE", "DAY_MICROSECOND",
  "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR", "YEAR_MONTH"
])

/** `base ± INTERVAL n unit` → date_add(base, n, 'UNIT') / date_sub(…). */
export const emitInterval = (o: Out, iv: N, base?: N, fn?: "date_add" | "date_sub"): void => {
  if (base === undefined || fn === undefined) throw new Unsupported("INTERVAL outside date arithmetic")
  const unit = String(iv.unit ?? "").toUpperCase()
  if (!INTERVAL_UNITS.has(unit)) throw new SyntaxErr(unit)
  o.w(fn + "(")
  emitExpr(o, base)
  o.w(", ")
  emitExpr(o, iv.expr)
  o.w(`, '${unit}')`)
}

export const emitCast = (o: Out, e: N): void => {
  const target = Array.isArray(e.target) ? e.target[0] : e.target
  emitCastTo(o, e.expr, target)
}

const emitCastTo = (o: Out, x: N, target: N): void => {
  const t = String(target?.dataType ?? "").toUpperCase()
  const base = t.split(/\s+/)[0] ?? ""
  const wrap = (pre: string, post: string): void => { o.w(pre); emitExpr(o, x); o.w(post) }
  switch (base) {
    case "SIGNED": case "UNSIGNED": case "INT": case "INTEGER": case "BIGINT":
      return wrap("CAST(", " AS INTEGER)")
    case "CHAR": case "VARCHAR": case "NCHAR": case "TEXT":
      return wrap("CAST(", " AS TEXT)")
    case "BINARY": case "VARBINARY": case "BLOB":
      return wrap("CAST(", " AS BLOB)")
    case "DECIMAL": case "DEC": case "NUMERIC": case "FIXED": {
      const scale = typeof target.scale === "number" ? target.scale : 0
      return wrap("round(CAST(", ` AS REAL), ${scale})`)
    }
    case "DOUBLE": case "FLOAT": case "REAL":
      return wrap("CAST(", " AS REAL)")
    case "DATE": return wrap("date(", ")")
    case "DATETIME": case "TIMESTAMP": return wrap("datetime(", ")")
    case "TIME": return wrap("time(", ")")
    case "JSON": return wrap("json(", ")")
    case "YEAR": return wrap("year(", ")")
    default:
      throw new Unsupported(`CAST AS ${t}`)
  }
}

const EXTRACT_FNS: Record<string, string> = {
  YEAR: "year", MONTH: "month", DAY: "dayofmonth", HOUR: "hour", MINUTE: "minute", SECOND: "second",
  WEEK: "week", QUARTER: "quarter", MICROSECOND: "microsecond"
}

export const emitExtract = (o: Out, e: N): void => {
  const field = String(e.args?.field ?? "").toUpperCase()
  const fn = EXTRACT_FNS[field]
  if (fn !== undefined) {
    o.w(fn + "(")
    emitExpr(o, e.args.source)
    o.w(")")
    return
  }
  if (!INTERVAL_UNITS.has(field)) throw new SyntaxErr(field)
  o.w(`extract('${field}', `)
  emitExpr(o, e.args.source)
  o.w(")")
}

/** OVER (window spec) or OVER name */
export const emitOver = (o: Out, e: N): void => {
  const over = e.over
  if (over === null || over === undefined) return
  const spec = over.as_window_specification
  o.w(" OVER ")
  if (typeof spec === "string") { o.w(quoteId(spec)); return }
  emitWindowSpec(o, spec?.window_specification ?? {})
}

export const emitWindowSpec = (o: Out, ws: N): void => {
  const parts: Array<() => void> = []
  if (ws.name) parts.push(() => o.w(quoteId(String(ws.name))))
  if (Array.isArray(ws.partitionby) && ws.partitionby.length > 0) {
    parts.push(() => {
      o.w("PARTITION BY ")
      ws.partitionby.forEach((p: N, i: number) => { if (i > 0) o.w(", "); emitExpr(o, p.expr ?? p) })
    })
  }
  if (Array.isArray(ws.orderby) && ws.orderby.length > 0) parts.push(() => emitOrderBy(o, ws.orderby))
  const frame = ws.window_frame_clause
  if (frame) parts.push(() => emitFrame(o, frame))
  o.w("(")
  parts.forEach((p, i) => { if (i > 0) o.w(" "); p() })
  o.w(")")
}

const FRAME_WORD = /^(rows|range|groups|unbounded preceding|unbounded following|current row)$/i

const emitFrame = (o: Out, f: N): void => {
  if (typeof f === "string") {
    if (!/^[a-z0-9 ]+$/i.test(f)) throw new Unsupported("window frame")
    o.w(f.toUpperCase())
    return
  }
  const bound = (b: N): string => {
    if (b?.type === "origin" && FRAME_WORD.test(String(b.value))) return String(b.value).toUpperCase()
    if (typeof b?.value === "string" && /^\d+ (PRECEDING|FOLLOWING)$/i.test(b.value)) return b.value.toUpperCase()
    throw new Unsupported("window frame")
  }
  if (f.type === "binary_expr" && String(f.operator).toUpperCase() === "BETWEEN") {
    o.w(`${bound(f.left)} BETWEEN ${bound(f.right.value[0])} AND ${bound(f.right.value[1])}`)
    return
  }
  throw new Unsupported("window frame")
}
