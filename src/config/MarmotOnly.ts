/**
 * Sections of Marmot's config (shared research marmot.md §4, §12) that configure nothing here. A
 * Marmot config copied over must not look accepted while it is ignored: each is refused, naming
 * the key, saying why, and what to set instead.
 */
import { ConfigError } from "./ConfigError.ts"

type Table = Readonly<Record<string, unknown>>

const refused: Readonly<Record<string, string>> = {
  // Marmot: pool_size, max_idle_time_seconds, max_lifetime_seconds of its SQLite connection pool
  connection_pool:
    "marmot-ts has no SQLite connection pool to size: each process keeps one reader and one writer connection per database; " +
    "scale with mysql.workers (--workers) instead",
  // Marmot: prepare_timeout_ms, commit_timeout_ms, abort_timeout_ms
  coordinator:
    "the coordinator's PREPAREs, COMMITs and ABORTs travel together in batched peer exchanges, each bounded by " +
    "replication.write_timeout_ms: set that instead"
}

/** Throws ConfigError for the first key of a Marmot-only section in `doc`. */
export function refuseMarmotOnly(doc: Table): void {
  for (const [section, reason] of Object.entries(refused)) {
    const value = doc[section]
    if (value === undefined) continue
    const keys = typeof value === "object" && value !== null ? Object.keys(value) : []
    throw new ConfigError({ key: keys.length === 0 ? section : `${section}.${keys[0]}`, reason })
  }
}
