/**
 * MySQL JSON functions SQLite lacks: JSON_UNQUOTE and JSON_CONTAINS (SQLite's own json_* cover
 * the rest).
 */
import type Database from "better-sqlite3"
import { define } from "./Register.ts"
import { toText } from "./Values.ts"

const parse = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/** JSON_UNQUOTE: the string a JSON string literal holds; anything else as it is. */
export const jsonUnquote = (text: string): string => {
  const t = text.trim()
  if (t.length < 2 || !t.startsWith('"') || !t.endsWith('"')) return text
  const p = parse(t)
  return p.ok && typeof p.value === "string" ? p.value : text
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const equal = (a: unknown, b: unknown): boolean => {
  if (Array.isArray(a) || Array.isArray(b) || isObject(a) || isObject(b)) return JSON.stringify(a) === JSON.stringify(b)
  return a === b
}

/** MySQL's containment: arrays contain each candidate element, objects each candidate member. */
const contains = (target: unknown, candidate: unknown): boolean => {
  if (Array.isArray(target)) {
    if (Array.isArray(candidate)) return candidate.every((c) => contains(target, c))
    return target.some((t) => contains(t, candidate))
  }
  if (isObject(target)) {
    if (!isObject(candidate)) return false
    return Object.entries(candidate).every(([k, v]) => k in target && contains(target[k], v))
  }
  if (Array.isArray(candidate) || isObject(candidate)) return false
  return equal(target, candidate)
}

/** Follows a simple path ($, .key, ."key", [n]); undefined when it does not lead anywhere. */
const follow = (doc: unknown, path: string): { found: boolean; value: unknown } => {
  const s = path.trim()
  if (!s.startsWith("$")) throw new Error(`Invalid JSON path expression '${path}'`)
  let v = doc
  const step = /\.(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_$][\w$]*))|\[\s*(\d+)\s*\]/y
  let i = 1
  while (i < s.length) {
    step.lastIndex = i
    const m = step.exec(s)
    if (m === null) throw new Error(`Invalid JSON path expression '${path}'`)
    i = step.lastIndex
    if (m[3] !== undefined) {
      const k = Number(m[3])
      if (Array.isArray(v) && k < v.length) v = v[k]
      else if (!Array.isArray(v) && k === 0) continue
      else return { found: false, value: undefined }
    } else {
      const key = m[1] !== undefined ? (JSON.parse('"' + m[1] + '"') as string) : m[2]!
      if (!isObject(v) || !(key in v)) return { found: false, value: undefined }
      v = v[key]
    }
  }
  return { found: true, value: v }
}

export const registerJsonFunctions = (db: Database.Database): void => {
  define(db, "json_unquote", { arity: 1, nullIfAnyNull: true }, (v) => jsonUnquote(toText(v!)))
  define(db, "json_contains", { arity: [2, 3], nullIfAnyNull: true }, (t, c, p) => {
    const target = parse(toText(t!))
    const candidate = parse(toText(c!))
    if (!target.ok || !candidate.ok) return null
    let doc = target.value
    if (p !== undefined) {
      const r = follow(doc, toText(p!))
      if (!r.found) return 0n
      doc = r.value
    }
    return contains(doc, candidate.value) ? 1n : 0n
  })
}
