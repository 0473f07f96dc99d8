/**
 * Anti-entropy, first slice: every `intervalMs` this node pulls each ALIVE peer's commit log from
 * where it stopped last time and applies what it lacks (exactly once, LWW per row), so a node
 * that missed a COMMIT (partitioned, restarted, not prepared) converges, and a transaction
 * prepared here and committed elsewhere is resolved. Cursors are saved after each round that
 * moved them (`CursorStore`), so a restarted node resumes where it was. A database the peer's GC
 * collected past this node's cursor, or one this node never had, comes as a snapshot instead.
 */
import { Context, Duration, Effect, Layer, Metric, Schedule } from "effect"
import type { MemberState } from "../../proto-schemas/src/Gossip.ts"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import { PullLogRequest, type PullLogResponse } from "../../proto-schemas/src/Replication.ts"
import { Membership } from "../membership/Membership.ts"
import { makePeerClient } from "../network/PeerNetwork.ts"
import * as Metrics from "./Metrics.ts"
import { CursorStore } from "./CursorStore.ts"
import { Participant } from "./Participant.ts"
import { ReplicationRpcs } from "./ReplicationRpcs.ts"
import { Snapshots } from "./Snapshots.ts"
import { Storage } from "../storage/Storage.ts"

export interface AntiEntropySettings {
  readonly nodeId: NodeId
  readonly intervalMs: number
  /** Entries per pull. */
  readonly batchSize: number
}

export class AntiEntropyConfig extends Context.Tag("marmot/replication/AntiEntropyConfig")<
  AntiEntropyConfig,
  AntiEntropySettings
>() {}

/** Where this node stands with one peer's commit log (what the admin API's members and /readyz show). */
export interface PeerSync {
  /** When a pull last drained the peer's log to its head (this node had everything it had then). */
  readonly caughtUpAtMs: number | undefined
  /** Entries of its log not pulled yet when the last successful pull started. */
  readonly behindTransactions: number
  /** Age of the newest entry that pull applied, ms (0 when it applied nothing). */
  readonly lagMs: number
  /** Why the last pull failed; undefined when it succeeded. */
  readonly lastError: string | undefined
}

export class AntiEntropy extends Context.Tag("marmot/replication/AntiEntropy")<AntiEntropy, {
  /** One pull from every ALIVE peer until each has nothing more; the number of transactions applied. */
  readonly syncNow: Effect.Effect<number>
  /** Per peer pulled at least once since this node started. */
  readonly peers: Effect.Effect<ReadonlyMap<NodeId, PeerSync>>
}>() {
  static readonly make = Effect.gen(function*() {
    const config = yield* AntiEntropyConfig
    const membership = yield* Membership
    const participant = yield* Participant
    const peers = yield* makePeerClient(ReplicationRpcs)
    const store = yield* CursorStore
    const snapshots = yield* Snapshots
    const storage = yield* Storage
    const cursors = new Map<number, Map<string, bigint>>()
    for (const [peer, dbs] of yield* store.load) cursors.set(peer, new Map(dbs))
    let dirty = false
    const syncs = new Map<NodeId, PeerSync>()

    /** Databases being restored from a snapshot now (one restore per database at a time). */
    const restoring = new Set<string>()
    /**
     * After a restore of a database from one peer, the other peers whose log gap in it the snapshot
     * covers: what they collected, every member (the source included) had pulled, or it was older
     * than gc_max. Their cursors jump to their horizon, as in Marmot; a later gap snapshots again.
     */
    const coveredGaps = new Map<string, Set<NodeId>>()

    const restoreFrom = (peer: MemberState, cursor: Map<string, bigint>, database: string) =>
      Effect.gen(function*() {
        restoring.add(database)
        const restored = yield* Effect.ensuring(snapshots.restore(peer, database), Effect.sync(() => restoring.delete(database)))
        cursor.set(database, restored.logSeq)
        dirty = true
        const others = (yield* membership.members).map((m) => m.nodeId).filter((id) => id !== peer.nodeId && id !== config.nodeId)
        coveredGaps.set(database, new Set(others))
      })

    /**
     * Snapshots where replaying the log cannot work or is pointless: a database whose log the peer
     * collected past this node's cursor (a gap), or one this node never had nor pulled (a new node).
     * True when a cursor moved.
     */
    const heal = (peer: MemberState, cursor: Map<string, bigint>, response: PullLogResponse) =>
      Effect.gen(function*() {
        const gaps = response.gaps ?? []
        const gapped = new Set(gaps.map((g) => g.database))
        for (const database of response.databases) if (!gapped.has(database)) coveredGaps.get(database)?.delete(peer.nodeId)
        let moved = false
        for (const gap of gaps) {
          if (restoring.has(gap.database)) continue
          if (coveredGaps.get(gap.database)?.delete(peer.nodeId) === true) {
            yield* Effect.logInfo(`${gap.database}: node ${peer.nodeId}'s log gap is covered by the snapshot; cursor to ${gap.horizon}`)
            cursor.set(gap.database, gap.horizon)
          } else {
            yield* Effect.logInfo(`${gap.database}: node ${peer.nodeId} collected its log up to ${gap.horizon}, past this node's cursor`)
            yield* restoreFrom(peer, cursor, gap.database)
          }
          moved = true
        }
        for (const head of response.heads ?? []) {
          const database = head.database
          if (head.seq === 0n || cursor.has(database) || gapped.has(database) || restoring.has(database)) continue
          if (storage.get(database) !== undefined) continue
          yield* restoreFrom(peer, cursor, database)
          moved = true
        }
        return moved
      })

    const pullFrom = (peer: MemberState) =>
      Effect.gen(function*() {
        let cursor = cursors.get(peer.nodeId)
        if (cursor === undefined) cursors.set(peer.nodeId, cursor = new Map())
        let appliedCount = 0
        let behind: number | undefined
        let newestWallMs: number | undefined
        for (let more = true; more;) {
          const request = new PullLogRequest({
            from: config.nodeId,
            cursors: [...cursor].map(([database, afterSeq]) => ({ database, afterSeq })),
            // A peer never pulled: learn its databases and heads first, so a snapshot is decided
            // before its whole log is shipped.
            limit: cursor.size === 0 && behind === undefined ? 1 : config.batchSize
          })
          const response = yield* peers.call(peer, (c) => c.PullLog(request))
          // A snapshot moved a cursor: ask again from there.
          if (yield* heal(peer, cursor, response)) continue
          if (behind === undefined) {
            behind = 0
            for (const head of response.heads ?? []) {
              const at = cursor.get(head.database) ?? 0n
              // The peer's log restarted (its data was wiped): read it again from the start.
              if (head.seq < at) cursor.delete(head.database)
              behind += Math.max(0, Number(head.seq - (cursor.get(head.database) ?? 0n)))
            }
          }
          let advanced = 0
          for (const txn of response.entries) {
            // Its snapshot brings it (or the next pull does): the cursor stays.
            if (restoring.has(txn.database)) continue
            advanced++
            // Mostly so: the transaction's COMMIT reached this node too. Skipping it here saves a
            // write transaction per entry and peer.
            if (participant.hasApplied(txn.database, txn.txnId)) {
              cursor.set(txn.database, txn.seq ?? 0n)
              dirty = true
              continue
            }
            // An entry this node cannot apply (its SQLite refuses it) must not stop every later one.
            const result = yield* participant.applyCommitted(txn).pipe(
              Effect.catchTag("ApplyFailed", (e) =>
                Effect.as(
                  Effect.zipRight(
                    Effect.logError(`anti-entropy skipped a transaction from node ${peer.nodeId}: ${e.message}`),
                    Metric.increment(Metrics.applyFailures)
                  ),
                  undefined
                ))
            )
            if (result?.applied === true) {
              appliedCount++
              newestWallMs = txn.commitHlc.wallMs
            }
            cursor.set(txn.database, txn.seq ?? 0n)
            dirty = true
          }
          more = response.more && advanced > 0
        }
        const peerLabel = String(peer.nodeId)
        yield* Metric.set(Metric.tagged(Metrics.peerLagTransactions, "peer", peerLabel), behind ?? 0)
        const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const lagMs = newestWallMs === undefined ? 0 : Math.max(0, now - newestWallMs)
        yield* Metric.set(Metric.tagged(Metrics.peerLagMs, "peer", peerLabel), lagMs)
        if (appliedCount > 0) yield* Metric.incrementBy(Metrics.antiEntropyApplied, appliedCount)
        syncs.set(peer.nodeId, { caughtUpAtMs: now, behindTransactions: behind ?? 0, lagMs, lastError: undefined })
        return appliedCount
      }).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            const previous = syncs.get(peer.nodeId)
            syncs.set(peer.nodeId, {
              caughtUpAtMs: previous?.caughtUpAtMs,
              behindTransactions: previous?.behindTransactions ?? 0,
              lagMs: previous?.lagMs ?? 0,
              lastError: e.message
            })
          })
        ),
        Effect.catchAll((e) => Effect.as(Effect.logDebug(`anti-entropy from node ${peer.nodeId}: ${e.message}`), 0))
      )

    const syncNow = Effect.gen(function*() {
      const alive = (yield* membership.alive).filter((m) => m.nodeId !== config.nodeId)
      const counts = yield* Effect.forEach(alive, pullFrom, { concurrency: "unbounded" })
      const total = counts.reduce((a, b) => a + b, 0)
      if (dirty) {
        dirty = false
        yield* store.save(cursors)
      }
      if (total > 0) yield* Effect.logInfo(`anti-entropy applied ${total} transaction(s) this node had missed`)
      return total
    }).pipe(Effect.annotateLogs({ subsystem: "anti-entropy", node: config.nodeId }))

    yield* syncNow.pipe(Effect.repeat(Schedule.spaced(Duration.millis(config.intervalMs))), Effect.forkScoped)
    return AntiEntropy.of({ syncNow, peers: Effect.sync(() => new Map(syncs)) })
  })

  static readonly layer = Layer.scoped(AntiEntropy, AntiEntropy.make)
}
