/**
 * MySQL → SQLite translation entry points. Pure functions; never throw.
 *
 *   text cache hit (statements without literals) ───────────────▶ Statement
 *   lex ─▶ pre-router (SET/SHOW/USE/BEGIN/…) ───────────────────▶ Statement
 *       ─▶ fast multi-row INSERT (literals only) ───────────────▶ Statement
 *       ─▶ normalize (literals → :pN) ─▶ fingerprint cache hit ─▶ instantiate ─▶ Statement
 *                                      └ miss: parse + emit template (or exact fallback)
 *       ─▶ DDL: normalize (no lifting) ─▶ parse ─▶ DDL emitter
 */
import { Data } from "effect"
import { Lru } from "./Cache.ts"
import { emitDdl } from "./EmitDdl.ts"
import { emitExpr } from "./EmitExpr.ts"
import { fastInsert } from "./FastInsert.ts"
import { lex, LexError, type Token } from "./Lexer.ts"
import { type Normalized, normalize } from "./Normalize.ts"
import { NeedsExact, Out, Refused, SyntaxErr, Unsupported } from "./Out.ts"
import { ParseFail, parseOne } from "./Parse.ts"
import { preRoute, type PreRouterDeps } from "./PreRouter.ts"
import type { Arg, Sqlite, Statement } from "./Statement.ts"
import { buildTemplate, instantiate, type Template } from "./Template.ts"

export { placeholderCount, splitStatements } from "./Split.ts"

export class TranslateError extends Data.TaggedError("TranslateError")<{
  readonly code: number
  readonly sqlState: string
  readonly message: string
}> {}

const CACHE_SIZE = 10_000
/** statements longer than this are not cached (big multi-row INSERTs) */
const MAX_CACHED_LENGTH = 16_384

const textCache = new Lru<Statement | TranslateError>(CACHE_SIZE)
interface Failed { readonly failed: TranslateError }
const EXACT = "exact" as const
const fingerprintCache = new Lru<Template | typeof EXACT | Failed>(CACHE_SIZE)

/** Empties both caches (tests and benchmarks). */
export const clearCaches = (): void => {
  textCache.clear()
  fingerprintCache.clear()
}

export const syntaxError = (near: string, line = 1): TranslateError =>
  new TranslateError({
    code: 1064,
    sqlState: "42000",
    message: "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server " +
      `version for the right syntax to use near '${near.slice(0, 80)}' at line ${line}`
  })

const unsupported = (what: string): TranslateError =>
  new TranslateError({ code: 1235, sqlState: "42000", message: `This version of MySQL doesn't yet support '${what}'` })

const errorAt = (src: string, at: number): TranslateError => {
  // start the quoted text at the beginning of the word the parser stopped in
  let offset = at
  while (offset > 0 && /[A-Za-z0-9_$]/.test(src[offset - 1]!) && /[A-Za-z0-9_$]/.test(src[offset] ?? "")) offset--
  const before = src.slice(0, offset)
  let line = 1
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 10) line++
  return syntaxError(src.slice(offset), line)
}

/** Translates ONE statement (cached by text). */
export function translate(sql: string): Statement | TranslateError {
  const hit = textCache.get(sql)
  if (hit !== undefined) return hit
  textCacheable = true
  const r = translateUncached(sql, 0)
  if (textCacheable && sql.length <= MAX_CACHED_LENGTH) textCache.set(sql, r)
  return r
}

/**
 * Cleared for statements whose literals were lifted (and fast-path INSERTs): their text rarely
 * repeats exactly, the fingerprint path costs a few µs, and caching every distinct text costs more
 * (retained statements die old: measured 14 µs vs 3 µs per statement for unique texts).
 */
let textCacheable = true

const RAW_SET = /^\s*SET\s+(?:(?:SESSION|GLOBAL|LOCAL)\s+|@@(?:session\.|global\.|local\.)?)?`?marmot_transpilation`?\s*:?=/i

/** Transpilation OFF: the statement as is, except `SET marmot_transpilation = …`. */
export function translateRaw(sql: string): Statement {
  if (RAW_SET.test(sql)) {
    const r = translate(sql)
    if (!(r instanceof TranslateError)) return r
  }
  return { kind: "raw", sql }
}

const DML_WORDS = new Set(["SELECT", "WITH", "INSERT", "REPLACE", "UPDATE", "DELETE"])
const DDL_WORDS = new Set(["CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"])

const translateUncached = (sql: string, placeholderBase: number): Statement | TranslateError => {
  let text: string
  let toks: Array<Token>
  try {
    ;({ text, toks } = lex(sql))
  } catch (e) {
    if (e instanceof LexError) return errorAt(sql, e.offset)
    return syntaxError(sql)
  }
  while (toks.length > 0 && toks[toks.length - 1]!.k === ";") toks = toks.slice(0, -1)
  if (toks.length === 0) {
    // MySQL: a query that is only comments (e.g. a skipped `/*!80040 …*/` or MariaDB's `/*M!100100 …*/`)
    // is an empty statement that succeeds; one with no comment either is 1065.
    if (/\/\*|--|#/.test(sql)) return { kind: "noop", what: "comment" }
    return new TranslateError({ code: 1065, sqlState: "42000", message: "Query was empty" })
  }
  const semi = toks.findIndex((t) => t.k === ";")
  if (semi >= 0) return errorAt(text, toks[semi]!.s)
  try {
    const pre = preRoute(toks, text, placeholderBase === 0 ? deps0 : deps(placeholderBase))
    if (pre !== undefined) return pre
    const first = toks[0]!
    if (first.k === "(" || (first.k === "word" && DML_WORDS.has(first.u))) {
      const fast = fastInsert(toks, text)
      if (fast !== undefined) {
        textCacheable = false
        return fast
      }
      return dml(text, toks, placeholderBase)
    }
    if (first.k === "word" && DDL_WORDS.has(first.u)) return ddl(text, toks)
    return errorAt(text, first.s)
  } catch (e) {
    return toError(e, text)
  }
}

const toError = (e: unknown, text: string): TranslateError => {
  if (e instanceof TranslateError) return e
  if (e instanceof Unsupported) return unsupported(e.what)
  if (e instanceof Refused) return new TranslateError({ code: e.code, sqlState: e.sqlState, message: e.message })
  if (e instanceof SyntaxErr) return syntaxError(e.near)
  if (e instanceof ParseFail) return errorAt(text, Math.min(e.offset, text.length))
  return syntaxError(text)
}

const shift = (norm: Normalized, base: number): Normalized =>
  base === 0 ? norm : {
    ...norm,
    slots: norm.slots.map((a): Arg => a._tag === "Placeholder" ? { _tag: "Placeholder", index: a.index + base } : a)
  }

const dml = (text: string, toks: ReadonlyArray<Token>, base: number): Statement | TranslateError => {
  const norm = shift(normalize(text, toks, true), base)
  if (norm.invalidAt >= 0) return errorAt(text, norm.invalidAt)
  if (norm.lifted > 0) textCacheable = false
  const cacheable = norm.text.length <= MAX_CACHED_LENGTH
  let t = cacheable ? fingerprintCache.get(norm.text) : undefined
  if (t === undefined) {
    try {
      t = buildTemplate(norm)
    } catch (e) {
      if (e instanceof NeedsExact || e instanceof ParseFail) t = EXACT
      else t = { failed: toError(e, norm.text) }
    }
    if (cacheable) fingerprintCache.set(norm.text, t)
  }
  if (t === EXACT) return exact(text, toks, base)
  if ("failed" in t) return t.failed
  return instantiate(t, norm)
}

/** The fallback: literals left in the text for the parser (no fingerprint sharing). */
const exact = (text: string, toks: ReadonlyArray<Token>, base: number): Statement | TranslateError => {
  const norm = shift(normalize(text, toks, false), base)
  try {
    return instantiate(buildTemplate(norm), norm)
  } catch (e) {
    if (e instanceof ParseFail) return parseErrorOf(text, norm.text, e.offset)
    if (e instanceof NeedsExact) return unsupported("this statement form")
    return toError(e, text)
  }
}

/** A 1064 located in the client's text when the original also fails to parse there. */
const parseErrorOf = (original: string, normalized: string, offset: number): TranslateError => {
  try {
    parseOne(original)
  } catch (e) {
    if (e instanceof ParseFail) return errorAt(original, e.offset)
  }
  return errorAt(normalized, offset)
}

const ddl = (text: string, toks: ReadonlyArray<Token>): Statement | TranslateError => {
  const colon = toks.find((t) => t.k === "op" && t.v === ":")
  if (colon !== undefined) return errorAt(text, colon.s)
  try {
    return emitDdl(text, toks)
  } catch (e) {
    if (e instanceof ParseFail) return parseErrorOf(text, text, e.offset)
    return toError(e, text)
  }
}

const deps = (base: number): PreRouterDeps => ({
  selectOf: (exprText: string, at = 0): Sqlite => {
    const keep = textCacheable // a SET statement stays cacheable whatever its values lift
    const r = translateUncached("SELECT " + exprText, base + at)
    textCacheable = keep
    if (r instanceof TranslateError) throw r
    if (r.kind !== "select") throw new SyntaxErr(exprText)
    return r.sqlite
  },
  whereOf: (cond: string): string => {
    const src = "SELECT 1 FROM t WHERE " + cond
    const { text, toks } = lex(src)
    const norm = normalize(text, toks, false)
    const ast = parseOne(norm.text)
    const o = new Out("inline", norm.slots)
    emitExpr(o, ast.where)
    return o.sql
  },
  statementOf: (text: string): Statement => {
    const r = translateUncached(text, base)
    if (r instanceof TranslateError) throw r
    return r
  }
})

const deps0 = deps(0)
