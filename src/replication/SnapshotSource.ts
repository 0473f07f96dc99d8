/**
 * The sending side of a snapshot: a consistent copy of one database taken with SQLite's backup API
 * from the core's writer connection (changes made through that connection during the copy are
 * carried into it, so the copy never restarts and is the state at its end), then streamed as
 * SnapshotStart (size, the copy's own commit-log seq), SnapshotData chunks, SnapshotEnd (SHA-256).
 * The copy lives in `data_dir/snapshots/` for as long as its scope (SnapshotCache.ts shares it).
 */
import Database from "better-sqlite3"
import { Effect, Random, type Scope, Stream } from "effect"
import { createHash } from "node:crypto"
import { createReadStream, mkdirSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { SnapshotData, SnapshotEnd, SnapshotStart, SnapshotUnavailable } from "../../proto-schemas/src/Snapshot.ts"
import type { StorageService } from "../storage/Storage.ts"

/** Bytes per SnapshotData message. */
export const chunkBytes = 1 << 20

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

/** A copy of one database in `data_dir/snapshots/`, ready to stream; removed when its scope closes. */
export interface SnapshotExport {
  readonly path: string
  readonly start: SnapshotStart
}

const unavailableOf = (database: string) => (reason: unknown) =>
  new SnapshotUnavailable({ database, reason: reason instanceof Error ? reason.message : String(reason) })

/** Takes a consistent copy of `database` (the backup API on the core's writer connection). */
export const takeExport = (
  storage: StorageService,
  database: string
): Effect.Effect<SnapshotExport, SnapshotUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const unavailable = unavailableOf(database)
    const handle = storage.get(database)
    if (handle === undefined) return yield* Effect.fail(unavailable("unknown database"))
    const dir = snapshotDir(storage.dataDir)
    const path = join(dir, `export-${database}-${yield* Random.nextIntBetween(0, 0x7fff_ffff)}.db`)
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => {
          mkdirSync(dir, { recursive: true })
          return handle.writer.db.backup(path)
        },
        catch: unavailable
      }),
      () => Effect.sync(() => removeDatabaseFiles(path))
    )
    const start = yield* Effect.try({
      try: () => new SnapshotStart({ size: statSync(path).size, logSeq: fileLogSequence(path) }),
      catch: unavailable
    })
    return { path, start }
  })

/** Streams a copy: SnapshotStart, its bytes in SnapshotData chunks, SnapshotEnd with their SHA-256. */
export const streamExport = (
  database: string,
  copy: SnapshotExport
): Stream.Stream<SnapshotStart | SnapshotData | SnapshotEnd, SnapshotUnavailable> =>
  Stream.suspend(() => {
    const hash = createHash("sha256")
    const data = Stream.fromAsyncIterable(createReadStream(copy.path, { highWaterMark: chunkBytes }), unavailableOf(database)).pipe(
      Stream.map((chunk: Buffer) => {
        hash.update(chunk)
        return new SnapshotData({ bytes: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) })
      })
    )
    const end = Stream.fromEffect(Effect.sync(() => new SnapshotEnd({ sha256: hash.digest("hex") })))
    return Stream.make(copy.start).pipe(Stream.concat(data), Stream.concat(end))
  })
