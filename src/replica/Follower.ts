/**
 * The read-only replica's follower: it follows ONE cluster node (its source) at a time, pulling
 * that node's commit logs every `pollIntervalMs` and applying them through the participant (LWW,
 * exactly once by the applied markers), databases and DDL included, limited to
 * `replicateDatabases`. When a pull from the source fails it switches to another ALIVE node,
 * learned by asking the cluster (`ClusterNodes`) through its follow addresses and the nodes it
 * already knows. Positions are per source log (`CursorStore`, keyed by node id): another node's
 * log numbers the same transactions differently, so a new source is read from where this replica
 * last stood in that node's log, or from its start; what arrives twice is skipped by the applied
 * markers. A database the log cannot bring (collected past this replica's position) or should not
 * (one this replica lacks, with a long log) is restored from a snapshot first (`Bootstrap`) and
 * read on from the snapshot's position. See DESIGN.md.
 */
import { Context, Duration, Effect, Layer, Metric, Random, Schedule } from "effect"
import type { MemberState } from "../../proto-schemas/src/Gossip.ts"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import { PullLogRequest, type PullLogResponse } from "../../proto-schemas/src/Replication.ts"
import { makePeerClient, type Peer } from "../network/PeerNetwork.ts"
import { CursorStore } from "../replication/CursorStore.ts"
import { Participant } from "../replication/Participant.ts"
import { ReplicationRpcs } from "../replication/ReplicationRpcs.ts"
import { Storage, type StorageService, UnknownDatabase } from "../storage/Storage.ts"
import { Bootstrap } from "./Bootstrap.ts"
import { makeDatabaseFilter } from "./DatabaseFilter.ts"
import { NoSource, SourceLost } from "./Errors.ts"
import * as Metrics from "./Metrics.ts"
import { ReplicaRpcs } from "./ReplicaRpcs.ts"
import * as ReplicationMetrics from "../replication/Metrics.ts"

export interface FollowerSettings {
  /** This replica's id (named in its pull requests; it is never a member). */
  readonly nodeId: NodeId
  readonly followAddresses: ReadonlyArray<string>
  /** Names or globs; empty = every database. */
  readonly replicateDatabases: ReadonlyArray<string>
  readonly pollIntervalMs: number
  readonly discoveryIntervalMs: number
  /** Entries per pull. */
  readonly batchSize: number
  /** A database this replica lacks comes as a snapshot when the source's log has more entries than this. */
  readonly snapshotThresholdTransactions: number
}

export class FollowerConfig extends Context.Tag("marmot/replica/FollowerConfig")<FollowerConfig, FollowerSettings>() {}

export interface FollowStatus {
  /** The node followed now; undefined while looking for one. */
  readonly source: Peer | undefined
  /** When a pull last drained a source's log to its head (this replica had everything it had). */
  readonly caughtUpAtMs: number | undefined
  /** Entries of the source's logs not pulled yet when the last successful round started. */
  readonly behindTransactions: number
  /** Entries of replicated databases read from sources since this replica started (applied or seen before). */
  readonly entriesPulled: number
  /** Times the replica switched to another source after losing one. */
  readonly failovers: number
  /** Why the last round failed; undefined when it succeeded. */
  readonly lastError: string | undefined
}

/** Drops a database the source no longer has; the reason when it cannot. */
const dropLocal = (storage: StorageService, database: string): string | undefined => {
  try {
    storage.drop(database)
    return undefined
  } catch (e) {
    return e instanceof UnknownDatabase ? undefined : e instanceof Error ? e.message : String(e)
  }
}

export class Follower extends Context.Tag("marmot/replica/Follower")<Follower, {
  /** One round: find a source if needed, pull its logs until drained; the transactions applied. */
  readonly syncNow: Effect.Effect<number, NoSource | SourceLost>
  readonly status: Effect.Effect<FollowStatus>
}>() {
  static readonly make = Effect.gen(function*() {
    const config = yield* FollowerConfig
    const participant = yield* Participant
    const storage = yield* Storage
    const bootstrap = yield* Bootstrap
    const store = yield* CursorStore
    const logs = yield* makePeerClient(ReplicationRpcs)
    const cluster = yield* makePeerClient(ReplicaRpcs)
    const replicated = makeDatabaseFilter(config.replicateDatabases)
    const now = Effect.clockWith((c) => c.currentTimeMillis)

    // source node id → database → last seq applied (or skipped) from that node's log
    const cursors = new Map<number, Map<string, bigint>>()
    for (const [peer, dbs] of yield* store.load) cursors.set(peer, new Map(dbs))
    // databases this replica does not replicate: how far they were skipped (not saved)
    const skipped = new Map<number, Map<string, bigint>>()
    let dirty = false
    const cursorOf = (map: Map<number, Map<string, bigint>>, source: Peer) => {
      let cursor = map.get(source.nodeId)
      if (cursor === undefined) map.set(source.nodeId, cursor = new Map())
      return cursor
    }

    let known: ReadonlyArray<Peer> = []
    let discoveredAtMs: number | undefined
    // with nothing to follow, discovery is retried after a delay that doubles up to discoveryIntervalMs
    let retryDelayMs = config.pollIntervalMs
    let retryAtMs = -Infinity
    let source: Peer | undefined
    const failedAtMs = new Map<NodeId, number>()
    let status: FollowStatus = {
      source: undefined,
      caughtUpAtMs: undefined,
      behindTransactions: 0,
      entriesPulled: 0,
      failovers: 0,
      lastError: undefined
    }

    /** The ALIVE members, from the first node (known ones first, then the follow addresses) that answers. */
    const discover = Effect.gen(function*() {
      const addresses = [...new Set([...known.map((p) => p.address), ...config.followAddresses])]
      let reason = "no node answered"
      for (const address of addresses) {
        const answer = yield* Effect.either(cluster.callAddress(address, (c) => c.ClusterNodes(), { timeout: Duration.seconds(2) }))
        if (answer._tag === "Left") {
          reason = `${address}: ${answer.left.message}`
          continue
        }
        const alive = answer.right.members.filter((m: MemberState) => m.status === "ALIVE")
        if (alive.length === 0) {
          reason = `${address} knows no ALIVE member`
          continue
        }
        if (alive.some((m) => m.nodeId === config.nodeId) && !known.some((p) => p.nodeId === config.nodeId)) {
          yield* Effect.logWarning(`cluster member ${config.nodeId} has this replica's node_id: give the replica its own node_id`)
        }
        known = alive.map((m) => ({ nodeId: m.nodeId, address: m.address }))
        discoveredAtMs = yield* now
        retryDelayMs = config.pollIntervalMs
        return
      }
      return yield* new NoSource({ tried: addresses, reason })
    })

    /**
     * A node to follow: one that has not failed lately if there is one; among those, one whose log
     * this replica has read before (nothing to replay); at random (spreads replicas).
     */
    const choose = Effect.gen(function*() {
      const at = yield* now
      const fresh = known.filter((p) => at - (failedAtMs.get(p.nodeId) ?? -Infinity) > config.discoveryIntervalMs)
      const healthy = fresh.length > 0 ? fresh : known
      const readBefore = healthy.filter((p) => (cursors.get(p.nodeId)?.size ?? 0) > 0)
      const candidates = readBefore.length > 0 ? readBefore : healthy
      if (candidates.length === 0) return yield* new NoSource({ tried: [...config.followAddresses], reason: "no ALIVE member known" })
      return candidates[yield* Random.nextIntBetween(0, candidates.length)]!
    })

    /** Applies one pulled batch; the number of transactions applied. */
    const applyBatch = (from: Peer, response: PullLogResponse) =>
      Effect.gen(function*() {
        const cursor = cursorOf(cursors, from)
        const skip = cursorOf(skipped, from)
        let applied = 0
        for (const txn of response.entries) {
          const seq = txn.seq ?? 0n
          if (!replicated(txn.database)) {
            skip.set(txn.database, seq)
            continue
          }
          if (seq <= (cursor.get(txn.database) ?? 0n)) continue
          status = { ...status, entriesPulled: status.entriesPulled + 1 }
          const result = yield* participant.applyCommitted(txn).pipe(
            Effect.catchTag("ApplyFailed", (e) =>
              Effect.as(
                Effect.zipRight(Effect.logError(`replica skipped a transaction from node ${from.nodeId}: ${e.message}`),
                  Metric.increment(ReplicationMetrics.applyFailures)
                ),
                undefined
              ))
          )
          if (result?.applied === true) applied++
          cursor.set(txn.database, seq)
          dirty = true
        }
        return applied
      })

    /**
     * Before a round's first batch: a log that restarted (the source's data was wiped) is read again
     * from its start, and a database the source no longer has was dropped there. The number of
     * entries still to pull.
     */
    const reconcile = (from: Peer, response: PullLogResponse) =>
      Effect.gen(function*() {
        const cursor = cursorOf(cursors, from)
        for (const database of [...cursor.keys()]) {
          if (response.databases.includes(database)) continue
          cursor.delete(database)
          dirty = true
          const failed = dropLocal(storage, database)
          yield* failed === undefined
            ? Effect.logInfo(`database ${database} was dropped on node ${from.nodeId}; dropped here`)
            : Effect.logWarning(`database ${database} was dropped on node ${from.nodeId} but cannot be dropped here: ${failed}`)
        }
        let behind = 0
        for (const head of response.heads ?? []) {
          if (!replicated(head.database)) continue
          if (head.seq < (cursor.get(head.database) ?? 0n)) {
            cursor.delete(head.database)
            dirty = true
          }
          behind += Math.max(0, Number(head.seq - (cursor.get(head.database) ?? 0n)))
        }
        return behind
      })

    /**
     * Before a round's first batch: snapshots of the databases the log cannot bring (a gap: the
     * source collected its log past this replica's position) or should not (not here, and the
     * source's log is longer than the threshold). True when a cursor moved.
     */
    const bootstrapFrom = (from: Peer, response: PullLogResponse) =>
      Effect.gen(function*() {
        const cursor = cursorOf(cursors, from)
        const due = new Set<string>()
        for (const gap of response.gaps ?? []) {
          if (replicated(gap.database)) due.add(gap.database)
          else cursorOf(skipped, from).set(gap.database, gap.horizon)
        }
        for (const head of response.heads ?? []) {
          if (!replicated(head.database) || cursor.has(head.database) || storage.get(head.database) !== undefined) continue
          if (head.seq > BigInt(config.snapshotThresholdTransactions)) due.add(head.database)
        }
        for (const database of due) {
          cursor.set(database, yield* bootstrap.start(from, database))
          dirty = true
        }
        return due.size > 0 || (response.gaps ?? []).length > 0
      })

    const pull = (from: Peer) =>
      Effect.gen(function*() {
        let applied = 0
        let behind: number | undefined
        for (let more = true; more;) {
          const positions = new Map([...cursorOf(skipped, from), ...cursorOf(cursors, from)])
          const request = new PullLogRequest({
            from: config.nodeId,
            cursors: [...positions].map(([database, afterSeq]) => ({ database, afterSeq })),
            // A source never read: learn its databases and heads first, so a snapshot is decided
            // before its whole log is shipped.
            limit: cursorOf(cursors, from).size === 0 && behind === undefined ? 1 : config.batchSize
          })
          const lost = (e: { readonly message: string }) => new SourceLost({ source: from.nodeId, reason: e.message })
          const response = yield* logs.call(from, (c) => c.PullLog(request)).pipe(Effect.mapError(lost))
          if (behind === undefined) {
            const pending = yield* reconcile(from, response)
            // Snapshots moved cursors: ask again from there.
            if (yield* Effect.mapError(bootstrapFrom(from, response), lost)) continue
            behind = pending
          }
          applied += yield* applyBatch(from, response)
          more = response.more && response.entries.length > 0
        }
        return { applied, behind: behind ?? 0 }
      })

    const syncNow = Effect.gen(function*() {
      const at = yield* now
      if (source === undefined && at < retryAtMs) return 0
      if (source === undefined || discoveredAtMs === undefined || at - discoveredAtMs >= config.discoveryIntervalMs) {
        yield* discover.pipe(Effect.catchTag("NoSource", (e) => {
          if (source !== undefined) return Effect.void // keep following the source that answers
          retryAtMs = at + retryDelayMs
          retryDelayMs = Math.min(retryDelayMs * 2, config.discoveryIntervalMs)
          return Effect.fail(e)
        }))
      }
      if (source === undefined) {
        source = yield* choose
        yield* Effect.logInfo(`following node ${source.nodeId} at ${source.address}`)
      }
      const from = source
      const round = yield* pull(from).pipe(
        Effect.tapError((e) =>
          Effect.gen(function*() {
            failedAtMs.set(from.nodeId, yield* now)
            source = undefined
            discoveredAtMs = undefined
            status = { ...status, source: undefined, failovers: status.failovers + 1, lastError: e.message }
            yield* Metric.increment(Metrics.failovers)
            yield* Effect.logWarning(`lost source node ${from.nodeId}: ${e.reason}; switching to another node`)
          })
        )
      )
      if (dirty) {
        dirty = false
        yield* store.save(cursors)
      }
      if (round.applied > 0) yield* Metric.incrementBy(Metrics.applied, round.applied)
      yield* Metric.set(Metrics.behind, round.behind)
      status = { ...status, source: from, caughtUpAtMs: yield* now, behindTransactions: round.behind, lastError: undefined }
      return round.applied
    }).pipe(Effect.annotateLogs({ subsystem: "replica" }))

    yield* syncNow.pipe(
      Effect.catchTag("NoSource", (e) =>
        Effect.suspend(() => {
          const repeated = status.lastError === e.message
          status = { ...status, lastError: e.message }
          return repeated ? Effect.void : Effect.logWarning(e.message)
        })),
      Effect.catchTag("SourceLost", () => Effect.void),
      Effect.repeat(Schedule.spaced(Duration.millis(config.pollIntervalMs))),
      Effect.forkScoped
    )
    return Follower.of({ syncNow, status: Effect.sync(() => status) })
  })

  static readonly layer = Layer.scoped(Follower, Follower.make)
}
