/**
 * Fast path for plain `INSERT|REPLACE [IGNORE] [INTO] t [(cols)] VALUES (…), (…)` whose values are
 * all literals, `?`, NULL, TRUE or FALSE: emitted straight from the tokens, without the parser
 * (node-sql-parser needs ~75 µs for one row and far longer for sysbench's 2,700-row prepare INSERT).
 */
import type { Token } from "./Lexer.ts"
import { literalValue } from "./Normalize.ts"
import { quoteId, sqliteLiteral } from "./Out.ts"
import type { Arg, Statement, TableRef } from "./Statement.ts"

/** SQLite's SQLITE_MAX_VARIABLE_NUMBER in this build */
const MAX_VARIABLES = 32_766

const isName = (t: Token | undefined): t is Token => t !== undefined && (t.k === "word" || t.k === "ident")
const MODIFIERS = new Set(["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY"])

export const fastInsert = (toks: ReadonlyArray<Token>, _src: string): Statement | undefined => {
  const first = toks[0]!
  if (first.k !== "word" || (first.u !== "INSERT" && first.u !== "REPLACE")) return undefined
  const replace = first.u === "REPLACE"
  let i = 1
  while (toks[i]?.k === "word" && MODIFIERS.has(toks[i]!.u)) i++
  let ignore = false
  if (toks[i]?.k === "word" && toks[i]!.u === "IGNORE") { ignore = true; i++ }
  if (toks[i]?.k === "word" && toks[i]!.u === "INTO") i++
  const a = toks[i]
  if (!isName(a) || (a.k === "word" && (a.u === "VALUES" || a.u === "VALUE" || a.u === "SET" || a.u === "SELECT"))) return undefined
  i++
  let target: TableRef = { database: undefined, table: a.v }
  if (toks[i]?.k === ".") {
    const b = toks[i + 1]
    if (!isName(b)) return undefined
    target = { database: a.v, table: b.v }
    i += 2
  }
  let columns: Array<string> | undefined
  if (toks[i]?.k === "(") {
    columns = []
    i++
    for (;;) {
      const c = toks[i]
      if (!isName(c)) return undefined
      columns.push(c.v)
      i++
      if (toks[i]?.k === ",") { i++; continue }
      if (toks[i]?.k === ")") { i++; break }
      return undefined
    }
  }
  const kw = toks[i]
  if (kw === undefined || kw.k !== "word" || (kw.u !== "VALUES" && kw.u !== "VALUE")) return undefined
  i++
  const args: Array<Arg> = []
  const rows: Array<Array<number>> = []
  const parts: Array<string> = []
  let width = -1
  let placeholders = 0
  const n = toks.length
  for (;;) {
    if (toks[i]?.k !== "(") return undefined
    i++
    const row: Array<number> = []
    let rowSql = "("
    for (;;) {
      const t = toks[i]
      if (t === undefined) return undefined
      if (row.length > 0) rowSql += ", "
      if (t.k === "str" || t.k === "num" || t.k === "hex" || t.k === "bit") {
        row.push(args.length)
        args.push({ _tag: "Value", value: literalValue(t, false) })
        rowSql += "?"
        i++
      } else if (t.k === "op" && t.v === "-" && (toks[i + 1]?.k === "num" || toks[i + 1]?.k === "bit")) {
        row.push(args.length)
        args.push({ _tag: "Value", value: literalValue(toks[i + 1]!, true) })
        rowSql += "?"
        i += 2
      } else if (t.k === "param") {
        row.push(args.length)
        args.push({ _tag: "Placeholder", index: placeholders++ })
        rowSql += "?"
        i++
      } else if (t.k === "word" && (t.u === "NULL" || t.u === "TRUE" || t.u === "FALSE")) {
        row.push(-1)
        rowSql += t.u === "NULL" ? "NULL" : t.u === "TRUE" ? "1" : "0"
        i++
      } else return undefined
      const sep = toks[i]
      if (sep?.k === ",") { i++; continue }
      if (sep?.k === ")") { i++; break }
      return undefined
    }
    if (width < 0) width = row.length
    else if (row.length !== width) return undefined
    if (columns !== undefined && row.length !== columns.length) return undefined
    rows.push(row)
    parts.push(rowSql + ")")
    if (i >= n) break
    if (toks[i]!.k !== ",") return undefined
    i++
  }
  if (args.length > MAX_VARIABLES && placeholders === 0) return inlined(toks, target, columns, replace, ignore, rows)
  return {
    kind: replace ? "replace" : "insert",
    sqlite: { sql: head(replace, ignore, target, columns) + parts.join(", "), args },
    target,
    tables: [target],
    columns,
    rows
  }
}

/**
 * More values than SQLite can bind in one statement (mysqldump's extended INSERTs): the literals
 * are written inline, quoted by us, and every `rows` entry is -1.
 */
const inlined = (
  toks: ReadonlyArray<Token>,
  target: TableRef,
  columns: ReadonlyArray<string> | undefined,
  replace: boolean,
  ignore: boolean,
  rowsIdx: ReadonlyArray<ReadonlyArray<number>>
): Statement => {
  let i = toks.findIndex((t) => t.k === "word" && (t.u === "VALUES" || t.u === "VALUE")) + 1
  const out: Array<string> = []
  for (; i < toks.length; i++) {
    const t = toks[i]!
    if (t.k === "str" || t.k === "num" || t.k === "hex" || t.k === "bit") out.push(sqliteLiteral(literalValue(t, false)))
    else if (t.k === "op" && t.v === "-") out.push("-")
    else if (t.k === "word") out.push(t.u === "TRUE" ? "1" : t.u === "FALSE" ? "0" : "NULL")
    else out.push(t.v)
  }
  return {
    kind: replace ? "replace" : "insert",
    sqlite: { sql: head(replace, ignore, target, columns) + out.join(""), args: [] },
    target,
    tables: [target],
    columns,
    rows: rowsIdx.map((r) => r.map(() => -1))
  }
}

const head = (replace: boolean, ignore: boolean, target: TableRef, columns: ReadonlyArray<string> | undefined): string =>
  (replace ? "REPLACE INTO " : ignore ? "INSERT OR IGNORE INTO " : "INSERT INTO ") +
  (target.database !== undefined ? quoteId(target.database) + "." : "") + quoteId(target.table) +
  (columns !== undefined ? " (" + columns.map(quoteId).join(", ") + ")" : "") + " VALUES "
