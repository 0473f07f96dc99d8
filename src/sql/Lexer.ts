/**
 * A hand-written MySQL lexer. One pass, no regexes on the hot path.
 *
 * Tokens carry offsets into the text they were read from. Comments are skipped, except
 * MySQL executable comments (`/*! … *\/`, `/*!40101 … *\/`, MariaDB `/*M! … *\/`) whose content
 * is lexed as ordinary statement text (see `blankExecutableComments`).
 */

export type Kind =
  | "word" // unquoted identifier or keyword; `u` holds it upper-cased
  | "ident" // `backtick` identifier; `v` is the unquoted name
  | "str" // '…' or "…" string; `v` is the decoded value, `b` set for _binary introducers
  | "num" // numeric literal; `v` is its text
  | "hex" // X'…' or 0x…; `b` holds the bytes
  | "bit" // b'…' or 0b…; `v` is the binary digits
  | "param" // ?
  | "var" // @x, @'x', @@x, @@session.x; `v` is the text after the @ signs, `u` is "@" or "@@"
  | "op" // operators and punctuation; `v` is the operator text
  | "("
  | ")"
  | ","
  | ";"
  | "."

export interface Token {
  readonly k: Kind
  /** start offset */
  readonly s: number
  /** end offset (exclusive) */
  readonly e: number
  readonly v: string
  /** upper-cased text for words; "@"/"@@" for vars; the quote char for strings */
  readonly u: string
  readonly b?: Buffer
}

export class LexError {
  constructor(readonly offset: number, readonly message: string) {}
}

const isIdentChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c >= 128
const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9 || c === 12 || c === 11

const THREE_OPS = new Set(["<=>", "->>"])
const TWO_OPS = new Set(["<=", ">=", "<>", "!=", "<<", ">>", ":=", "||", "&&", "->"])

/** Charset introducers that may prefix a string literal (`_utf8mb4'x'`). */
const INTRODUCERS = new Set([
  "_UTF8MB4", "_UTF8", "_UTF8MB3", "_LATIN1", "_BINARY", "_ASCII", "_UCS2", "_UTF16", "_UTF16LE", "_UTF32", "_CP1252"
])

/**
 * Replaces executable-comment markers (`/*!`, `/*!40101`, `/*M!50001`, and their closing `*\/`)
 * with spaces of the same length, so offsets stay valid and the content is read as text.
 * Returns the input unchanged (same string) when there is none.
 */
export const blankExecutableComments = (sql: string): string => {
  if (!sql.includes("/*!") && !sql.includes("/*M!")) return sql
  const out: Array<string> = []
  let last = 0
  let inExec = false
  const n = sql.length
  let i = 0
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (c === 39 || c === 34 || c === 96) {
      i = skipQuoted(sql, i, c)
      continue
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) { // /*
      const bang = sql.charCodeAt(i + 2) === 33 ? 3 : (sql.charCodeAt(i + 2) === 77 && sql.charCodeAt(i + 3) === 33 ? 4 : 0)
      if (bang > 0 && !inExec) {
        let j = i + bang
        while (j < n && isDigit(sql.charCodeAt(j))) j++
        if (j > i + bang && newerThanUs(Number(sql.slice(i + bang, j)), bang === 4)) { // a plain comment for us
          const end = sql.indexOf("*/", j)
          out.push(sql.slice(last, i), " ".repeat((end < 0 ? n : end + 2) - i))
          i = last = end < 0 ? n : end + 2
          continue
        }
        out.push(sql.slice(last, i), " ".repeat(j - i))
        last = j
        i = j
        inExec = true
        continue
      }
      const end = sql.indexOf("*/", i + 2)
      i = end < 0 ? n : end + 2
      continue
    }
    if (inExec && c === 42 && sql.charCodeAt(i + 1) === 47) {
      out.push(sql.slice(last, i), "  ")
      i += 2
      last = i
      inExec = false
      continue
    }
    if (c === 35 || (c === 45 && sql.charCodeAt(i + 1) === 45 && (i + 2 >= n || isSpace(sql.charCodeAt(i + 2))))) {
      const end = sql.indexOf("\n", i)
      i = end < 0 ? n : end + 1
      continue
    }
    i++
  }
  out.push(sql.slice(last))
  return out.join("")
}

/**
 * A versioned executable comment for a newer server than ours (MySQL 8.0.36): `/*!NNNNN` above 80036,
 * or MariaDB's `/*M!NNNNNN` for MariaDB 10 and later (e.g. mariadb-dump's `/*M!999999\- enable the
 * sandbox mode *\/`). Such a server skips it as a comment, and so do we.
 */
const newerThanUs = (version: number, mariadb: boolean): boolean => (mariadb ? version >= 100000 : version > 80036)

/** Index just past the closing quote of the quoted run starting at `i` (unterminated: n). */
const skipQuoted = (sql: string, i: number, q: number): number => {
  const n = sql.length
  let j = i + 1
  while (j < n) {
    const c = sql.charCodeAt(j)
    if (c === 92 && q !== 96) { j += 2; continue }
    if (c === q) {
      if (sql.charCodeAt(j + 1) === q) { j += 2; continue }
      return j + 1
    }
    j++
  }
  return n + 1
}

/** MySQL string-literal unescaping of the body between the quotes. */
export const unescapeMysql = (body: string, q: string): string => {
  if (!body.includes("\\") && !body.includes(q)) return body
  let out = ""
  const n = body.length
  for (let i = 0; i < n; i++) {
    const ch = body[i]!
    if (ch === "\\" && i + 1 < n) {
      const e = body[++i]!
      switch (e) {
        case "0": out += "\0"; break
        case "b": out += "\b"; break
        case "n": out += "\n"; break
        case "r": out += "\r"; break
        case "t": out += "\t"; break
        case "Z": out += "\x1a"; break
        case "%": out += "\\%"; break
        case "_": out += "\\_"; break
        default: out += e
      }
    } else if (ch === q && body[i + 1] === q) {
      out += q
      i++
    } else {
      out += ch
    }
  }
  return out
}

const hexToBuffer = (digits: string): Buffer | undefined => {
  const d = digits.length % 2 === 1 ? "0" + digits : digits
  if (!/^[0-9a-fA-F]*$/.test(d)) return undefined
  return Buffer.from(d, "hex")
}

/**
 * Tokenizes one or more statements. Throws LexError on an unterminated string, quoted
 * identifier or comment (callers turn it into a 1064).
 */
export const tokenize = (input: string): Array<Token> => lex(input).toks

/** Tokenizes; `text` is the input with executable-comment markers blanked (same offsets). */
export const lex = (input: string): { readonly text: string; readonly toks: Array<Token> } => {
  const sql = blankExecutableComments(input)
  const toks: Array<Token> = []
  const n = sql.length
  let i = 0
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (isSpace(c)) { i++; continue }
    const start = i
    // comments
    if (c === 35) { const e = sql.indexOf("\n", i); i = e < 0 ? n : e + 1; continue }
    if (c === 45 && sql.charCodeAt(i + 1) === 45 && (i + 2 >= n || isSpace(sql.charCodeAt(i + 2)) || sql.charCodeAt(i + 2) < 32)) {
      const e = sql.indexOf("\n", i); i = e < 0 ? n : e + 1; continue
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const e = sql.indexOf("*/", i + 2)
      if (e < 0) throw new LexError(i, "unterminated comment")
      i = e + 2
      continue
    }
    // strings
    if (c === 39 || c === 34) {
      const end = skipQuoted(sql, i, c)
      if (end > n) throw new LexError(i, "unterminated string")
      const q = c === 39 ? "'" : "\""
      const v = unescapeMysql(sql.slice(i + 1, end - 1), q)
      const prev = toks[toks.length - 1]
      if (prev !== undefined && prev.k === "str" && prev.b === undefined) {
        // MySQL concatenates adjacent string literals: 'a' 'b' = 'ab'
        toks[toks.length - 1] = { k: "str", s: prev.s, e: end, v: prev.v + v, u: prev.u }
      } else {
        toks.push({ k: "str", s: start, e: end, v, u: q })
      }
      i = end
      continue
    }
    if (c === 96) {
      const end = skipQuoted(sql, i, c)
      if (end > n) throw new LexError(i, "unterminated quoted identifier")
      const v = sql.slice(i + 1, end - 1).replaceAll("``", "`")
      toks.push({ k: "ident", s: start, e: end, v, u: v.toUpperCase() })
      i = end
      continue
    }
    // numbers (and identifiers that start with digits)
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      if (c === 48 && (sql.charCodeAt(i + 1) === 120 || sql.charCodeAt(i + 1) === 98)) { // 0x / 0b
        let j = i + 2
        while (j < n && isIdentChar(sql.charCodeAt(j))) j++
        const digits = sql.slice(i + 2, j)
        if (sql.charCodeAt(i + 1) === 120) {
          const b = hexToBuffer(digits)
          if (b !== undefined && digits.length > 0) { toks.push({ k: "hex", s: start, e: j, v: digits, u: "", b }); i = j; continue }
        } else if (/^[01]+$/.test(digits)) {
          toks.push({ k: "bit", s: start, e: j, v: digits, u: "" }); i = j; continue
        }
        toks.push({ k: "word", s: start, e: j, v: sql.slice(i, j), u: sql.slice(i, j).toUpperCase() }); i = j; continue
      }
      let j = i
      while (j < n && isDigit(sql.charCodeAt(j))) j++
      if (sql.charCodeAt(j) === 46 && !(j > i && isIdentCharNotDigit(sql.charCodeAt(j + 1)))) {
        j++
        while (j < n && isDigit(sql.charCodeAt(j))) j++
      }
      const ec = sql.charCodeAt(j)
      if ((ec === 101 || ec === 69) && (isDigit(sql.charCodeAt(j + 1)) ||
        ((sql.charCodeAt(j + 1) === 43 || sql.charCodeAt(j + 1) === 45) && isDigit(sql.charCodeAt(j + 2))))) {
        j += 2
        while (j < n && isDigit(sql.charCodeAt(j))) j++
      }
      if (j < n && isIdentChar(sql.charCodeAt(j)) && sql.charCodeAt(i) !== 46 && !sql.slice(i, j).includes(".")) {
        // 1abc: an identifier
        while (j < n && isIdentChar(sql.charCodeAt(j))) j++
        toks.push({ k: "word", s: start, e: j, v: sql.slice(i, j), u: sql.slice(i, j).toUpperCase() })
        i = j
        continue
      }
      toks.push({ k: "num", s: start, e: j, v: sql.slice(i, j), u: "" })
      i = j
      continue
    }
    // words, introducers, x'..', b'..', N'..'
    if (isIdentChar(c)) {
      let j = i + 1
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++
      const word = sql.slice(i, j)
      const nc = sql.charCodeAt(j)
      if (nc === 39 && j - i === 1) {
        const lc = c | 32
        if (lc === 120 || lc === 98 || lc === 110) { // x'..' b'..' n'..'
          const end = skipQuoted(sql, j, 39)
          if (end > n) throw new LexError(j, "unterminated string")
          const body = sql.slice(j + 1, end - 1)
          if (lc === 120) {
            const b = hexToBuffer(body)
            if (b === undefined || body.length % 2 === 1) throw new LexError(i, "bad hex literal")
            toks.push({ k: "hex", s: start, e: end, v: body, u: "", b })
          } else if (lc === 98) {
            if (!/^[01]*$/.test(body)) throw new LexError(i, "bad bit literal")
            toks.push({ k: "bit", s: start, e: end, v: body, u: "" })
          } else {
            toks.push({ k: "str", s: start, e: end, v: unescapeMysql(body, "'"), u: "'" })
          }
          i = end
          continue
        }
      }
      const u = word.toUpperCase()
      if (c === 95 && INTRODUCERS.has(u)) {
        let k = j
        while (k < n && isSpace(sql.charCodeAt(k))) k++
        const qc = sql.charCodeAt(k)
        if (qc === 39 || qc === 34) {
          const end = skipQuoted(sql, k, qc)
          if (end > n) throw new LexError(k, "unterminated string")
          const v = unescapeMysql(sql.slice(k + 1, end - 1), qc === 39 ? "'" : "\"")
          if (u === "_BINARY") toks.push({ k: "str", s: start, e: end, v, u: "'", b: Buffer.from(v, "utf8") })
          else toks.push({ k: "str", s: start, e: end, v, u: "'" })
          i = end
          continue
        }
        if (u === "_BINARY" && sql.charCodeAt(k) === 48 && (sql.charCodeAt(k + 1) | 32) === 120) {
          // _binary 0x41: the hex literal itself is binary already
          i = k
          continue
        }
      }
      toks.push({ k: "word", s: start, e: j, v: word, u })
      i = j
      continue
    }
    // variables
    if (c === 64) {
      const two = sql.charCodeAt(i + 1) === 64
      let j = i + (two ? 2 : 1)
      const qc = sql.charCodeAt(j)
      if (!two && (qc === 39 || qc === 34 || qc === 96)) {
        const end = skipQuoted(sql, j, qc)
        if (end > n) throw new LexError(j, "unterminated variable name")
        toks.push({ k: "var", s: start, e: end, v: unescapeMysql(sql.slice(j + 1, end - 1), String.fromCharCode(qc)), u: "@" })
        i = end
        continue
      }
      while (j < n && (isIdentChar(sql.charCodeAt(j)) || (two && sql.charCodeAt(j) === 46 && isIdentChar(sql.charCodeAt(j + 1))))) j++
      if (j === i + (two ? 2 : 1)) {
        toks.push({ k: "op", s: start, e: i + 1, v: "@", u: "@" })
        i++
        continue
      }
      toks.push({ k: "var", s: start, e: j, v: sql.slice(i + (two ? 2 : 1), j), u: two ? "@@" : "@" })
      i = j
      continue
    }
    if (c === 63) { toks.push({ k: "param", s: start, e: i + 1, v: "?", u: "?" }); i++; continue }
    if (c === 40) { toks.push({ k: "(", s: start, e: i + 1, v: "(", u: "(" }); i++; continue }
    if (c === 41) { toks.push({ k: ")", s: start, e: i + 1, v: ")", u: ")" }); i++; continue }
    if (c === 44) { toks.push({ k: ",", s: start, e: i + 1, v: ",", u: "," }); i++; continue }
    if (c === 59) { toks.push({ k: ";", s: start, e: i + 1, v: ";", u: ";" }); i++; continue }
    if (c === 46) { toks.push({ k: ".", s: start, e: i + 1, v: ".", u: "." }); i++; continue }
    const three = sql.slice(i, i + 3)
    if (THREE_OPS.has(three)) { toks.push({ k: "op", s: start, e: i + 3, v: three, u: three }); i += 3; continue }
    const two = sql.slice(i, i + 2)
    if (TWO_OPS.has(two)) { toks.push({ k: "op", s: start, e: i + 2, v: two, u: two }); i += 2; continue }
    const one = sql[i]!
    toks.push({ k: "op", s: start, e: i + 1, v: one, u: one })
    i++
  }
  return { text: sql, toks }
}

const isIdentCharNotDigit = (c: number): boolean => isIdentChar(c) && !isDigit(c)

/** The name of a word or quoted identifier token, else undefined. */
export const identName = (t: Token | undefined): string | undefined =>
  t === undefined ? undefined : t.k === "word" || t.k === "ident" ? t.v : undefined

/** True when `t` is the unquoted keyword `kw` (upper-case). */
export const isKw = (t: Token | undefined, kw: string): boolean => t !== undefined && t.k === "word" && t.u === kw
