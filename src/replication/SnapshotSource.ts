/**
 * The sending side of a snapshot. `open` takes a consistent copy of one database with SQLite's
 * backup API from the core's writer connection (changes made through that connection during the
 * copy are carried into it, so the copy never restarts and is the state at its end) into
 * `data_dir/snapshots/`, and answers its size and the copy's own commit-log seq. The puller then
 * reads it by offset, several chunks at a time, each with its SHA-256; the copy goes when the
 * puller closes it or nobody read it for `idleExpiry`.
 */
import Database from "better-sqlite3"
import { Context, Duration, Effect, Layer, Random, Schedule } from "effect"
import { createHash } from "node:crypto"
import { mkdirSync, rmSync, statSync } from "node:fs"
import { type FileHandle, open as openFile } from "node:fs/promises"
import { join } from "node:path"
import {
  SnapshotBytes,
  SnapshotOffer,
  type SnapshotReadRequest,
  SnapshotUnavailable
} from "../../proto-schemas/src/Snapshot.ts"
import { Storage } from "../storage/Storage.ts"

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

interface Export {
  readonly database: string
  readonly path: string
  readonly file: FileHandle
  readonly size: number
  lastReadMs: number
}

export class SnapshotExports extends Context.Tag("marmot/replication/SnapshotExports")<SnapshotExports, {
  /** A consistent copy of `database`, held for reads. */
  readonly open: (database: string) => Effect.Effect<SnapshotOffer, SnapshotUnavailable>
  readonly read: (request: SnapshotReadRequest) => Effect.Effect<SnapshotBytes, SnapshotUnavailable>
  readonly close: (exportId: string) => Effect.Effect<void>
}>() {
  static readonly make = Effect.gen(function*() {
    const storage = yield* Storage
    const exports = new Map<string, Export>()
    const nowMs = Effect.clockWith((c) => c.currentTimeMillis)

    const discard = (exportId: string) =>
      Effect.promise(async () => {
        const held = exports.get(exportId)
        if (held === undefined) return
        exports.delete(exportId)
        await held.file.close().catch(() => undefined)
        removeDatabaseFiles(held.path)
      })

    const open = (database: string) =>
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
        exports.set(exportId, { database, path, file, size, lastReadMs: yield* nowMs })
        return new SnapshotOffer({ exportId, size, logSeq })
      })

    const read = (request: SnapshotReadRequest) =>
      Effect.gen(function*() {
        const held = exports.get(request.exportId)
        if (held === undefined) {
          return yield* new SnapshotUnavailable({ database: request.exportId, reason: "closed or expired" })
        }
        held.lastReadMs = yield* nowMs
        const length = Math.max(0, Math.min(request.length, held.size - request.offset))
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
        if (now - held.lastReadMs > Duration.toMillis(idleExpiry)) yield* discard(id)
      }
    })
    yield* Effect.forkScoped(Effect.repeat(sweep, Schedule.spaced(Duration.seconds(5))))
    yield* Effect.addFinalizer(() => Effect.forEach([...exports.keys()], discard, { discard: true }))

    return SnapshotExports.of({ open, read, close: discard })
  })

  static readonly layer = Layer.scoped(SnapshotExports, SnapshotExports.make)
}
