/**
 * The sending side of a snapshot. `open` takes a consistent copy of one database with SQLite's
 * backup API from the core's writer connection (changes made through that connection during the
 * copy are carried into it, so the copy never restarts and is the state at its end) into
 * `data_dir/snapshots/`, and answers its size and the copy's own commit-log seq. The puller then
 * reads it by offset, several chunks at a time, each with its SHA-256; the copy goes when the
 * puller closes it or nobody read it for `idleExpiry`.
 *
 * Pullers share copies: one that opens a database within `shareTtlMs` of an earlier copy (Marmot's
 * snapshot_cache_ttl_seconds), while that copy is still at or past the database's GC horizon (the
 * puller resumes the log from the copy's position), reads the same file; one arriving while a copy
 * is being taken waits for it. So many replicas starting at once cost one backup. A shared copy goes
 * when its last reader closed it and it is older than the TTL. Export files a previous run left
 * behind are removed at start.
 */
import Database from "better-sqlite3"
import { Context, Deferred, Duration, Effect, Layer, Metric, Random, Schedule } from "effect"
import { createHash } from "node:crypto"
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs"
import { type FileHandle, open as openFile } from "node:fs/promises"
import { join } from "node:path"
import {
  SnapshotBytes,
  SnapshotOffer,
  type SnapshotReadRequest,
  SnapshotUnavailable
} from "../../proto-schemas/src/Snapshot.ts"
import { Storage } from "../storage/Storage.ts"
import { logHorizon } from "./LogGc.ts"
import * as Metrics from "./Metrics.ts"

/** A copy nobody read this long is dropped (the puller died or gave up). */
const idleExpiry = Duration.seconds(60)
/** Copies held at once; more pullers wait for one to finish (they retry). */
const maxExports = 4
/** Pages copied per backup step (4 MB): the core's event loop runs between steps. */
const pagesPerStep = 1024

export const snapshotDir = (dataDir: string): string => join(dataDir, "snapshots")

export const removeDatabaseFiles = (path: string): void => {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(path + suffix, { force: true })
}

/** The last seq ever given out by a file's commit log (0 when it has none): its log position. */
export const logSequence = (db: Database.Database): bigint => {
  try {
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = '__marmot_commit_log'").pluck().get()
    return seq === undefined || seq === null ? 0n : BigInt(seq as number | bigint)
  } catch {
    return 0n // no AUTOINCREMENT table in the file yet
  }
}

const fileLogSequence = (path: string): bigint => {
  const db = new Database(path, { fileMustExist: true })
  try {
    db.defaultSafeIntegers(true)
    return logSequence(db)
  } finally {
    db.close()
  }
}

export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** Marmot's snapshot_cache_ttl_seconds default. */
export const defaultShareTtlMs = 30_000

interface Export {
  readonly database: string
  readonly path: string
  readonly file: FileHandle
  readonly offer: SnapshotOffer
  readonly openedMs: number
  lastReadMs: number
  readers: number
}

const removeOrphanExports = (dataDir: string): void => {
  let names: Array<string>
  try {
    names = readdirSync(snapshotDir(dataDir))
  } catch {
    return // no snapshot was ever taken here
  }
  for (const name of names) if (name.startsWith("export-")) rmSync(join(snapshotDir(dataDir), name), { force: true })
}

export class SnapshotExports extends Context.Tag("marmot/replication/SnapshotExports")<SnapshotExports, {
  /** A consistent copy of `database`, held for reads. */
  readonly open: (database: string) => Effect.Effect<SnapshotOffer, SnapshotUnavailable>
  readonly read: (request: SnapshotReadRequest) => Effect.Effect<SnapshotBytes, SnapshotUnavailable>
  readonly close: (exportId: string) => Effect.Effect<void>
}>() {
  static readonly make = (shareTtlMs: number = defaultShareTtlMs) => Effect.gen(function*() {
    const storage = yield* Storage
    removeOrphanExports(storage.dataDir)
    const exports = new Map<string, Export>()
    /** Per database: the copy being taken, which a puller arriving meanwhile waits for. */
    const taking = new Map<string, Deferred.Deferred<SnapshotOffer, SnapshotUnavailable>>()
    const nowMs = Effect.clockWith((c) => c.currentTimeMillis)

    const discard = (exportId: string) =>
      Effect.promise(async () => {
        const held = exports.get(exportId)
        if (held === undefined) return
        exports.delete(exportId)
        await held.file.close().catch(() => undefined)
        removeDatabaseFiles(held.path)
      })

    /** A copy of `database` another puller may still read from; unread copies GC has passed go. */
    const shareable = (database: string, now: number) =>
      Effect.gen(function*() {
        const handle = storage.get(database)
        let found: Export | undefined
        for (const [id, held] of exports) {
          if (held.database !== database) continue
          const outdated = handle !== undefined && held.offer.logSeq < logHorizon(handle)
          if (outdated && held.readers === 0) yield* discard(id)
          else if (!outdated && now - held.openedMs < shareTtlMs) found ??= held
        }
        return found
      })

    const take = (database: string) =>
      Effect.gen(function*() {
        const unavailable = (reason: unknown) =>
          new SnapshotUnavailable({ database, reason: reason instanceof Error ? reason.message : String(reason) })
        const handle = storage.get(database)
        if (handle === undefined) return yield* Effect.fail(unavailable("unknown database"))
        if (exports.size >= maxExports) return yield* Effect.fail(unavailable(`${maxExports} snapshots are being read already`))
        const exportId = `${database}-${yield* Random.nextIntBetween(0, 0x7fff_ffff)}`
        const dir = snapshotDir(storage.dataDir)
        const path = join(dir, `export-${exportId}.db`)
        const copied = Effect.tryPromise({
          try: async () => {
            mkdirSync(dir, { recursive: true })
            await handle.writer.db.backup(path, { progress: () => pagesPerStep })
            return { size: statSync(path).size, logSeq: fileLogSequence(path), file: await openFile(path, "r") }
          },
          catch: unavailable
        })
        const { file, logSeq, size } = yield* Effect.tapError(copied, () => Effect.sync(() => removeDatabaseFiles(path)))
        const offer = new SnapshotOffer({ exportId, size, logSeq })
        const now = yield* nowMs
        exports.set(exportId, { database, path, file, offer, openedMs: now, lastReadMs: now, readers: 1 })
        yield* Metric.increment(Metrics.snapshotExports)
        return offer
      })

    const open = (database: string): Effect.Effect<SnapshotOffer, SnapshotUnavailable> =>
      Effect.gen(function*() {
        const pending = taking.get(database)
        if (pending !== undefined) {
          const offer = yield* Deferred.await(pending)
          const held = exports.get(offer.exportId)
          if (held === undefined) return yield* open(database)
          held.readers++
          yield* Metric.increment(Metrics.snapshotExportsShared)
          return offer
        }
        const shared = yield* shareable(database, yield* nowMs)
        if (shared !== undefined) {
          shared.readers++
          yield* Metric.increment(Metrics.snapshotExportsShared)
          return shared.offer
        }
        const done = yield* Deferred.make<SnapshotOffer, SnapshotUnavailable>()
        taking.set(database, done)
        return yield* take(database).pipe(
          Effect.exit,
          Effect.tap((exit) => Deferred.done(done, exit)),
          Effect.ensuring(Effect.sync(() => taking.get(database) === done && taking.delete(database))),
          Effect.flatten
        )
      })

    /** A reader is done: the copy goes once nobody reads it and no later puller may share it. */
    const close = (exportId: string) =>
      Effect.gen(function*() {
        const held = exports.get(exportId)
        if (held === undefined) return
        held.readers = Math.max(0, held.readers - 1)
        if (held.readers === 0 && (yield* nowMs) - held.openedMs >= shareTtlMs) yield* discard(exportId)
      })

    const read = (request: SnapshotReadRequest) =>
      Effect.gen(function*() {
        const held = exports.get(request.exportId)
        if (held === undefined) {
          return yield* new SnapshotUnavailable({ database: request.exportId, reason: "closed or expired" })
        }
        held.lastReadMs = yield* nowMs
        const length = Math.max(0, Math.min(request.length, held.offer.size - request.offset))
        const bytes = yield* Effect.tryPromise({
          try: async () => {
            const buffer = Buffer.allocUnsafe(length)
            const { bytesRead } = await held.file.read(buffer, 0, length, request.offset)
            return buffer.subarray(0, bytesRead)
          },
          catch: (e) => new SnapshotUnavailable({ database: held.database, reason: String(e) })
        })
        return new SnapshotBytes({ bytes, sha256: sha256Hex(bytes) })
      })

    const sweep = Effect.gen(function*() {
      const now = yield* nowMs
      for (const [id, held] of exports) {
        const unread = held.readers === 0 && now - held.openedMs >= shareTtlMs
        if (unread || now - held.lastReadMs > Duration.toMillis(idleExpiry)) yield* discard(id)
      }
    })
    yield* Effect.forkScoped(Effect.repeat(sweep, Schedule.spaced(Duration.seconds(5))))
    yield* Effect.addFinalizer(() => Effect.forEach([...exports.keys()], discard, { discard: true }))

    return SnapshotExports.of({ open, read, close })
  })

  static readonly layer = (shareTtlMs?: number) => Layer.scoped(SnapshotExports, SnapshotExports.make(shareTtlMs))
}
