/**
 * Statement normalization: one pass over the tokens that
 *  - replaces client `?` and (in lift mode) value literals by named parameters `:p0`, `:n1`, …
 *    (`:nK` for numbers, `:pK` otherwise) whose values are returned as `slots` (the resulting
 *    text is the fingerprint cache key),
 *  - rewrites MySQL syntax node-sql-parser does not accept into forms it does
 *    (`<=>` → IS, unary BINARY, index hints, locking clauses, SELECT modifiers, SUBSTRING(x FROM a FOR b),
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
}

/** Words after which a string literal is a value, not an alias. */
const VALUE_KEYWORDS = new Set([
  "SELECT", "WHERE", "AND", "OR", "NOT", "XOR", "LIKE", "REGEXP", "RLIKE", "IN", "IS", "BETWEEN", "THEN", "ELSE",
  "WHEN", "CASE", "ON", "HAVING", "LIMIT", "OFFSET", "VALUES", "VALUE", "SET", "BY", "DIV", "MOD", "INTERVAL",
  "DEFAULT", "RETURN", "DISTINCT", "ALL", "ANY", "SOME", "EXISTS", "USING", "AGAINST", "DO", "TO", "FOR", "FROM",
  "LEADING", "TRAILING", "BOTH", "WITH", "UNION", "INTO", "SOUNDS", "DISTINCTROW", "STRAIGHT_JOIN"
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

export const normalize = (src: string, toks: ReadonlyArray<Token>, lift: boolean): Normalized => {
  const parts: Array<string> = []
  const slots: Array<Arg> = []
  let pos = 0
  let placeholders = 0
  let lifted = 0
  let calcFoundRows = false
  let depth = 0
  // per-depth state
  const orderCtx: Array<boolean> = [false]
  let itemStart = false
  let typeParenDepth = -1
  const substrDepths: Array<number> = []
  // select list of the first depth-0 SELECT
  let selState: 0 | 1 | 2 = 0 // 0 = not seen, 1 = inside list, 2 = done
  const names: Array<string> = []
  let itemFirst = -1
  let itemLast = -1
  let namesOk = true

  const replace = (from: number, to: number, text: string): void => {
    parts.push(src.slice(pos, from), text)
    pos = to
  }
  /** Lifts the literal spanning tokens i..i+1 (a prefix word or sign, then the literal). */
  const liftPair = (i: number, prefix: "n" | "p", value: SqlValue): void => {
    const name = ":" + prefix + slots.length
    slots.push({ _tag: "Value", value })
    lifted++
    replace(toks[i]!.s, toks[i + 1]!.e, name)
    if (selState === 1 && depth === 0) { if (itemFirst < 0) itemFirst = i; itemLast = i + 1 }
  }
  const closeItem = (): void => {
    if (itemFirst < 0) { namesOk = false; return }
    const a = toks[itemFirst]!
    const b = toks[itemLast]!
    names.push(itemFirst === itemLast && a.k === "str" ? a.v : src.slice(a.s, b.e))
    itemFirst = -1
  }

  const n = toks.length
  for (let i = 0; i < n; i++) {
    const t = toks[i]!
    const prev = toks[i - 1]
    const wasItemStart = itemStart
    itemStart = false

    if (selState === 1 && depth === 0) {
      if (t.k === ",") { closeItem(); continue }
      if (t.k === ";" || (t.k === "word" && SELECT_END.has(t.u))) { closeItem(); selState = 2 }
    }

    switch (t.k) {
      case "(": {
        depth++
        orderCtx[depth] = false
        if (prev !== undefined && prev.k === "word") {
          if (typeParenDepth < 0 && TYPE_WORDS.has(prev.u)) {
            const pp = toks[i - 2]
            if (pp !== undefined && (pp.u === "AS" || pp.k === ",")) typeParenDepth = depth
          }
          if (prev.u === "SUBSTRING" || prev.u === "SUBSTR" || prev.u === "MID") substrDepths.push(depth)
        }
        break
      }
      case ")": {
        if (typeParenDepth === depth) typeParenDepth = -1
        if (substrDepths[substrDepths.length - 1] === depth) substrDepths.pop()
        depth--
        if (depth < 0) depth = 0
        break
      }
      case ",": {
        if (orderCtx[depth] === true) itemStart = true
        break
      }
      case "param": {
        const name = ":p" + slots.length
        slots.push({ _tag: "Placeholder", index: placeholders++ })
        replace(t.s, t.e, name)
        break
      }
      case "op": {
        if (t.v === "<=>") replace(t.s, t.e, "IS")
        else if (t.v === "-" && lift && typeParenDepth < 0 && !endsOperand(prev)) {
          const nx = toks[i + 1]
          if (nx !== undefined && (nx.k === "num" || nx.k === "bit") && !(wasItemStart)) {
            liftPair(i, "n", literalValue(nx, true))
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
          orderCtx[depth] = true
          itemStart = true
        } else if (orderCtx[depth] === true && ORDER_END.has(u)) {
          orderCtx[depth] = false
        }
        if (u === "SELECT" && depth === 0 && selState === 0) {
          selState = 1
          // skip modifiers
          let j = i + 1
          for (; j < n; j++) {
            const m = toks[j]!
            if (m.k !== "word") break
            if (m.u === "DISTINCT" || m.u === "ALL" || m.u === "DISTINCTROW") continue
            if (SELECT_MODIFIERS.has(m.u) || m.u === "STRAIGHT_JOIN") {
              if (m.u === "SQL_CALC_FOUND_ROWS") calcFoundRows = true
              replace(m.s, m.e, "")
              continue
            }
            break
          }
          i = j - 1
          continue
        }
        if (SELECT_MODIFIERS.has(u)) {
          if (u === "SQL_CALC_FOUND_ROWS") calcFoundRows = true
          replace(t.s, t.e, "")
          continue
        }
        if (DML_MODIFIERS.has(u)) { replace(t.s, t.e, ""); continue }
        if (u === "STRAIGHT_JOIN") { replace(t.s, t.e, prev?.u === "SELECT" ? "" : "JOIN"); continue }
        if (u === "BINARY" && prev?.u !== "AS") {
          const nx = toks[i + 1]
          if (nx !== undefined && nx.k !== "(" && nx.k !== ")" && nx.k !== "," && nx.k !== ";") {
            replace(t.s, t.e, "")
            continue
          }
        }
        if (u === "CURRENT_USER" && toks[i + 1]?.k !== "(") { replace(t.s, t.e, "CURRENT_USER()"); break }
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
            replace(t.s, toks[j]?.e ?? src.length, "")
            i = j
            continue
          }
        }
        if (u === "FOR" && (toks[i + 1]?.u === "UPDATE" || toks[i + 1]?.u === "SHARE") && substrDepths[substrDepths.length - 1] !== depth) {
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
          replace(t.s, toks[j - 1]!.e, "")
          i = j - 1
          continue
        }
        if (u === "LOCK" && toks[i + 1]?.u === "IN" && toks[i + 2]?.u === "SHARE" && toks[i + 3]?.u === "MODE") {
          replace(t.s, toks[i + 3]!.e, "")
          i += 3
          continue
        }
        if ((u === "FROM" || u === "FOR") && substrDepths[substrDepths.length - 1] === depth) {
          replace(t.s, t.e, ",")
          break
        }
        if (lift && (u === "DATE" || u === "TIME" || u === "TIMESTAMP") && toks[i + 1]?.k === "str" && prev?.u !== "AS") {
          // typed literal DATE '…': the value is the string
          liftPair(i, "p", toks[i + 1]!.v)
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
          lifted++
          replace(t.s, t.e, name)
        }
      }
    }
    if (selState === 1 && depth >= 0) {
      if (itemFirst < 0) itemFirst = i
      itemLast = i
    }
  }
  if (selState === 1) closeItem()
  parts.push(src.slice(pos))
  return {
    text: parts.join(""),
    slots,
    placeholders,
    lifted,
    selectNames: namesOk && selState !== 0 ? names : undefined,
    calcFoundRows
  }
}
