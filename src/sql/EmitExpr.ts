/**
 * MySQL expression AST (node-sql-parser) → SQLite expression text.
 *
 * Parentheses follow SQLite precedence: a child is wrapped when it binds less tightly than its
 * parent needs (the AST already encodes MySQL's grouping), or when the source had them.
 */
import { emitFunction, emitAggregate, emitInterval, emitCast, emitExtract } from "./EmitFunc.ts"
import { regroupArithmetic } from "./Arith.ts"
import { emitSubquery } from "./EmitSelect.ts"
import { unescapeMysql } from "./Lexer.ts"
import { NeedsExact, type Out, quoteId, SyntaxErr, Unsupported } from "./Out.ts"

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type N = any

// SQLite precedence levels (higher binds tighter)
export const P_OR = 1, P_AND = 2, P_NOT = 3, P_EQ = 4, P_REL = 5, P_BIT = 7, P_ADD = 8, P_MUL = 9,
  P_JSON = 10, P_UNARY = 13, P_PRIMARY = 14

const EQ_OPS: Record<string, string> = {
  "=": "=", "!=": "<>", "<>": "<>", "IS": "IS", "IS NOT": "IS NOT", "IN": "IN", "NOT IN": "NOT IN",
  "REGEXP": "REGEXP", "NOT REGEXP": "NOT REGEXP", "RLIKE": "REGEXP", "NOT RLIKE": "NOT REGEXP"
}
const SIMPLE_OPS: Record<string, [string, number]> = {
  "<": ["<", P_REL], "<=": ["<=", P_REL], ">": [">", P_REL], ">=": [">=", P_REL],
  "&": ["&", P_BIT], "|": ["|", P_BIT], "<<": ["<<", P_BIT], ">>": [">>", P_BIT],
  "*": ["*", P_MUL], "%": ["%", P_MUL], "MOD": ["%", P_MUL],
  "->": ["->", P_JSON], "->>": ["->>", P_JSON]
}

/** A string-valued name in the AST: a plain string or {type, value} / {expr: {value}} wrappers. */
export const nameOf = (x: N): string => {
  if (typeof x === "string") return x
  if (x === null || x === undefined) return ""
  if (typeof x.value === "string") return x.value
  if (x.expr !== undefined) return nameOf(x.expr)
  return String(x.value ?? "")
}

/** Writes `e` wrapped in parentheses when its precedence is below `min`. */
export const emitExpr = (o: Out, e: N, min = 0): void => {
  if (e === null || e === undefined) throw new SyntaxErr("")
  const paren = e.parentheses === true && e.type !== "expr_list" && e.ast === undefined
  if (paren || precedence(e) < min) {
    o.w("(")
    emitBare(o, e)
    o.w(")")
  } else {
    emitBare(o, e)
  }
}

const precedence = (e: N): number => {
  switch (e.type) {
    case "binary_expr": {
      const op = String(e.operator).toUpperCase()
      if (op === "OR" || op === "||") return P_OR
      if (op === "AND" || op === "&&") return P_AND
      if (op in EQ_OPS || op === "LIKE" || op === "NOT LIKE" || op === "BETWEEN" || op === "NOT BETWEEN") return P_EQ
      if (op === "+" || op === "-") return isInterval(e.left) || isInterval(e.right) ? P_PRIMARY : P_ADD
      if (op === "/") return P_MUL
      const s = SIMPLE_OPS[op]
      return s !== undefined ? s[1] : P_PRIMARY
    }
    case "unary_expr": {
      const op = String(e.operator).toUpperCase()
      return op === "NOT" || op === "!" ? P_NOT : P_UNARY
    }
    default:
      return P_PRIMARY
  }
}

const isInterval = (e: N): boolean => e !== null && typeof e === "object" && e.type === "interval"

const emitBare = (o: Out, e: N): void => {
  switch (e.type) {
    case "binary_expr": return emitBinary(o, e)
    case "unary_expr": {
      const op = String(e.operator).toUpperCase()
      if (op === "NOT" || op === "!") { o.w("NOT "); emitExpr(o, e.expr, P_NOT); return }
      o.w(op)
      emitExpr(o, e.expr, P_UNARY)
      return
    }
    case "column_ref": return emitColumnRef(o, e)
    case "param": return emitParam(o, e)
    case "number": return emitNumber(o, e.value)
    case "bigint": return emitNumber(o, e.value)
    case "single_quote_string": case "natural_string": case "string":
      o.value(e.prefix === "_binary" ? Buffer.from(unescapeMysql(e.value, "'")) : unescapeMysql(e.value, "'"))
      return
    case "double_quote_string": o.value(unescapeMysql(e.value, "\"")); return
    case "hex_string": case "full_hex_string": o.value(Buffer.from(e.value, "hex")); return
    case "bit_string": o.value(e.value === "" ? 0n : BigInt("0b" + String(e.value))); return
    case "bool": o.w(e.value ? "1" : "0"); return
    case "null": o.w("NULL"); return
    case "date": case "time": case "timestamp": case "datetime": o.value(e.value); return
    case "star": o.w("*"); return
    case "var": return emitVar(o, e)
    case "case": return emitCase(o, e)
    case "cast": return emitCast(o, e)
    case "function": return emitFunction(o, e)
    case "aggr_func": return emitAggregate(o, e)
    case "interval": return emitInterval(o, e)
    case "extract": return emitExtract(o, e)
    case "expr_list": {
      o.w("(")
      emitList(o, e.value)
      o.w(")")
      return
    }
    case "expr": return emitExpr(o, e.expr)
    case "select": return emitSubquery(o, e)
    case "fulltext_search": throw new Unsupported("MATCH … AGAINST")
    case "assign": throw new Unsupported(":= assignment")
    case "default": throw new Unsupported("DEFAULT as a value")
    case "origin": {
      const v = String(e.value).toUpperCase()
      if (v === "CURRENT_TIMESTAMP" || v === "LOCALTIME" || v === "LOCALTIMESTAMP") { o.w("now()"); return }
      if (v === "CURRENT_DATE") { o.w("curdate()"); return }
      if (v === "CURRENT_TIME") { o.w("curtime()"); return }
      if (v === "NULL") { o.w("NULL"); return }
      throw new SyntaxErr(String(e.value))
    }
    default:
      if (e.ast !== undefined) return emitSubquery(o, e.ast)
      throw new Unsupported(`expression ${String(e.type)}`)
  }
}

export const emitList = (o: Out, items: ReadonlyArray<N>): void => {
  for (let i = 0; i < items.length; i++) {
    if (i > 0) o.w(", ")
    emitExpr(o, items[i], 0)
  }
}

const emitNumber = (o: Out, v: N): void => {
  const s = String(v)
  if (/^-?\d+$/.test(s)) {
    const b = BigInt(s)
    o.value(b >= -(2n ** 63n) && b < 2n ** 63n ? b : Number(s))
  } else o.value(Number(s))
}

export const emitParam = (o: Out, e: N): void => {
  const m = /^[pn](\d+)$/.exec(String(e.value))
  if (m === null) throw new SyntaxErr(":" + String(e.value))
  const k = Number(m[1])
  if (o.mode === "inline") {
    const v = o.slots?.[k]
    if (v === undefined || v._tag !== "Value") throw new SyntaxErr("?")
    o.value(v.value)
    return
  }
  o.arg({ _tag: "Slot", k })
}

export const emitColumnRef = (o: Out, e: N): void => {
  const column = nameOf(e.column)
  const table = e.table === null || e.table === undefined ? undefined : nameOf(e.table)
  const db = e.db === null || e.db === undefined ? (e.schema ? nameOf(e.schema) : undefined) : nameOf(e.db)
  if (db !== undefined && db !== "") o.w(quoteId(db) + ".")
  if (table !== undefined && table !== "") o.w(quoteId(table) + ".")
  o.w(column === "*" ? "*" : quoteId(column))
  if (e.collate) emitCollate(o, e.collate)
}

export const emitCollate = (o: Out, c: N): void => {
  const name = nameOf(c.collate?.name ?? c.collate ?? c.value ?? c.name).toLowerCase()
  if (name.endsWith("_bin") || name === "binary") o.w(" COLLATE BINARY")
  else if (name.endsWith("_ci")) o.w(" COLLATE NOCASE")
}

const emitVar = (o: Out, e: N): void => {
  const members: Array<string> = e.members ?? []
  if (e.prefix === "@@") {
    const head = String(e.name).toLowerCase()
    if (members.length > 0 && (head === "session" || head === "global" || head === "local")) {
      o.arg({ _tag: "SysVar", name: members.join(".").toLowerCase(), scope: head === "global" ? "global" : "session" })
    } else {
      o.arg({ _tag: "SysVar", name: [head, ...members].join(".").toLowerCase(), scope: "default" })
    }
    return
  }
  if (o.mode === "inline") throw new Unsupported("user variables here")
  o.arg({ _tag: "UserVar", name: [String(e.name), ...members].join(".").toLowerCase() })
}

const emitCase = (o: Out, e: N): void => {
  o.w("CASE")
  if (e.expr) { o.w(" "); emitExpr(o, e.expr) }
  for (const a of e.args as Array<N>) {
    if (a.type === "when") { o.w(" WHEN "); emitExpr(o, a.cond); o.w(" THEN "); emitExpr(o, a.result) }
    else { o.w(" ELSE "); emitExpr(o, a.result) }
  }
  o.w(" END")
}

const ARITH = new Set(["+", "-", "*", "/", "DIV", "%", "MOD", "&", "|", "<<", ">>", "^"])

const emitBinary = (o: Out, e0: N): void => {
  const op = String(e0.operator).toUpperCase()
  if (op === "OR" || op === "||" || op === "AND" || op === "&&") return emitLogical(o, e0)
  const e = ARITH.has(op) && e0._grouped !== true ? regroupArithmetic(e0) : e0
  if (e !== e0 && e.operator !== e0.operator) return emitExpr(o, e)
  const { left, right } = e
  if (op === "+" || op === "-") {
    if (isInterval(right)) return emitInterval(o, right, left, op === "+" ? "date_add" : "date_sub")
    if (isInterval(left) && op === "+") return emitInterval(o, left, right, "date_add")
    return infix(o, left, ` ${op} `, right, P_ADD)
  }
  if (op === "/") {
    emitExpr(o, left, P_MUL)
    o.w(" / CAST(")
    emitExpr(o, right)
    o.w(" AS REAL)")
    return
  }
  if (op === "DIV") {
    o.w("CAST(")
    infix(o, left, " / ", right, P_MUL)
    o.w(" AS INTEGER)")
    return
  }
  if (op === "^") {
    o.w("((")
    infix(o, left, " | ", right, P_BIT)
    o.w(") - (")
    infix(o, left, " & ", right, P_BIT)
    o.w("))")
    return
  }
  if (op === "LIKE" || op === "NOT LIKE") {
    emitExpr(o, left, P_EQ + 1)
    o.w(` ${op} `)
    const esc = right?.escape
    emitExpr(o, right, P_EQ + 2)
    if (esc) {
      o.w(" ESCAPE ")
      emitExpr(o, esc.value, P_EQ + 2)
    } else o.w(" ESCAPE '\\'")
    return
  }
  if (op === "BETWEEN" || op === "NOT BETWEEN") {
    const [lo, hi] = right.value as Array<N>
    emitExpr(o, left, P_EQ + 1)
    o.w(` ${op} `)
    operand(o, lo, left, P_EQ + 1)
    o.w(" AND ")
    operand(o, hi, left, P_EQ + 1)
    return
  }
  if (op === "IN" || op === "NOT IN") {
    emitExpr(o, left, P_EQ + 1)
    o.w(` ${op} `)
    if (right.type === "expr_list") {
      const items: Array<N> = right.value
      const only = items.length === 1 ? items[0] : undefined
      if (only !== undefined && (only.ast !== undefined || only.type === "select")) { emitSubquery(o, only.ast ?? only); return }
      o.w("(")
      emitList(o, items)
      o.w(")")
      return
    }
    emitExpr(o, right, P_PRIMARY)
    return
  }
  if (op === "IS" || op === "IS NOT") {
    emitExpr(o, left, P_EQ + 1)
    o.w(` ${op} `)
    if (right?.type === "bool") { o.w(right.value ? "TRUE" : "FALSE"); return }
    emitExpr(o, right, P_EQ + 1)
    return
  }
  const eq = EQ_OPS[op]
  const simple = SIMPLE_OPS[op]
  const [sym, p] = eq !== undefined ? [eq, P_EQ] : simple ?? ["", 0]
  if (sym !== "") {
    if (!(op === "=" || op === "!=" || op === "<>" || p === P_REL)) return infix(o, left, ` ${sym} `, right, p)
    operand(o, left, right, p)
    o.w(` ${sym} `)
    operand(o, right, left, p + 1)
    return
  }
  if (op === "@>") throw new NeedsExact()
  throw new Unsupported(`operator ${op}`)
}

type Logical = "OR" | "AND" | "XOR"

const logicalOp = (e: N): "OR" | "AND" | undefined => {
  if (e?.type !== "binary_expr" || e.parentheses === true) return undefined
  const op = String(e.operator).toUpperCase()
  return op === "OR" || op === "||" ? "OR" : op === "AND" || op === "&&" ? "AND" : undefined
}

const isXorMarker = (e: N): boolean => e?.type === "param" && e.value === "x0"

const flatten = (e: N, out: Array<N | Logical>): void => {
  const op = logicalOp(e)
  if (op === undefined) { out.push(e); return }
  flatten(e.left, out)
  out.push(op)
  flatten(e.right, out)
}

/**
 * An unparenthesized AND/XOR/OR chain. node-sql-parser groups these without precedence
 * (left-deep in WHERE, right-deep in select lists: `a OR b AND c` becomes `(a OR b) AND c`), but an
 * in-order walk still yields the source sequence, so the chain is flattened and regrouped with
 * MySQL's precedence, AND over XOR over OR. XOR arrives as `OR :x0 OR` (see Normalize).
 * Parenthesized groups are operands.
 */
const emitLogical = (o: Out, e: N): void => {
  // the root itself is expanded even when parenthesized (emitExpr already wrote its parentheses)
  const raw: Array<N | Logical> = []
  flatten(e.left, raw)
  const op = String(e.operator).toUpperCase()
  raw.push(op === "OR" || op === "||" ? "OR" : "AND")
  flatten(e.right, raw)
  const seq: Array<N | Logical> = []
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "OR" && isXorMarker(raw[i + 1]) && raw[i + 2] === "OR") { seq.push("XOR"); i += 2 }
    else seq.push(raw[i])
  }
  emitOrChain(o, seq)
}

const splitOn = (seq: ReadonlyArray<N | Logical>, op: Logical): Array<Array<N | Logical>> => {
  const groups: Array<Array<N | Logical>> = [[]]
  for (const x of seq) {
    if (x === op) groups.push([])
    else groups[groups.length - 1]!.push(x)
  }
  return groups
}

const emitOrChain = (o: Out, seq: ReadonlyArray<N | Logical>): void => {
  splitOn(seq, "OR").forEach((g, i) => {
    if (i > 0) o.w(" OR ")
    const xs = splitOn(g, "XOR")
    if (xs.length === 1) { emitAndChain(o, g); return }
    // a XOR b XOR c = ((a XOR b) XOR c); XOR(x, y) = (x <> 0) <> (y <> 0), NULL if either is NULL
    o.w("(".repeat(xs.length - 1))
    xs.forEach((x, j) => {
      if (j > 0) o.w(" <> ")
      o.w("((")
      emitAndChain(o, x)
      o.w(") <> 0)")
      if (j > 0) o.w(")")
    })
  })
}

const emitAndChain = (o: Out, seq: ReadonlyArray<N | Logical>): void => {
  for (const x of seq) {
    if (x === "AND") o.w(" AND ")
    else if (x === "OR" || x === "XOR") throw new SyntaxErr(x)
    else emitExpr(o, x, P_NOT)
  }
}

const isNumberLiteral = (e: N): boolean =>
  e?.type === "number" || e?.type === "bigint" || (e?.type === "param" && String(e.value).startsWith("n"))

/**
 * A comparison operand. A number literal compared with a column is written CAST(? AS NUMERIC):
 * MySQL compares a string column with a number numerically, SQLite would compare as text.
 */
const operand = (o: Out, e: N, other: N, p: number): void => {
  if (isNumberLiteral(e) && other?.type === "column_ref") {
    o.w("CAST(")
    emitExpr(o, e)
    o.w(" AS NUMERIC)")
  } else emitExpr(o, e, p)
}

const infix = (o: Out, left: N, op: string, right: N, p: number): void => {
  emitExpr(o, left, p)
  o.w(op)
  emitExpr(o, right, p + 1)
}
