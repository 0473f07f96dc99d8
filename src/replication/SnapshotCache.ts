/**
 * The serving side of the `Snapshot` RPC: one copy of a database shared by every puller that asks
 * for it within `ttlMs` (Marmot's snapshot_cache_ttl_seconds), so many replicas starting at once
 * cost the node one backup, not one each. A copy is taken once (pullers arriving while it is being
 * taken wait for it), reused while younger than the TTL and still at or past the database's GC
 * horizon (a puller resumes the log from the copy's position, which must still be in the log),
 * and its file is removed once it has expired and no stream reads it. Export files a previous run
 * left behind are removed at start.
 */
import { Context, Deferred, Duration, Effect, Exit, Layer, Metric, Scope, Stream } from "effect"
import { readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import type { SnapshotChunk, SnapshotUnavailable } from "../../proto-schemas/src/Snapshot.ts"
import { Storage } from "../storage/Storage.ts"
import { logHorizon } from "./LogGc.ts"
import * as Metrics from "./Metrics.ts"
import { type SnapshotExport, snapshotDir, streamExport, takeExport } from "./SnapshotSource.ts"

/** Marmot's snapshot_cache_ttl_seconds default. */
export const defaultSnapshotCacheTtlMs = 30_000

interface Entry {
  readonly ready: Deferred.Deferred<SnapshotExport, SnapshotUnavailable>
  /** Owns the copy's file. */
  readonly scope: Scope.CloseableScope
  /** Set once the copy is taken. */
  copy: SnapshotExport | undefined
  readers: number
  expired: boolean
}

const removeOrphanExports = (dataDir: string): void => {
  const dir = snapshotDir(dataDir)
  let names: Array<string>
  try {
    names = readdirSync(dir)
  } catch {
    return // no snapshot was ever taken here
  }
  for (const name of names) if (name.startsWith("export-")) rmSync(join(dir, name), { force: true })
}

export class SnapshotCache extends Context.Tag("marmot/replication/SnapshotCache")<SnapshotCache, {
  /** A snapshot of `database`: the shared copy when a fresh one exists, else a new one. */
  readonly stream: (database: string) => Stream.Stream<SnapshotChunk, SnapshotUnavailable>
}>() {
  static readonly make = (ttlMs: number) =>
    Effect.gen(function*() {
      const storage = yield* Storage
      removeOrphanExports(storage.dataDir)
      const entries = new Map<string, Entry>()
      const lock = yield* Effect.makeSemaphore(1)
      const cacheScope = yield* Effect.scope
      yield* Effect.addFinalizer(() => Effect.forEach([...entries.values()], (entry) => Scope.close(entry.scope, Exit.void)))

      const expire = (database: string, entry: Entry) =>
        Effect.suspend(() => {
          entry.expired = true
          if (entries.get(database) === entry) entries.delete(database)
          return entry.readers === 0 ? Scope.close(entry.scope, Exit.void) : Effect.void
        })

      /** The copy's GC horizon moved past it: a puller could not read the log on from there. */
      const outdated = (database: string, entry: Entry) => {
        const handle = storage.get(database)
        return entry.copy !== undefined && handle !== undefined && entry.copy.start.logSeq < logHorizon(handle)
      }

      const take = (database: string) =>
        Effect.gen(function*() {
          const entry: Entry = {
            ready: yield* Deferred.make<SnapshotExport, SnapshotUnavailable>(),
            scope: yield* Scope.make(),
            copy: undefined,
            readers: 0,
            expired: false
          }
          entries.set(database, entry)
          yield* takeExport(storage, database).pipe(
            Scope.extend(entry.scope),
            Effect.tap((copy) => {
              entry.copy = copy
              return Metric.increment(Metrics.snapshotExports)
            }),
            Effect.exit,
            Effect.flatMap((exit) => Deferred.done(entry.ready, exit)),
            Effect.zipRight(Effect.suspend(() => entry.copy === undefined ? Effect.void : Effect.sleep(Duration.millis(ttlMs)))),
            Effect.zipRight(lock.withPermits(1)(expire(database, entry))),
            // forked from the puller's acquire, which is uninterruptible: shutdown must not wait out the TTL
            Effect.interruptible,
            Effect.forkIn(cacheScope)
          )
          return entry
        })

      const acquire = (database: string) =>
        lock.withPermits(1)(Effect.gen(function*() {
          let entry = entries.get(database)
          if (entry !== undefined && outdated(database, entry)) {
            yield* expire(database, entry)
            entry = undefined
          }
          if (entry === undefined) entry = yield* take(database)
          else yield* Metric.increment(Metrics.snapshotExportsShared)
          entry.readers++
          return entry
        }))

      const release = (database: string, entry: Entry) =>
        lock.withPermits(1)(Effect.suspend(() => {
          entry.readers--
          return entry.expired && entry.readers === 0 ? expire(database, entry) : Effect.void
        }))

      const stream = (database: string) =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const entry = yield* Effect.acquireRelease(acquire(database), (entry) => release(database, entry))
          return streamExport(database, yield* Deferred.await(entry.ready))
        }))

      return SnapshotCache.of({ stream })
    })

  static readonly layer = (ttlMs: number = defaultSnapshotCacheTtlMs) => Layer.scoped(SnapshotCache, SnapshotCache.make(ttlMs))
}
