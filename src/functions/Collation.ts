/**
 * MySQL's default string comparison (utf8mb4_general_ci): case- and accent-insensitive, one
 * weight per character, trailing spaces ignored. Used by the functions that compare strings
 * (LOCATE, INSTR, FIND_IN_SET, FIELD, STRCMP, GREATEST/LEAST on strings).
 */

const foldCache = new Map<number, string>()

/** The weight of one character: its base letter, upper-cased ('é' → 'E', 'ß' → 'S'). */
const foldChar = (cp: number): string => {
  if (cp < 128) return cp >= 97 && cp <= 122 ? String.fromCharCode(cp - 32) : String.fromCharCode(cp)
  const hit = foldCache.get(cp)
  if (hit !== undefined) return hit
  const ch = String.fromCodePoint(cp)
  const base = ch.normalize("NFD").replace(/\p{M}+/gu, "")
  const upper = (base.length > 0 ? base : ch).toUpperCase()
  const first = upper.codePointAt(0)
  const folded = first === undefined ? ch : String.fromCodePoint(first)
  if (foldCache.size < 10000) foldCache.set(cp, folded)
  return folded
}

const ASCII_ONLY = /^[\x00-\x7f]*$/

/** The string with every character replaced by its weight; same number of characters. */
export const fold = (s: string): string => {
  if (ASCII_ONLY.test(s)) return s.toUpperCase()
  let out = ""
  for (const ch of s) out += foldChar(ch.codePointAt(0)!)
  return out
}

const trimTrailingSpaces = (s: string): string => s.replace(/ +$/, "")

/** Compares two strings like utf8mb4_general_ci: -1, 0 or 1. */
export const compareCi = (a: string, b: string): number => {
  const x = fold(trimTrailingSpaces(a))
  const y = fold(trimTrailingSpaces(b))
  return x < y ? -1 : x > y ? 1 : 0
}

export const equalsCi = (a: string, b: string): boolean => compareCi(a, b) === 0
