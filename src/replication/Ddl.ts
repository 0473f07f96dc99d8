/**
 * Schema statements as a participant replays them: made idempotent, because the same DDL may
 * reach a node twice (COMMIT, then again from a peer's log before the applied marker exists, or
 * after a node already changed its schema the same way). CREATE/DROP get IF [NOT] EXISTS; an
 * ALTER TABLE whose effect is already there (the column exists, is gone, the table was renamed)
 * is a no-op.
 */
const rewrites: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\s*CREATE\s+TABLE\s+(?!IF\s+NOT\s+EXISTS\b)/i, "CREATE TABLE IF NOT EXISTS "],
  [/^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?!IF\s+NOT\s+EXISTS\b)/i, "CREATE $1INDEX IF NOT EXISTS "],
  [/^\s*CREATE\s+VIEW\s+(?!IF\s+NOT\s+EXISTS\b)/i, "CREATE VIEW IF NOT EXISTS "],
  [/^\s*CREATE\s+TRIGGER\s+(?!IF\s+NOT\s+EXISTS\b)/i, "CREATE TRIGGER IF NOT EXISTS "],
  [/^\s*DROP\s+(TABLE|INDEX|VIEW|TRIGGER)\s+(?!IF\s+EXISTS\b)/i, "DROP $1 IF EXISTS "]
]

export const idempotent = (sql: string): string => {
  for (const [pattern, replacement] of rewrites) if (pattern.test(sql)) return sql.replace(pattern, replacement)
  return sql
}

/** SQLite's answer when an ALTER TABLE's effect is already in place. */
const alreadyDone = /duplicate column name|no such column|there is already another table or index with this name|no such table/i

export const isAlreadyApplied = (sql: string, error: unknown): boolean =>
  /^\s*ALTER\s+TABLE\b/i.test(sql) && alreadyDone.test(error instanceof Error ? error.message : String(error))
