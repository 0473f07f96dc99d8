/**
 * The node's change-data-capture publisher: one fiber per `[[publisher.sinks]]` entry follows
 * every database's local commit log from that sink's persistent cursor, turns entries into
 * Debezium events and publishes them; the cursor moves only after the broker acknowledged the
 * batch (at-least-once). Runs once per node, in the supervisor process. See DESIGN.md.
 */
import { Clock, Context, Duration, Effect, Layer, PubSub, Queue, Schedule, type Scope } from "effect"
import { join } from "node:path"
import { toStamp } from "../../proto-schemas/src/Hlc.ts"
import { NodeConfig } from "../config/NodeConfig.ts"
import { Membership } from "../membership/Membership.ts"
import { CommitSignal } from "../replication/CommitSignal.ts"
import type { SinkSettings, SnapshotMode } from "../config/PublisherSettings.ts"
import { CommitLogError, CommitLogReader, databasesDir, listDatabases } from "./CommitLog.ts"
import { CursorStore, type CursorRow, type CursorStoreError } from "./CursorStore.ts"
import { type ChangeEvent, eventsOf, type LogEntry, snapshotEventOf } from "./Debezium.ts"
import { makeFilter } from "./Filter.ts"
import { connectKafka } from "./KafkaSink.ts"
import { connectNats } from "./NatsSink.ts"
import { DatabaseSnapshot, type SnapshotRow } from "./Snapshot.ts"
import { aloneOrigins, membershipOrigins, type OriginView, type StandIn } from "./Origins.ts"
import { MemorySinks, type SinkClient, type SinkConnector, type SinkError } from "./Sink.ts"

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

export interface PublisherService {
  /** The configured sinks that run (none when `[publisher] enabled` is false). */
  readonly sinks: ReadonlyArray<string>
  /** Wakes every sink now instead of at its next poll (call after a commit to cut latency). */
  readonly notify: Effect.Effect<void>
  /** Every sink's saved cursors. */
  readonly cursors: Effect.Effect<ReadonlyArray<CursorRow>, CursorStoreError>
  /** Acknowledged batches from now on (a sliding buffer: a slow reader loses the oldest). */
  readonly acks: Effect.Effect<Queue.Dequeue<Acked>, never, Scope.Scope>
}

export interface PublisherOptions {
  /** Builds a sink's client (the real ones by type, or memory sinks in tests). */
  readonly connect: SinkConnector
  /** Runs after a batch was acknowledged and before its cursor is saved (the crash test kills the process here). */
  readonly afterPublish?: (sink: string, database: string, lastSeq: bigint) => Effect.Effect<void>
  /** Which members' commits this node publishes (publish_from = "origin"); alone (all its own) by default. */
  readonly origins?: OriginView
  /** Commits of this process's ApplyQueues: each wakes every sink (else they find commits at their next poll). */
  readonly commits?: CommitSignal["Type"]
}

/**
 * A stand-in republishes a gone origin's commits from the origin's watermark less this much HLC
 * time: a commit of the origin stamped before its watermark but not yet in its log when it
 * announced it (a commit decided, not yet applied locally) is still published.
 */
const takeoverMarginMs = 5_000
/** How often a node gossips its own watermarks (when they moved). */
const announceIntervalMs = 1_000

/** The real clients, by sink type. */
export const connectSink: SinkConnector = (sink, nodeId) => sink.type === "kafka" ? connectKafka(sink, nodeId) : connectNats(sink, nodeId)

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

const make = (options: PublisherOptions) =>
  Effect.gen(function*() {
    const config = yield* NodeConfig
    const origins = options.origins ?? aloneOrigins
    const store = yield* CursorStore
    const acks = yield* PubSub.sliding<Acked>(1024)
    const settings = config.publisher
    const sinks = settings.enabled ? settings.sinks : []
    const wakers: Array<Queue.Queue<void>> = []

    const runSink = (sink: SinkSettings, client: SinkClient, wake: Queue.Queue<void>) =>
      Effect.gen(function*() {
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
          Effect.acquireUseRelease(
            attempt(database, () => new DatabaseSnapshot(database, fileOf(database), (t) => filter.table(database, t))),
            (snap) =>
              Effect.gen(function*() {
                const startedMs = yield* Clock.currentTimeMillis
                const rows = snap.rows()
                let batch: Array<ChangeEvent> = []
                let previous: SnapshotRow | undefined
                let events = 0
                let duplicates = 0
                for (;;) {
                  const next = yield* attempt(database, () => rows.next())
                  if (previous !== undefined) {
                    const nowMs = yield* Clock.currentTimeMillis
                    const context = { topicPrefix: sink.topicPrefix, nodeId: config.nodeId, startedMs, nowMs, position: snap.position }
                    batch.push(snapshotEventOf(database, previous, context, next.done === true))
                  }
                  if (batch.length >= sink.batchSize || (next.done === true && batch.length > 0)) {
                    duplicates += (yield* publishBatch(batch)).duplicates
                    events += batch.length
                    batch = []
                  }
                  if (next.done === true) break
                  previous = next.value
                }
                yield* store.save(sink.name, database, { seq: snap.position, txnId: snap.txnId })
                position.set(database, snap.position)
                const ackedAtMs = yield* Clock.currentTimeMillis
                yield* PubSub.publish(acks, { sink: sink.name, database, txns: [], events, duplicates, ackedAtMs })
                yield* Effect.logInfo(`cdc ${sink.name}: snapshot of ${database}: ${events} rows, consistent with log position ${snap.position}`)
                return 1
              }),
            (snap) => Effect.sync(() => snap.close())
          )

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
        let watermarksChanged = false
        const noteWatermark = (database: string, reader: CommitLogReader, lastSeq: bigint, published: ReadonlyArray<LogEntry>) =>
          attempt(database, () => {
            const pending = reader.lowestStampAfter(lastSeq, own!)
            let w = pending === undefined ? watermarks.get(database) : pending - 1n
            if (pending === undefined) for (const e of published) if (w === undefined || toStamp(e.txn.commitHlc) > w) w = toStamp(e.txn.commitHlc)
            if (w !== undefined && w !== watermarks.get(database)) {
              watermarks.set(database, w)
              watermarksChanged = true
            }
          })

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
            if (options.afterPublish !== undefined) yield* options.afterPublish(sink.name, database, last.seq)
            yield* store.save(sink.name, database, last)
            position.set(database, last.seq)
            if (own !== undefined) yield* noteWatermark(database, reader, last.seq, entries)
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
            const entries = yield* attempt(database, () => {
              reader.refreshShapes()
              return reader.readOrigin(standIn.origin, takeoverPosition.get(key) ?? 0n, above, sink.batchSize)
            })
            if (entries.length === 0) return 0
            const published = yield* publishEntries(database, reader, entries)
            takeoverPosition.set(key, entries[entries.length - 1]!.seq)
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

    for (const sink of sinks) {
      const wake = yield* Queue.sliding<void>(1)
      wakers.push(wake)
      const client = yield* options.connect(sink, config.nodeId)
      yield* Effect.forkScoped(Effect.scoped(runSink(sink, client, wake)))
    }
    if (options.commits !== undefined) yield* options.commits.subscribe(() => wakers.forEach((w) => w.unsafeOffer(undefined)))

    return Publisher.of({
      sinks: sinks.map((s) => s.name),
      notify: Effect.forEach(wakers, (w) => Queue.offer(w, undefined), { discard: true }),
      cursors: store.all,
      acks: PubSub.subscribe(acks)
    })
  })

/** What runs when `[publisher]` is disabled or has no sinks: nothing (not even the cursor file). */
const idle = Effect.map(PubSub.sliding<Acked>(1), (acks) =>
  Publisher.of({ sinks: [], notify: Effect.void, cursors: Effect.succeed([]), acks: PubSub.subscribe(acks) }))

export class Publisher extends Context.Tag("marmot/cdc/Publisher")<Publisher, PublisherService>() {
  static readonly make = make
  /** Publisher with explicit sink clients and hooks (tests, the crash child); needs NodeConfig. */
  static readonly layerWith = (options: PublisherOptions) =>
    Layer.unwrapEffect(Effect.map(NodeConfig, (config) =>
      config.publisher.enabled && config.publisher.sinks.length > 0
        ? Layer.scoped(Publisher, make(options)).pipe(Layer.provide(CursorStore.layer))
        : Layer.effect(Publisher, idle)))
  /** The node's publisher: sinks from `[publisher]` in NodeConfig, cursors under `<data_dir>/cdc`. */
  static readonly layer = Publisher.layerWith({ connect: connectSink })
  /**
   * The publisher of a cluster node: woken by every commit of the node's ApplyQueues, and
   * `publish_from = "origin"` sinks follow the membership.
   */
  static readonly layerInCluster = Layer.unwrapEffect(
    Effect.map(
      Effect.all([Membership, CommitSignal]),
      ([membership, commits]) => Publisher.layerWith({ connect: connectSink, origins: membershipOrigins(membership), commits })
    )
  )
  /** Publisher over in-memory sinks (`memory.events(name)`), same config, cursors and loop. */
  static readonly layerTest = (memory: MemorySinks) => Publisher.layerWith({ connect: memory.connect })
}
