/**
 * The receiving side of a snapshot: streams one database from a peer into
 * `data_dir/snapshots/import-*.db`, checks its size and SHA-256, starts over when the check fails
 * or the stream breaks (a few times, backing off), then has the participant install it
 * (SnapshotInstall.ts). Progress (bytes, percent, rate) is logged as it arrives.
 */
import { Context, Duration, Effect, Layer, Metric, Random, Schedule, Stream } from "effect"
import { createHash } from "node:crypto"
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs"
import { join } from "node:path"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import { SnapshotRequest } from "../../proto-schemas/src/Snapshot.ts"
import { makePeerClient, type Peer } from "../network/PeerNetwork.ts"
import { Storage } from "../storage/Storage.ts"
import * as Metrics from "./Metrics.ts"
import { Participant } from "./Participant.ts"
import { ReplicationRpcs } from "./ReplicationRpcs.ts"
import { SnapshotFailed } from "./SnapshotInstall.ts"
import { removeDatabaseFiles, snapshotDir } from "./SnapshotSource.ts"

export { SnapshotFailed }

/** Marmot's snapshot_restore_timeout_seconds. */
const restoreTimeout = Duration.minutes(30)
const retryPolicy = Schedule.exponential(Duration.millis(200)).pipe(Schedule.intersect(Schedule.recurs(4)))
/**
 * A stream silent this long has lost its peer (a broken or partitioned connection can stay open):
 * the attempt fails and is retried rather than waiting out `restoreTimeout`.
 */
const idleTimeout = Duration.seconds(10)
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
          const dir = snapshotDir(storage.dataDir)
          const path = join(dir, `import-${database}-${yield* Random.nextIntBetween(0, 0x7fff_ffff)}.db`)
          const fd = yield* Effect.acquireRelease(
            Effect.sync(() => {
              mkdirSync(dir, { recursive: true })
              return openSync(path, "w")
            }),
            (fd) => Effect.sync(() => closeSync(fd))
          )
          const hash = createHash("sha256")
          const startedMs = yield* now
          let size: number | undefined
          let logSeq = 0n
          let bytes = 0
          let nextReport = progressEveryBytes
          let sha256: string | undefined
          const progress = Effect.gen(function*() {
            const seconds = Math.max(0.001, ((yield* now) - startedMs) / 1000)
            const percent = size === undefined || size === 0 ? 100 : Math.floor((bytes / size) * 100)
            yield* Effect.logInfo(
              `snapshot of ${database} from node ${peer.nodeId}: ${megabytes(bytes)} of ${megabytes(size ?? 0)} MB ` +
                `(${percent}%), ${megabytes(bytes / seconds)} MB/s`
            )
          })
          yield* peers.call(peer, (client) =>
            client.Snapshot(new SnapshotRequest({ from: self, database })).pipe(
              Stream.timeoutFail(
                () => new SnapshotFailed({ database, reason: `no data from node ${peer.nodeId} for ${Duration.format(idleTimeout)}` }),
                idleTimeout
              ),
              Stream.runForEach((chunk) =>
                Effect.gen(function*() {
                  if (chunk._tag === "SnapshotStart") {
                    size = chunk.size
                    logSeq = chunk.logSeq
                  } else if (chunk._tag === "SnapshotData") {
                    writeSync(fd, chunk.bytes)
                    hash.update(chunk.bytes)
                    bytes += chunk.bytes.byteLength
                    if (bytes >= nextReport) {
                      nextReport += progressEveryBytes
                      yield* progress
                    }
                  } else sha256 = chunk.sha256
                })
              )
            ), { timeout: restoreTimeout })
          const fail = (reason: string) => Effect.fail(new SnapshotFailed({ database, reason }))
          if (size === undefined || sha256 === undefined) return yield* fail("the stream ended early")
          if (bytes !== size) return yield* fail(`received ${bytes} bytes of ${size}`)
          if (hash.digest("hex") !== sha256) return yield* fail("SHA-256 mismatch")
          yield* progress
          return { path, logSeq, bytes } satisfies Download
        }).pipe(
          Effect.scoped,
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
