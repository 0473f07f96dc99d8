/** `replicate_databases`: names or globs (as the CDC filters: `*`, `?`, `[abc]`, `[!abc]`); empty = all. */
import { globToRegExp } from "../cdc/Filter.ts"

export const makeDatabaseFilter = (patterns: ReadonlyArray<string>): (database: string) => boolean => {
  if (patterns.length === 0) return () => true
  const res = patterns.map(globToRegExp)
  return (database) => res.some((r) => r.test(database))
}
