/**
 * The receiving side of a snapshot: asks a peer to open one (SnapshotSource.ts), reads it into
 * `data_dir/snapshots/import-*.db` by offset, `readsInFlight` chunks at a time, checks each chunk's
 * size and SHA-256 and re-reads a chunk that is lost, late or damaged (a short per-chunk deadline,
 * so a lost message costs one chunk, not the transfer), then has the participant install the file
 * (SnapshotInstall.ts). The whole transfer starts over (a few times, backing off) when the source
 * lost the copy or a chunk keeps failing. Progress (bytes, percent, rate) is logged as it arrives.
 */
import { Context, Duration, Effect, Layer, Metric, Random, Schedule } from "effect"
import { mkdirSync } from "node:fs"
import { open as openFile } from "node:fs/promises"
import { join } from "node:path"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import { SnapshotCloseRequest, SnapshotReadRequest, SnapshotRequest } from "../../proto-schemas/src/Snapshot.ts"
import { makePeerClient, type Peer } from "../network/PeerNetwork.ts"
import { Storage } from "../storage/Storage.ts"
import * as Metrics from "./Metrics.ts"
import { Participant } from "./Participant.ts"
import { ReplicationRpcs } from "./ReplicationRpcs.ts"
import { SnapshotFailed } from "./SnapshotInstall.ts"
import { removeDatabaseFiles, sha256Hex, snapshotDir } from "./SnapshotSource.ts"

export { SnapshotFailed }

/** Marmot's snapshot_restore_timeout_seconds. */
const restoreTimeout = Duration.minutes(30)
const retryPolicy = Schedule.exponential(Duration.millis(200)).pipe(Schedule.intersect(Schedule.recurs(4)))
/** Bytes per read. */
const chunkBytes = 1 << 20
/** Reads outstanding at once: keeps the source's disk, the wire and this node's disk busy together. */
const readsInFlight = 4
/** A chunk not here by then is asked for again. */
const chunkTimeout = Duration.seconds(2)
const chunkRetry = Schedule.exponential(Duration.millis(50)).pipe(Schedule.intersect(Schedule.recurs(6)))
/** Opening copies the whole database on the source first. */
const openTimeout = Duration.minutes(5)
/** A progress line at least this often (bytes). */
const progressEveryBytes = 64 << 20

export interface Restored {
  readonly database: string
  /** The source's commit-log seq the snapshot includes: this node's cursor on the source now. */
  readonly logSeq: bigint
  readonly bytes: number
  readonly elapsedMs: number
  /** This node's own transactions the snapshot lacked, carried over. */
  readonly carried: number
}

interface Download {
  readonly path: string
  readonly logSeq: bigint
  readonly bytes: number
}

const megabytes = (bytes: number) => (bytes / 1048576).toFixed(1)

export class Snapshots extends Context.Tag("marmot/replication/Snapshots")<Snapshots, {
  /** Replaces this node's copy of `database` by `peer`'s. */
  readonly restore: (peer: Peer, database: string) => Effect.Effect<Restored, SnapshotFailed>
}>() {
  static readonly make = (self: NodeId) =>
    Effect.gen(function*() {
      const storage = yield* Storage
      const participant = yield* Participant
      const peers = yield* makePeerClient(ReplicationRpcs)
      const now = Effect.clockWith((c) => c.currentTimeMillis)

      const download = (peer: Peer, database: string) =>
        Effect.gen(function*() {
          const offer = yield* peers.call(peer, (client) => client.SnapshotOpen(new SnapshotRequest({ from: self, database })), {
            timeout: openTimeout
          })
          const dir = snapshotDir(storage.dataDir)
          const path = join(dir, `import-${database}-${yield* Random.nextIntBetween(0, 0x7fff_ffff)}.db`)
          const file = yield* Effect.acquireRelease(
            Effect.promise(() => {
              mkdirSync(dir, { recursive: true })
              return openFile(path, "w")
            }),
            (file) => Effect.promise(() => file.close().catch(() => undefined))
          )
          const startedMs = yield* now
          let bytes = 0
          let nextReport = progressEveryBytes
          const progress = Effect.gen(function*() {
            const seconds = Math.max(0.001, ((yield* now) - startedMs) / 1000)
            const percent = offer.size === 0 ? 100 : Math.floor((bytes / offer.size) * 100)
            yield* Effect.logInfo(
              `snapshot of ${database} from node ${peer.nodeId}: ${megabytes(bytes)} of ${megabytes(offer.size)} MB ` +
                `(${percent}%), ${megabytes(bytes / seconds)} MB/s`
            )
          })
          const fail = (reason: string) => new SnapshotFailed({ database, reason })
          const readChunk = (offset: number) => {
            const length = Math.min(chunkBytes, offer.size - offset)
            return peers.call(
              peer,
              (client) => client.SnapshotRead(new SnapshotReadRequest({ exportId: offer.exportId, offset, length })),
              { timeout: chunkTimeout }
            ).pipe(
              Effect.filterOrFail(
                (chunk) => chunk.bytes.byteLength === length && sha256Hex(chunk.bytes) === chunk.sha256,
                () => fail(`chunk at ${offset} arrived damaged`)
              ),
              Effect.retry({ schedule: chunkRetry, while: (e) => e._tag !== "SnapshotUnavailable" })
            )
          }
          const offsets = Array.from({ length: Math.ceil(offer.size / chunkBytes) }, (_, i) => i * chunkBytes)
          yield* Effect.forEach(offsets, (offset) =>
            Effect.gen(function*() {
              const chunk = yield* readChunk(offset)
              yield* Effect.promise(() => file.write(chunk.bytes, 0, chunk.bytes.byteLength, offset))
              bytes += chunk.bytes.byteLength
              if (bytes >= nextReport) {
                nextReport += progressEveryBytes
                yield* progress
              }
            }), { concurrency: readsInFlight, discard: true })
          yield* peers.call(peer, (client) => client.SnapshotClose(new SnapshotCloseRequest({ exportId: offer.exportId }))).pipe(
            Effect.ignore,
            Effect.forkDaemon
          )
          yield* progress
          return { path, logSeq: offer.logSeq, bytes } satisfies Download
        }).pipe(
          Effect.scoped,
          Effect.timeoutFail({ duration: restoreTimeout, onTimeout: () => new SnapshotFailed({ database, reason: "timed out" }) }),
          Effect.mapError((e) => e._tag === "SnapshotFailed" ? e : new SnapshotFailed({ database, reason: e.message }))
        )

      /** A failed attempt leaves no file behind. */
      const attempt = (peer: Peer, database: string) =>
        Effect.gen(function*() {
          const file = yield* download(peer, database)
          return yield* Effect.ensuring(
            Effect.map(participant.installSnapshot(database, file.path), (carried) => ({ ...file, carried })),
            Effect.sync(() => removeDatabaseFiles(file.path))
          )
        }).pipe(
          Effect.tapError((e) => Effect.logWarning(`${e.message}; starting over`))
        )

      const restore = (peer: Peer, database: string) =>
        Effect.gen(function*() {
          const startedMs = yield* now
          yield* Effect.logInfo(`restoring ${database} from a snapshot of node ${peer.nodeId}`)
          const done = yield* attempt(peer, database).pipe(Effect.retry(retryPolicy))
          const elapsedMs = (yield* now) - startedMs
          yield* Metric.increment(Metric.tagged(Metrics.snapshots, "outcome", "installed"))
          yield* Metric.incrementBy(Metrics.snapshotBytes, done.bytes)
          yield* Effect.logInfo(
            `installed ${database} from node ${peer.nodeId}: ${megabytes(done.bytes)} MB in ${elapsedMs} ms, ` +
              `log position ${done.logSeq}, ${done.carried} local transaction(s) carried over`
          )
          return { database, logSeq: done.logSeq, bytes: done.bytes, elapsedMs, carried: done.carried }
        }).pipe(
          Effect.tapError(() => Metric.increment(Metric.tagged(Metrics.snapshots, "outcome", "failed"))),
          Effect.annotateLogs({ subsystem: "snapshot", node: self })
        )

      return Snapshots.of({ restore })
    })

  static readonly layer = (self: NodeId) => Layer.scoped(Snapshots, Snapshots.make(self))
}
