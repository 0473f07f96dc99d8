/**
 * One sink's loop (see DESIGN.md): rounds over every database's commit log from the sink's
 * cursors (or a snapshot), publishing each batch and then saving its cursor; with
 * `publish_from = "origin"` only this node's commits, plus those of gone members it stands in for.
 * Woken by the Publisher's `notify` or after `poll_interval_ms`.
 */
import { Clock, Duration, Effect, PubSub, Queue, Schedule } from "effect"
import { join } from "node:path"
import { toStamp } from "../../proto-schemas/src/Hlc.ts"
import type { NodeSettings } from "../config/NodeConfig.ts"
import type { SinkSettings, SnapshotMode } from "../config/PublisherSettings.ts"
import { CommitLogError, CommitLogReader, databasesDir, listDatabases } from "./CommitLog.ts"
import type { CursorStore, CursorStoreError } from "./CursorStore.ts"
import { type ChangeEvent, eventsOf, type LogEntry } from "./Debezium.ts"
import { makeFilter } from "./Filter.ts"
import type { OriginView, StandIn } from "./Origins.ts"
import type { SinkClient, SinkError } from "./Sink.ts"
import { publishSnapshot } from "./Snapshot.ts"

/** A batch the broker acknowledged and whose cursor was saved. */
export interface Acked {
  readonly sink: string
  readonly database: string
  /** The commit-log entries it covered (the cursor is now at the last). */
  readonly txns: ReadonlyArray<{ readonly seq: bigint; readonly txnId: string; readonly commitWallMs: number }>
  readonly events: number
  readonly duplicates: number
  readonly ackedAtMs: number
}

export interface SinkLoopDeps {
  readonly config: NodeSettings
  readonly store: CursorStore["Type"]
  readonly acks: PubSub.PubSub<Acked>
  readonly origins: OriginView
  readonly afterPublish?: ((sink: string, database: string, lastSeq: bigint) => Effect.Effect<void>) | undefined
}

/**
 * A stand-in republishes a gone origin's commits from the origin's watermark less this much HLC
 * time: a commit of the origin stamped before its watermark but not yet in its log when it
 * announced it (a commit decided, not yet applied locally) is still published.
 */
const takeoverMarginMs = 5_000
/** How often a node gossips its own watermarks (when they moved). */
const announceIntervalMs = 1_000

const retrySchedule = (s: SinkSettings) =>
  Schedule.exponential(Duration.millis(s.retryInitialMs), s.retryMultiplier).pipe(
    Schedule.union(Schedule.spaced(Duration.millis(s.retryMaxMs)))
  )

type RoundError = SinkError | CursorStoreError | CommitLogError

/** Whether a database whose log the sink continues after `from` (undefined: no cursor) starts with a snapshot. */
const needsSnapshot = (mode: SnapshotMode, from: bigint | undefined, horizon: bigint): boolean => {
  if (mode === "never") return false
  if (from !== undefined) return from < horizon
  return mode === "initial" || horizon > 0n
}

export const runSink = (deps: SinkLoopDeps, sink: SinkSettings, client: SinkClient, wake: Queue.Queue<void>) =>
  Effect.gen(function*() {
    const { config, store, acks, origins, afterPublish } = deps
    const filter = makeFilter(sink.filterDatabases, sink.filterTables)
    const readers = new Map<string, CommitLogReader>()
    /** Where each database stands (the saved cursor, checked against the log once per opened file). */
    const position = new Map<string, bigint>()
    yield* Effect.addFinalizer(() => Effect.sync(() => readers.forEach((r) => r.close())))

    const fileOf = (database: string) => join(databasesDir(config.dataDir), `${database}.db`)

    const attempt = <A>(database: string, f: () => A) =>
      Effect.try({
        try: f,
        catch: (e) => e instanceof CommitLogError ? e : new CommitLogError({ database, reason: e instanceof Error ? e.message : String(e) })
      })

    const readerFor = (database: string) =>
      attempt(database, () => {
        let r = readers.get(database)
        if (r !== undefined && !r.isCurrent()) {
          r.close()
          readers.delete(database)
          position.delete(database)
          r = undefined
        }
        if (r === undefined) {
          r = new CommitLogReader(database, fileOf(database))
          readers.set(database, r)
        }
        return r
      })

    /**
     * Where publishing a database starts: after the saved cursor (after 0 when there is none,
     * or when the log is not the one the cursor was saved against), or "snapshot" when the
     * sink's snapshot_mode asks for one there.
     */
    const startOf = (database: string, reader: CommitLogReader) =>
      Effect.gen(function*() {
        const known = position.get(database)
        if (known !== undefined) return known
        const saved = yield* store.get(sink.name, database)
        const { horizon, restarted } = yield* attempt(database, () => {
          const horizon = reader.horizon()
          const head = reader.maxSeq()
          const end = head > horizon ? head : horizon
          const at = saved !== undefined && saved.seq > 0n ? reader.txnAt(saved.seq) : undefined
          return { horizon, restarted: saved !== undefined && saved.seq > 0n && ((at !== undefined && at !== saved.txnId) || end < saved.seq) }
        })
        if (restarted) {
          yield* Effect.logWarning(`cdc ${sink.name}: ${database}'s commit log restarted (database recreated); publishing it from the beginning`)
        }
        const from = saved === undefined || restarted ? undefined : saved.seq
        if (needsSnapshot(sink.snapshotMode, from, horizon)) return "snapshot" as const
        const start = from ?? 0n
        if (start < horizon) {
          yield* Effect.logWarning(
            `cdc ${sink.name}: ${database}'s log entries ${start + 1n}..${horizon} were collected before this sink published them; ` +
              `snapshot_mode = "never" skips them`
          )
        }
        position.set(database, start)
        return start
      })

    const publishBatch = (events: ReadonlyArray<ChangeEvent>) =>
      client.publish(events).pipe(
        Effect.tapError((e) => Effect.logWarning(`cdc ${sink.name}: ${e.message}; retrying`)),
        Effect.retry(retrySchedule(sink))
      )

    /** Every row of a database as reads, then the cursor at the log position they are consistent with. */
    const snapshot = (database: string): Effect.Effect<number, RoundError> =>
      Effect.gen(function*() {
        const done = yield* publishSnapshot({
          database,
          path: fileOf(database),
          filter,
          topicPrefix: sink.topicPrefix,
          nodeId: config.nodeId,
          batchSize: sink.batchSize,
          publish: publishBatch
        })
        yield* store.save(sink.name, database, { seq: done.position, txnId: done.txnId })
        position.set(database, done.position)
        const ackedAtMs = yield* Clock.currentTimeMillis
        yield* PubSub.publish(acks, { sink: sink.name, database, txns: [], events: done.events, duplicates: done.duplicates, ackedAtMs })
        yield* Effect.logInfo(`cdc ${sink.name}: snapshot of ${database}: ${done.events} rows, consistent with log position ${done.position}`)
        return 1
      })

    const eventsOfEntries = (database: string, reader: CommitLogReader, entries: ReadonlyArray<LogEntry>) =>
      Effect.gen(function*() {
        const nowMs = yield* Clock.currentTimeMillis
        const events: Array<ChangeEvent> = []
        for (const entry of entries) {
          const evs = yield* attempt(database, () =>
            eventsOf(entry, { topicPrefix: sink.topicPrefix, filter, shapeOf: (_db, t) => reader.shape(t), nodeId: config.nodeId, nowMs }))
          for (const e of evs) if (client.tombstones || e.kind !== "tombstone") events.push(e)
          if (entry.ddl.length > 0) yield* attempt(database, () => reader.refreshShapes())
        }
        return events
      })

    /** Publishes the entries' events (retried until the broker takes them); the number of duplicates. */
    const publishEntries = (database: string, reader: CommitLogReader, entries: ReadonlyArray<LogEntry>) =>
      Effect.gen(function*() {
        const events = yield* eventsOfEntries(database, reader, entries)
        const duplicates = events.length === 0 ? 0 : (yield* publishBatch(events)).duplicates
        return { events: events.length, duplicates }
      })

    const reportAcked = (database: string, entries: ReadonlyArray<LogEntry>, published: { events: number; duplicates: number }) =>
      Effect.flatMap(Clock.currentTimeMillis, (ackedAtMs) =>
        PubSub.publish(acks, {
          sink: sink.name,
          database,
          txns: entries.map((e) => ({ seq: e.seq, txnId: e.txn.txnId, commitWallMs: e.txn.commitHlc.wallMs })),
          ...published,
          ackedAtMs
        }))

    /** publish_from = "origin": this node's own commits only, and its watermark per database (see Origins.ts). */
    const own = sink.publishFrom === "origin" ? config.nodeId : undefined
    const watermarks = new Map<string, bigint>()
    /** The highest commit stamp of its own this node published per database (since it started). */
    const publishedMax = new Map<string, bigint>()
    let watermarksChanged = false
    /** After a batch that reached the log's head (what is left after `lastSeq` is short to look through). */
    const noteWatermark = (database: string, reader: CommitLogReader, lastSeq: bigint) =>
      attempt(database, () => {
        const pending = reader.lowestStampAfter(lastSeq, own!)
        const w = pending === undefined ? publishedMax.get(database) : pending - 1n
        if (w !== undefined && w !== watermarks.get(database)) {
          watermarks.set(database, w)
          watermarksChanged = true
        }
      })
    const notePublished = (database: string, published: ReadonlyArray<LogEntry>) => {
      for (const e of published) {
        const stamp = toStamp(e.txn.commitHlc)
        if (stamp > (publishedMax.get(database) ?? -1n)) publishedMax.set(database, stamp)
      }
    }

    /** One batch of one database: read, publish (retried), save the cursor. Returns the entries scanned. */
    const step = (database: string): Effect.Effect<number, RoundError> =>
      Effect.gen(function*() {
        const reader = yield* readerFor(database)
        const after = yield* startOf(database, reader)
        if (after === "snapshot") return yield* snapshot(database)
        const { entries, last, scanned } = yield* attempt(database, () => {
          reader.refreshShapes()
          return reader.scan(after, sink.batchSize, own)
        })
        if (last === undefined) return 0
        const published = yield* publishEntries(database, reader, entries)
        if (afterPublish !== undefined) yield* afterPublish(sink.name, database, last.seq)
        yield* store.save(sink.name, database, last)
        position.set(database, last.seq)
        if (own !== undefined) {
          notePublished(database, entries)
          if (scanned < sink.batchSize) yield* noteWatermark(database, reader, last.seq)
        }
        if (entries.length > 0) yield* reportAcked(database, entries, published)
        return scanned
      })

    /**
     * Commits of a gone member this node stands in for, from the watermark it announced less
     * `takeoverMarginMs`; the position is kept in memory only (a restart goes back to the watermark).
     */
    const takeoverPosition = new Map<string, bigint>()
    const takeoverStep = (database: string, standIn: StandIn): Effect.Effect<number, RoundError> =>
      Effect.gen(function*() {
        const reader = yield* readerFor(database)
        const key = `${standIn.origin}\0${database}`
        const above = standIn.watermark(sink.name, database) - (BigInt(takeoverMarginMs) << 16n)
        const { entries, scannedTo } = yield* attempt(database, () => {
          reader.refreshShapes()
          return reader.readOrigin(standIn.origin, takeoverPosition.get(key) ?? 0n, above, sink.batchSize)
        })
        if (entries.length === 0) {
          takeoverPosition.set(key, scannedTo)
          return 0
        }
        const published = yield* publishEntries(database, reader, entries)
        takeoverPosition.set(key, scannedTo)
        yield* reportAcked(database, entries, published)
        return entries.length
      })

    /** One pass over every database; true when anything was published. */
    const round = Effect.gen(function*() {
      const databases = yield* attempt("(list)", () => listDatabases(config.dataDir))
      for (const name of [...readers.keys()]) {
        if (!databases.includes(name)) {
          readers.get(name)!.close()
          readers.delete(name)
          position.delete(name)
        }
      }
      const standIns = own === undefined ? [] : yield* origins.standingIn
      for (const key of [...takeoverPosition.keys()]) {
        if (!standIns.some((s) => key.startsWith(`${s.origin}\0`))) takeoverPosition.delete(key)
      }
      let done = 0
      for (const database of databases) {
        if (!filter.database(database)) continue
        done += yield* step(database)
        for (const standIn of standIns) done += yield* takeoverStep(database, standIn)
      }
      return done > 0
    })

    if (own !== undefined) {
      const announce = Effect.suspend(() => {
        if (!watermarksChanged) return Effect.void
        watermarksChanged = false
        return origins.announce(sink.name, new Map(watermarks))
      })
      yield* Effect.forkScoped(Effect.repeat(announce, Schedule.spaced(Duration.millis(announceIntervalMs))))
    }

    const idle = Effect.raceFirst(Effect.sleep(Duration.millis(sink.pollIntervalMs)), Queue.take(wake))
    const loop = round.pipe(
      Effect.tapError((e) => Effect.logWarning(`cdc ${sink.name}: ${e.message}; retrying`)),
      Effect.retry(retrySchedule(sink)),
      Effect.flatMap((busy) => busy ? Effect.void : Effect.asVoid(idle)),
      Effect.forever
    )
    yield* Effect.logInfo(`cdc: sink ${sink.name} (${sink.type}) publishing to ${sink.topicPrefix}.*`)
    return yield* loop
  })

