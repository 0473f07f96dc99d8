/**
 * Commit-log and tombstone GC keys of `[replication]` (src/replication/LogGc.ts), with Marmot's
 * startup rules (shared research marmot.md §7). Marmot measures them against its delta-sync
 * threshold; here a peer catches up by delta within one anti-entropy round, so the rules are
 * measured against `anti_entropy_interval_ms`. Retentions are hours and may be fractional.
 */
import { ConfigError } from "./ConfigError.ts"
import type { Reader } from "./NodeConfig.ts"
import { number } from "./PublisherSettings.ts"

export interface GcSettings {
  /** How often the GC runs. */
  readonly intervalMs: number
  /** A log entry is kept at least this long, and until every non-REMOVED member pulled past it. */
  readonly minRetentionMs: number
  /** A log entry older than this goes unconditionally (a member still behind needs a snapshot); 0 = never. */
  readonly maxRetentionMs: number
}

const hourMs = 3_600_000

export const gcDefaults: GcSettings = { intervalMs: 60_000, minRetentionMs: 2 * hourMs, maxRetentionMs: 24 * hourMs }

/** Reads the gc_* keys of `[replication]`; throws ConfigError naming the keys of a broken rule. */
export function readGc(r: Reader, antiEntropyIntervalMs: number): GcSettings {
  const d = gcDefaults
  const intervalSeconds = r.int("gc_interval_seconds", d.intervalMs / 1000, 1, 86_400)
  const minHours = number(r, "gc_min_retention_hours", d.minRetentionMs / hourMs, 0, 87_600)
  const maxHours = number(r, "gc_max_retention_hours", d.maxRetentionMs / hourMs, 0, 87_600)
  const settings: GcSettings = {
    intervalMs: intervalSeconds * 1000,
    minRetentionMs: Math.round(minHours * hourMs),
    maxRetentionMs: Math.round(maxHours * hourMs)
  }
  const ae = "replication.anti_entropy_interval_ms"
  if (settings.minRetentionMs < antiEntropyIntervalMs) {
    throw new ConfigError({ key: r.key("gc_min_retention_hours"), reason: `must be at least ${ae} (${antiEntropyIntervalMs} ms)` })
  }
  if (settings.maxRetentionMs !== 0) {
    if (settings.maxRetentionMs < 2 * antiEntropyIntervalMs) {
      throw new ConfigError({ key: r.key("gc_max_retention_hours"), reason: `must be 0 (unlimited) or at least twice ${ae}` })
    }
    if (settings.minRetentionMs >= settings.maxRetentionMs) {
      throw new ConfigError({
        key: r.key("gc_min_retention_hours"),
        reason: "must be less than replication.gc_max_retention_hours (or set gc_max_retention_hours = 0)"
      })
    }
  }
  if (settings.intervalMs < antiEntropyIntervalMs) {
    throw new ConfigError({ key: r.key("gc_interval_seconds"), reason: `must be at least ${ae} (${antiEntropyIntervalMs} ms)` })
  }
  return settings
}
