/**
 * Statement normalization: one pass over the tokens that
 *  - replaces client `?` and (in lift mode) value literals by named parameters `:p0`, `:n1`, …
 *    (`:nK` for numbers, `:pK` otherwise) whose values are returned as `slots` (the resulting
 *    text is the fingerprint cache key),
 *  - rewrites MySQL syntax node-sql-parser does not accept (or groups wrongly) into forms it
 *    handles (`<=>` → IS, `||` → OR, `&&` → AND, unary BINARY, index hints, locking clauses, SELECT modifiers, SUBSTRING(x FROM a FOR b),
 *    bare CURRENT_USER, typed literals DATE '…'),
 *  - records the result-column names of the top-level SELECT from the original text.
 *
 * Literals stay inline (not lifted) where MySQL reads them as syntax: ORDER/GROUP BY ordinals,
 * aliases (`AS 'x'`, `expr 'x'`), COLLATE/CHARACTER SET/SEPARATOR/ESCAPE operands and the
 * length/scale of a type in CAST/CONVERT.
 */
import type { Arg, SqlValue } from "./Statement.ts"
import type { Token } from "./Lexer.ts"

export interface Normalized {
  /** parser input and fingerprint-cache key */
  readonly text: string
  /** value of each `:pN` */
  readonly slots: ReadonlyArray<Arg>
  /** number of client `?` */
  readonly placeholders: number
  /** number of literals lifted into slots */
  readonly lifted: number
  /** names of the items of the first depth-0 SELECT list, as MySQL names result columns */
  readonly selectNames: ReadonlyArray<string> | undefined
  readonly calcFoundRows: boolean
  /** SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE (the clause is removed from the text) */
  readonly lockingRead: boolean
  /** UPDATE IGNORE / DELETE IGNORE (the keyword is removed from the text) */
  readonly ignore: boolean
  /** offset of a stray `:` (a syntax error in MySQL), else -1 */
  readonly invalidAt: number
}

/** Words after which a string literal is a value, not an alias. */
const VALUE_KEYWORDS = new Set([
  "SELECT", "WHERE", "AND", "OR", "NOT", "XOR", "LIKE", "REGEXP", "RLIKE", "IN", "IS", "BETWEEN", "THEN", "ELSE",
  "WHEN", "CASE", "ON", "HAVING", "LIMIT", "OFFSET", "VALUES", "VALUE", "SET", "BY", "DIV", "MOD", "INTERVAL",
  "DEFAULT", "RETURN", "DISTINCT", "ALL", "ANY", "SOME", "EXISTS", "USING", "AGAINST", "DO", "TO", "FOR", "FROM",
  "LEADING", "TRAILING", "BOTH", "WITH", "UNION", "INTO", "SOUNDS", "DISTINCTROW", "STRAIGHT_JOIN", "BINARY"
])
/** Words after which a literal is syntax and must stay inline. */
const KEEP_AFTER = new Set(["AS", "COLLATE", "CHARSET", "SEPARATOR", "ESCAPE", "CHARACTER"])
const TYPE_WORDS = new Set([
  "DECIMAL", "DEC", "NUMERIC", "CHAR", "VARCHAR", "NCHAR", "BINARY", "VARBINARY", "FLOAT", "DOUBLE", "DATETIME",
  "TIME", "TIMESTAMP", "REAL", "FIXED"
])
const SELECT_MODIFIERS = new Set([
  "SQL_NO_CACHE", "SQL_CACHE", "SQL_SMALL_RESULT", "SQL_BIG_RESULT", "SQL_BUFFER_RESULT", "HIGH_PRIORITY",
  "SQL_CALC_FOUND_ROWS"
])
const DML_MODIFIERS = new Set(["LOW_PRIORITY", "DELAYED", "QUICK"])
const SELECT_END = new Set([
  "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "INTO", "UNION", "EXCEPT", "INTERSECT", "FOR", "LOCK",
  "WINDOW", "PROCEDURE"
])
const ORDER_END = new Set(["LIMIT", "HAVING", "WINDOW", "UNION", "EXCEPT", "INTERSECT", "FOR", "LOCK", "ORDER", "WITH"])

/**
 * node-sql-parser accepts no parameter right after REGEXP/RLIKE, but accepts a function call
 * there: `REGEXP __marmot_arg(:p0)`, which EmitFunc unwraps.
 */
const afterRegexp = (prev: Token | undefined): boolean =>
  prev !== undefined && prev.k === "word" && (prev.u === "REGEXP" || prev.u === "RLIKE")

const isLiteral = (t: Token): boolean => t.k === "str" || t.k === "num" || t.k === "hex" || t.k === "bit"

/** A token after which an operand has just ended (so a following `-` is binary). */
const endsOperand = (t: Token | undefined): boolean => {
  if (t === undefined) return false
  switch (t.k) {
    case "num": case "str": case "hex": case "bit": case "ident": case "param": case "var": case ")":
      return true
    case "word":
      return !VALUE_KEYWORDS.has(t.u) && t.u !== "AS"
    default:
      return false
  }
}

const MAX_INT64 = 9223372036854775807n
const MIN_INT64 = -9223372036854775808n

/**
 * The value of a literal token (`neg` when folded with a preceding unary minus): integers are
 * bigint (within int64), other numbers are number, strings string, hex/_binary Buffer.
 */
export const literalValue = (t: Token, neg: boolean): SqlValue => {
  switch (t.k) {
    case "str":
      return t.b ?? t.v
    case "hex":
      return t.b ?? Buffer.alloc(0)
    case "bit": {
      const n = t.v.length === 0 ? 0n : BigInt("0b" + t.v)
      const v = neg ? -n : n
      return v >= MIN_INT64 && v <= MAX_INT64 ? v : Number(v)
    }
    default: {
      const text = neg ? "-" + t.v : t.v
      if (/^-?\d+$/.test(text)) {
        // integers are bigint so they bind as SQLite INTEGER (a JS number binds as REAL)
        const b = BigInt(text)
        return b >= MIN_INT64 && b <= MAX_INT64 ? b : Number(text)
      }
      return Number(text)
    }
  }
}

/** Mutable state of one normalize() pass (helpers are top-level: closures would be re-created per call). */
interface State {
  readonly src: string
  readonly toks: ReadonlyArray<Token>
  readonly parts: Array<string>
  pos: number
  readonly slots: Array<Arg>
  lifted: number
  depth: number
  /** 0 = no depth-0 SELECT seen yet, 1 = inside its select list, 2 = past it */
  selState: 0 | 1 | 2
  readonly names: Array<string>
  itemFirst: number
  itemLast: number
  namesOk: boolean
}

const replace = (st: State, from: number, to: number, text: string): void => {
  st.parts.push(st.src.slice(st.pos, from), text)
  st.pos = to
}

/** Lifts the literal spanning tokens i..i+1 (a prefix word or sign, then the literal). */
const liftPair = (st: State, i: number, prefix: "n" | "p", value: SqlValue): void => {
  const name = ":" + prefix + st.slots.length
  st.slots.push({ _tag: "Value", value })
  st.lifted++
  replace(st, st.toks[i]!.s, st.toks[i + 1]!.e, name)
  if (st.selState === 1 && st.depth === 0) {
    if (st.itemFirst < 0) st.itemFirst = i
    st.itemLast = i + 1
  }
}

const closeItem = (st: State): void => {
  if (st.itemFirst < 0) {
    st.namesOk = false
    return
  }
  const a = st.toks[st.itemFirst]!
  const b = st.toks[st.itemLast]!
  st.names.push(st.itemFirst === st.itemLast && a.k === "str" ? a.v : st.src.slice(a.s, b.e))
  st.itemFirst = -1
}

/** The token index of `USING` in `DELETE FROM a USING …` (not JOIN … USING (col)), else -1. */
const deleteUsing = (toks: ReadonlyArray<Token>): number => {
  let depth = 0
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i]!
    if (t.k === "(") depth++
    else if (t.k === ")") depth--
    else if (depth === 0 && t.k === "word" && t.u === "USING" && toks[i + 1]?.k !== "(") return i
    else if (depth === 0 && t.k === "word" && (t.u === "WHERE" || t.u === "JOIN")) return -1
  }
  return -1
}

export const normalize = (src: string, toks: ReadonlyArray<Token>, lift: boolean): Normalized => {
  const st: State = {
    src, toks, parts: [], pos: 0, slots: [], lifted: 0, depth: 0, selState: 0, names: [], itemFirst: -1,
    itemLast: -1, namesOk: true
  }
  const slots = st.slots
  let placeholders = 0
  let calcFoundRows = false
  let lockingRead = false
  let ignore = false
  let rowAlias: string | undefined
  let invalidAt = -1
  // per-st.depth state
  const orderCtx: Array<boolean> = [false]
  let itemStart = false
  let typeParenDepth = -1
  const substrDepths: Array<number> = []

  const n = toks.length
  const usingAt = toks[0]?.u === "DELETE" ? deleteUsing(toks) : -1
  for (let i = 0; i < n; i++) {
    const t = toks[i]!
    const prev = toks[i - 1]
    const wasItemStart = itemStart
    itemStart = false

    if (st.selState === 1 && st.depth === 0) {
      if (t.k === ",") { closeItem(st); continue }
      if (t.k === ";" || (t.k === "word" && SELECT_END.has(t.u))) { closeItem(st); st.selState = 2 }
    }

    if (rowAlias !== undefined && (t.k === "word" || t.k === "ident") && t.v.toLowerCase() === rowAlias &&
      toks[i + 1]?.k === "." && (toks[i + 2]?.k === "word" || toks[i + 2]?.k === "ident") && prev?.k !== ".") {
      // INSERT … VALUES (…) AS new ON DUPLICATE KEY UPDATE a = new.a  →  a = VALUES(a)
      replace(st, t.s, toks[i + 2]!.e, "VALUES(`" + toks[i + 2]!.v.replaceAll("`", "``") + "`)")
      i += 2
      continue
    }
    if (t.k === "word" && t.u === "AS" && st.depth === 0 && prev?.k === ")" && (toks[0]!.u === "INSERT" || toks[0]!.u === "REPLACE") &&
      (toks[i + 1]?.k === "word" || toks[i + 1]?.k === "ident") && toks[i + 2]?.u === "ON" && toks[i + 3]?.u === "DUPLICATE") {
      rowAlias = toks[i + 1]!.v.toLowerCase()
      replace(st, t.s, toks[i + 1]!.e, "")
      i++
      continue
    }
    switch (t.k) {
      case "(": {
        st.depth++
        orderCtx[st.depth] = false
        if (prev !== undefined && prev.k === "word") {
          if (typeParenDepth < 0 && TYPE_WORDS.has(prev.u)) {
            const pp = toks[i - 2]
            if (pp !== undefined && (pp.u === "AS" || pp.k === ",")) typeParenDepth = st.depth
          }
          if (prev.u === "SUBSTRING" || prev.u === "SUBSTR" || prev.u === "MID") substrDepths.push(st.depth)
        }
        break
      }
      case ")": {
        if (typeParenDepth === st.depth) typeParenDepth = -1
        if (substrDepths[substrDepths.length - 1] === st.depth) substrDepths.pop()
        st.depth--
        if (st.depth < 0) st.depth = 0
        break
      }
      case ",": {
        if (orderCtx[st.depth] === true) itemStart = true
        break
      }
      case "param": {
        const name = ":p" + slots.length
        slots.push({ _tag: "Placeholder", index: placeholders++ })
        replace(st, t.s, t.e, afterRegexp(prev) ? `__marmot_arg(${name})` : name)
        break
      }
      case "op": {
        if (t.v === ":" && invalidAt < 0) invalidAt = t.s // not MySQL; would read as our :pN markers
        if (t.v === "<=>") replace(st, t.s, t.e, "IS")
        // node-sql-parser binds || and && like concatenation; in MySQL they are OR and AND
        else if (t.v === "||") replace(st, t.s, t.e, " OR ")
        else if (t.v === "&&") replace(st, t.s, t.e, " AND ")
        else if (t.v === "-" && lift && typeParenDepth < 0 && !endsOperand(prev)) {
          const nx = toks[i + 1]
          if (nx !== undefined && (nx.k === "num" || nx.k === "bit") && !(wasItemStart)) {
            liftPair(st, i, "n", literalValue(nx, true))
            i++
            continue
          }
        }
        break
      }
      case "word": {
        const u = t.u
        if (prev !== undefined && prev.k === ".") break
        if ((u === "BY") && prev !== undefined && (prev.u === "ORDER" || prev.u === "GROUP")) {
          orderCtx[st.depth] = true
          itemStart = true
        } else if (orderCtx[st.depth] === true && ORDER_END.has(u)) {
          orderCtx[st.depth] = false
        }
        if (u === "SELECT" && st.depth === 0 && st.selState === 0) {
          st.selState = 1
          // skip modifiers
          let j = i + 1
          for (; j < n; j++) {
            const m = toks[j]!
            if (m.k !== "word") break
            if (m.u === "DISTINCT" || m.u === "ALL" || m.u === "DISTINCTROW") continue
            if (SELECT_MODIFIERS.has(m.u) || m.u === "STRAIGHT_JOIN") {
              if (m.u === "SQL_CALC_FOUND_ROWS") calcFoundRows = true
              replace(st, m.s, m.e, "")
              continue
            }
            break
          }
          i = j - 1
          continue
        }
        if (u === "XOR") {
          // node-sql-parser binds XOR like concatenation; `a OR :x OR b` keeps it in the AND/OR
          // chain, where EmitExpr reads the marker back as XOR with MySQL's precedence
          replace(st, t.s, t.e, " OR :x0 OR ")
          break
        }
        if (SELECT_MODIFIERS.has(u)) {
          if (u === "SQL_CALC_FOUND_ROWS") calcFoundRows = true
          replace(st, t.s, t.e, "")
          continue
        }
        if (DML_MODIFIERS.has(u)) { replace(st, t.s, t.e, ""); continue }
        if (u === "IGNORE" && (toks[0]!.u === "UPDATE" || toks[0]!.u === "DELETE") && toks.slice(1, i).every((x) => DML_MODIFIERS.has(x.u))) {
          // UPDATE IGNORE / DELETE IGNORE: the parser has no IGNORE there
          ignore = true
          replace(st, t.s, t.e, "")
          continue
        }
        if (usingAt > 0 && (i === usingAt || (u === "FROM" && st.depth === 0 && toks.slice(1, i).every((x) => DML_MODIFIERS.has(x.u) || x.u === "IGNORE")))) {
          // DELETE FROM a, b USING <tables> → DELETE a, b FROM <tables> (the parser lacks the USING form)
          replace(st, t.s, t.e, i === usingAt ? "FROM" : "")
          continue
        }
        if (u === "STRAIGHT_JOIN") { replace(st, t.s, t.e, prev?.u === "SELECT" ? "" : "JOIN"); continue }
        if (u === "BINARY" && prev?.u !== "AS") {
          const nx = toks[i + 1]
          if (nx !== undefined && nx.k !== "(" && nx.k !== ")" && nx.k !== "," && nx.k !== ";") {
            replace(st, t.s, t.e, "")
            continue
          }
        }
        if (u === "CURRENT_USER" && toks[i + 1]?.k !== "(") { replace(st, t.s, t.e, "CURRENT_USER()"); break }
        if ((u === "USE" || u === "FORCE" || u === "IGNORE") && (toks[i + 1]?.u === "INDEX" || toks[i + 1]?.u === "KEY")) {
          // index hint: USE INDEX [FOR JOIN|ORDER BY|GROUP BY] (list)
          let j = i + 2
          if (toks[j]?.u === "FOR") j += toks[j + 1]?.u === "JOIN" ? 2 : 3
          if (toks[j]?.k === "(") {
            let d = 0
            for (; j < n; j++) {
              const x = toks[j]!
              if (x.k === "(") d++
              else if (x.k === ")" && --d === 0) break
            }
            replace(st, t.s, toks[j]?.e ?? src.length, "")
            i = j
            continue
          }
        }
        if (u === "FOR" && (toks[i + 1]?.u === "UPDATE" || toks[i + 1]?.u === "SHARE") && substrDepths[substrDepths.length - 1] !== st.depth) {
          let j = i + 2
          if (toks[j]?.u === "OF") {
            j++
            while (j < n && (toks[j]!.k === "word" || toks[j]!.k === "ident" || toks[j]!.k === "," || toks[j]!.k === ".")) {
              if (toks[j]!.k === "word" && (toks[j]!.u === "NOWAIT" || toks[j]!.u === "SKIP")) break
              j++
            }
          }
          if (toks[j]?.u === "NOWAIT") j++
          else if (toks[j]?.u === "SKIP" && toks[j + 1]?.u === "LOCKED") j += 2
          lockingRead = true
          replace(st, t.s, toks[j - 1]!.e, "")
          i = j - 1
          continue
        }
        if (u === "LOCK" && toks[i + 1]?.u === "IN" && toks[i + 2]?.u === "SHARE" && toks[i + 3]?.u === "MODE") {
          lockingRead = true
          replace(st, t.s, toks[i + 3]!.e, "")
          i += 3
          continue
        }
        if ((u === "FROM" || u === "FOR") && substrDepths[substrDepths.length - 1] === st.depth) {
          replace(st, t.s, t.e, ",")
          break
        }
        if (lift && (u === "DATE" || u === "TIME" || u === "TIMESTAMP") && toks[i + 1]?.k === "str" && prev?.u !== "AS") {
          // typed literal DATE '…': the value is the string
          liftPair(st, i, "p", toks[i + 1]!.v)
          i++
          continue
        }
        break
      }
      default: {
        if (lift && isLiteral(t) && typeParenDepth < 0 && !(wasItemStart && t.k === "num")) {
          if (prev !== undefined && prev.k === "word" && KEEP_AFTER.has(prev.u)) break
          if (prev !== undefined && prev.u === "SET" && toks[i - 2]?.u === "CHARACTER") break
          if (t.k === "str" && prev !== undefined &&
            (prev.k === "ident" || prev.k === ")" || (prev.k === "word" && !VALUE_KEYWORDS.has(prev.u)))) break
          const name = (t.k === "num" || t.k === "bit" ? ":n" : ":p") + slots.length
          slots.push({ _tag: "Value", value: literalValue(t, false) })
          st.lifted++
          replace(st, t.s, t.e, afterRegexp(prev) ? `__marmot_arg(${name})` : name)
        }
      }
    }
    if (st.selState === 1 && st.depth >= 0) {
      if (st.itemFirst < 0) st.itemFirst = i
      st.itemLast = i
    }
  }
  if (st.selState === 1) closeItem(st)
  st.parts.push(src.slice(st.pos))
  return {
    text: st.parts.join(""),
    slots,
    placeholders,
    lifted: st.lifted,
    selectNames: st.namesOk && st.selState !== 0 ? st.names : undefined,
    calcFoundRows,
    lockingRead,
    ignore,
    invalidAt
  }
}
