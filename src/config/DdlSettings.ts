/**
 * The `[ddl]` section. A schema change holds its database's DDL lock (an intent on the database
 * key, src/replication/Intents.ts) on every node it prepares on, from PREPARE to COMMIT or ABORT,
 * so two schema changes of one database from different nodes never interleave: the second waits
 * (an autocommit statement retries until lock_wait_timeout) or fails with 1213 naming the holder.
 * A lock held longer than `lock_lease_seconds` (Marmot's default, 30) may be taken over by another
 * schema change, so a stuck one cannot block the database's schema for good.
 */
import type { Reader } from "./NodeConfig.ts"

export interface DdlSettings {
  readonly lockLeaseMs: number
}

export const ddlDefaults: DdlSettings = { lockLeaseMs: 30_000 }

export function readDdl(r: Reader): DdlSettings {
  const lockLeaseSeconds = r.int("lock_lease_seconds", ddlDefaults.lockLeaseMs / 1000, 1, 86_400)
  r.done()
  return { lockLeaseMs: lockLeaseSeconds * 1000 }
}
