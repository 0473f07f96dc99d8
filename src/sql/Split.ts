/**
 * Multi-statement splitting (COM_QUERY with CLIENT_MULTI_STATEMENTS) and placeholder counting
 * (COM_STMT_PREPARE). Both honour '…' "…" `…` quoting with backslash escapes and
 * -- / # / block comments; the content of executable comments (`/*! … *\/`) counts as text.
 */

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9 || c === 12 || c === 11

interface ScanHooks {
  /** a top-level `;` at offset i */
  readonly semi?: (i: number) => void
  /** a `?` outside strings and comments */
  readonly param?: () => void
  /** a character of statement content (not whitespace, not comment) at offset i */
  readonly content?: (i: number) => void
}

const scan = (sql: string, hooks: ScanHooks): void => {
  const n = sql.length
  let i = 0
  let inExec = false
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (c === 39 || c === 34 || c === 96) {
      hooks.content?.(i)
      let j = i + 1
      while (j < n) {
        const d = sql.charCodeAt(j)
        if (d === 92 && c !== 96) { j += 2; continue }
        if (d === c) {
          if (sql.charCodeAt(j + 1) === c) { j += 2; continue }
          break
        }
        j++
      }
      i = j + 1
      continue
    }
    if (c === 35 || (c === 45 && sql.charCodeAt(i + 1) === 45 && (i + 2 >= n || isSpace(sql.charCodeAt(i + 2))))) {
      const e = sql.indexOf("\n", i)
      i = e < 0 ? n : e + 1
      continue
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const c2 = sql.charCodeAt(i + 2)
      if (!inExec && (c2 === 33 || (c2 === 77 && sql.charCodeAt(i + 3) === 33))) {
        inExec = true
        i += c2 === 33 ? 3 : 4
        while (i < n && sql.charCodeAt(i) >= 48 && sql.charCodeAt(i) <= 57) i++
        continue
      }
      const e = sql.indexOf("*/", i + 2)
      i = e < 0 ? n : e + 2
      continue
    }
    if (inExec && c === 42 && sql.charCodeAt(i + 1) === 47) {
      inExec = false
      i += 2
      continue
    }
    if (c === 59) {
      hooks.semi?.(i)
    } else if (!isSpace(c)) {
      if (c === 63) hooks.param?.()
      hooks.content?.(i)
    }
    i++
  }
}

/** Splits on top-level `;`, dropping statements that are empty (whitespace and comments only). */
export const splitStatements = (sql: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  let start = 0
  let hasContent = false
  scan(sql, {
    semi: (i) => {
      if (hasContent) out.push(sql.slice(start, i).trim())
      start = i + 1
      hasContent = false
    },
    content: () => {
      hasContent = true
    }
  })
  if (hasContent) out.push(sql.slice(start).trim())
  return out
}

/** Number of client `?` placeholders, ignoring those inside strings, identifiers and comments. */
export const placeholderCount = (sql: string): number => {
  if (!sql.includes("?")) return 0
  let count = 0
  scan(sql, { param: () => { count++ } })
  return count
}
