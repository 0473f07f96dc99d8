/**
 * LOAD DATA [LOCAL] INFILE: the statement (parsed from the pre-router's tokens) and MySQL's
 * field/line rules for reading the file. Pure: the connection fetches the file from the client,
 * src/query/LoadData.ts inserts the rows.
 */
import type { Cur } from "./PreRouter.ts"
import { SyntaxErr, Unsupported } from "./Out.ts"
import type { TableRef } from "./Statement.ts"

export interface LoadDataSpec {
  readonly local: boolean
  readonly file: string
  /** REPLACE / IGNORE; LOCAL without either behaves as IGNORE (MySQL: the server cannot stop the transfer). */
  readonly duplicates: "error" | "ignore" | "replace"
  readonly table: TableRef
  readonly charset: string | undefined
  readonly format: FileFormat
  readonly ignoreLines: number
  /** The column list: a column name, or a user variable (`@x`, without the @) that receives the field. */
  readonly columns: ReadonlyArray<{ readonly name: string; readonly variable: boolean }> | undefined
  /** SET col = expr: the expression's MySQL text (may use the @variables of the column list). */
  readonly set: ReadonlyArray<{ readonly column: string; readonly expr: string }>
}

export interface FileFormat {
  readonly fieldsTerminatedBy: string
  readonly enclosedBy: string
  readonly escapedBy: string
  readonly linesTerminatedBy: string
  readonly linesStartingBy: string
}

export const defaultFormat: FileFormat = { fieldsTerminatedBy: "\t", enclosedBy: "", escapedBy: "\\", linesTerminatedBy: "\n", linesStartingBy: "" }

/** A string literal or X'..' (terminators such as X'0d0a'). */
const literal = (c: Cur): string => {
  const t = c.peek()
  if (t !== undefined && t.k === "hex" && t.b !== undefined) {
    c.i++
    return t.b.toString("latin1")
  }
  return c.str()
}

/** After the LOAD keyword: DATA … (XML is not supported). */
export const parseLoadData = (c: Cur): LoadDataSpec => {
  c.expect("DATA")
  c.kw("LOW_PRIORITY") || c.kw("CONCURRENT")
  const local = c.kw("LOCAL")
  c.expect("INFILE")
  const file = c.str()
  const duplicates = c.kw("REPLACE") ? "replace" : c.kw("IGNORE") ? "ignore" : local ? "ignore" : "error"
  c.expect("INTO")
  c.expect("TABLE")
  const table = c.tableRef()
  if (c.is("PARTITION")) throw new Unsupported("LOAD DATA … PARTITION")
  let charset: string | undefined
  if (c.kw("CHARACTER", "SET") || c.kw("CHARSET")) charset = c.name().toLowerCase()
  const format = { ...defaultFormat }
  if (c.kw("FIELDS") || c.kw("COLUMNS")) {
    let any = false
    for (;;) {
      if (c.kw("TERMINATED", "BY")) format.fieldsTerminatedBy = literal(c)
      else if (c.kw("OPTIONALLY", "ENCLOSED", "BY") || c.kw("ENCLOSED", "BY")) format.enclosedBy = literal(c)
      else if (c.kw("ESCAPED", "BY")) format.escapedBy = literal(c)
      else break
      any = true
    }
    if (!any) c.fail()
  }
  if (c.kw("LINES")) {
    let any = false
    for (;;) {
      if (c.kw("STARTING", "BY")) format.linesStartingBy = literal(c)
      else if (c.kw("TERMINATED", "BY")) format.linesTerminatedBy = literal(c)
      else break
      any = true
    }
    if (!any) c.fail()
  }
  if (format.enclosedBy.length > 1 || format.escapedBy.length > 1) throw new SyntaxErr(c.rest())
  if (format.fieldsTerminatedBy === "" || format.linesTerminatedBy === "") throw new Unsupported("LOAD DATA with an empty FIELDS or LINES TERMINATED BY (fixed-width rows)")
  let ignoreLines = 0
  if (c.kw("IGNORE")) {
    const t = c.peek()
    if (t === undefined || t.k !== "num" || !/^\d+$/.test(t.v)) c.fail()
    c.i++
    ignoreLines = Number(t.v)
    if (!c.kw("LINES") && !c.kw("ROWS")) c.fail()
  }
  let columns: Array<{ name: string; variable: boolean }> | undefined
  if (c.peek()?.k === "(") {
    c.i++
    columns = []
    for (;;) {
      const t = c.peek()
      if (t !== undefined && t.k === "var" && t.u === "@") {
        c.i++
        columns.push({ name: t.v.toLowerCase(), variable: true })
      } else columns.push({ name: c.name(), variable: false })
      const sep = c.peek()
      c.i++
      if (sep?.k === ")") break
      if (sep?.k !== ",") { c.i--; c.fail() }
    }
  }
  const set: Array<{ column: string; expr: string }> = []
  if (c.kw("SET")) {
    for (;;) {
      const column = c.name()
      const eq = c.peek()
      if (eq === undefined || eq.k !== "op" || eq.v !== "=") c.fail()
      c.i++
      const start = c.peek()
      if (start === undefined) c.fail()
      let depth = 0
      let last = start
      while (!c.done()) {
        const t = c.peek()!
        if (depth === 0 && t.k === ",") break
        if (t.k === "(") depth++
        else if (t.k === ")") depth--
        last = t
        c.i++
      }
      const expr = c.src.slice(start.s, last.e)
      if (!/^DEFAULT$/i.test(expr.trim())) set.push({ column, expr })
      if (c.done()) break
      c.i++
    }
  }
  c.end()
  return { local, file, duplicates, table, charset, format, ignoreLines, columns, set }
}

export type Field = string | null

const unescape = (ch: string): string => {
  switch (ch) {
    case "0": return "\0"
    case "b": return "\b"
    case "n": return "\n"
    case "r": return "\r"
    case "t": return "\t"
    case "Z": return "\x1a"
    default: return ch
  }
}

/**
 * Splits a file into rows of fields by MySQL's rules: the escape character (default backslash)
 * escapes terminators and the enclosing quote and gives \0 \b \n \r \t \Z; an unenclosed field
 * that is exactly \N is NULL, and so is an unenclosed NULL when ENCLOSED BY is set; inside
 * enclosing quotes a doubled quote is one, and a quote not followed by a terminator is kept.
 * Lines not containing STARTING BY are skipped; the text before it is dropped.
 */
export const parseRows = (text: string, f: FileFormat): Array<Array<Field>> => {
  const rows: Array<Array<Field>> = []
  const n = text.length
  const ft = f.fieldsTerminatedBy
  const lt = f.linesTerminatedBy
  const enc = f.enclosedBy
  const esc = f.escapedBy
  // first characters, so the scan compares numbers and calls startsWith only on a match
  const ft0 = ft.charCodeAt(0)
  const lt0 = lt.charCodeAt(0)
  const enc0 = enc === "" ? -1 : enc.charCodeAt(0)
  const esc0 = esc === "" ? -1 : esc.charCodeAt(0)
  const isFt = (p: number) => text.charCodeAt(p) === ft0 && (ft.length === 1 || text.startsWith(ft, p))
  const isLt = (p: number) => text.charCodeAt(p) === lt0 && (lt.length === 1 || text.startsWith(lt, p))
  const isEnc = (p: number) => enc0 >= 0 && text.charCodeAt(p) === enc0
  let pos = 0
  while (pos < n) {
    if (f.linesStartingBy !== "") {
      const found = text.indexOf(f.linesStartingBy, pos)
      if (found < 0) break
      // a line without the prefix is skipped entirely
      const lineEnd = text.indexOf(lt, pos)
      if (lineEnd >= 0 && lineEnd < found) {
        pos = lineEnd + lt.length
        continue
      }
      pos = found + f.linesStartingBy.length
    }
    const row: Array<Field> = []
    for (;;) {
      let value = ""
      let isNull = false
      if (isEnc(pos)) {
        pos += 1
        let seg = pos
        for (;;) {
          if (pos >= n) {
            value += text.slice(seg, pos)
            break
          }
          const c = text.charCodeAt(pos)
          // (an escape character that is also the quote only doubles, below)
          if (c === esc0 && esc0 !== enc0 && pos + 1 < n) {
            value += text.slice(seg, pos) + unescape(text[pos + 1]!)
            pos += 2
            seg = pos
            continue
          }
          if (c === enc0) {
            if (isEnc(pos + 1)) {
              value += text.slice(seg, pos + 1)
              pos += 2
              seg = pos
              continue
            }
            const after = pos + 1
            if (after >= n || isFt(after) || isLt(after)) {
              value += text.slice(seg, pos)
              pos = after
              break
            }
          }
          pos++
        }
      } else {
        const start = pos
        let seg = pos
        while (pos < n && !isFt(pos) && !isLt(pos)) {
          if (text.charCodeAt(pos) === esc0 && pos + 1 < n) {
            value += text.slice(seg, pos) + unescape(text[pos + 1]!)
            pos += 2
            seg = pos
            continue
          }
          pos++
        }
        value += text.slice(seg, pos)
        const raw = pos - start
        isNull = (raw === 2 && esc0 >= 0 && text.charCodeAt(start) === esc0 && text[start + 1] === "N") ||
          (raw === 4 && enc0 >= 0 && text.startsWith("NULL", start))
      }
      row.push(isNull ? null : value)
      if (pos < n && isFt(pos)) {
        pos += ft.length
        continue
      }
      if (pos < n && isLt(pos)) pos += lt.length
      else if (pos < n) {
        // text after a closing quote that is not a terminator: skip to the end of the line
        const next = text.indexOf(lt, pos)
        pos = next < 0 ? n : next + lt.length
      }
      break
    }
    rows.push(row)
  }
  return rows
}
