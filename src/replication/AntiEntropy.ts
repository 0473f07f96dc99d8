/**
 * Anti-entropy, first slice: every `intervalMs` this node pulls each ALIVE peer's commit log from
 * where it stopped last time and applies what it lacks (exactly once, LWW per row), so a node
 * that missed a COMMIT (partitioned, restarted, not prepared) converges, and a transaction
 * prepared here and committed elsewhere is resolved. Cursors live in memory: a restarted node
 * pulls each peer's log from the start again (applied markers make that harmless).
 */
import { Context, Duration, Effect, Layer, Metric, Schedule } from "effect"
import type { MemberState } from "../../proto-schemas/src/Gossip.ts"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import { PullLogRequest } from "../../proto-schemas/src/Replication.ts"
import { Membership } from "../membership/Membership.ts"
import { makePeerClient } from "../network/PeerNetwork.ts"
import * as Metrics from "./Metrics.ts"
import { Participant } from "./Participant.ts"
import { ReplicationRpcs } from "./ReplicationRpcs.ts"

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

export class AntiEntropy extends Context.Tag("marmot/replication/AntiEntropy")<AntiEntropy, {
  /** One pull from every ALIVE peer until each has nothing more; the number of transactions applied. */
  readonly syncNow: Effect.Effect<number>
}>() {
  static readonly make = Effect.gen(function*() {
    const config = yield* AntiEntropyConfig
    const membership = yield* Membership
    const participant = yield* Participant
    const peers = yield* makePeerClient(ReplicationRpcs)
    const cursors = new Map<NodeId, Map<string, bigint>>()

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
            limit: config.batchSize
          })
          const response = yield* peers.call(peer, (c) => c.PullLog(request))
          if (behind === undefined) {
            behind = 0
            for (const head of response.heads ?? []) behind += Math.max(0, Number(head.seq - (cursor.get(head.database) ?? 0n)))
          }
          for (const txn of response.entries) {
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
          }
          more = response.more && response.entries.length > 0
        }
        const peerLabel = String(peer.nodeId)
        yield* Metric.set(Metric.tagged(Metrics.peerLagTransactions, "peer", peerLabel), behind ?? 0)
        const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
        yield* Metric.set(Metric.tagged(Metrics.peerLagMs, "peer", peerLabel), newestWallMs === undefined ? 0 : Math.max(0, now - newestWallMs))
        if (appliedCount > 0) yield* Metric.incrementBy(Metrics.antiEntropyApplied, appliedCount)
        return appliedCount
      }).pipe(
        Effect.catchAll((e) => Effect.as(Effect.logDebug(`anti-entropy from node ${peer.nodeId}: ${e.message}`), 0))
      )

    const syncNow = Effect.gen(function*() {
      const alive = (yield* membership.alive).filter((m) => m.nodeId !== config.nodeId)
      const counts = yield* Effect.forEach(alive, pullFrom, { concurrency: "unbounded" })
      const total = counts.reduce((a, b) => a + b, 0)
      if (total > 0) yield* Effect.logInfo(`anti-entropy applied ${total} transaction(s) this node had missed`)
      return total
    }).pipe(Effect.annotateLogs({ subsystem: "anti-entropy", node: config.nodeId }))

    yield* syncNow.pipe(Effect.repeat(Schedule.spaced(Duration.millis(config.intervalMs))), Effect.forkScoped)
    return AntiEntropy.of({ syncNow })
  })

  static readonly layer = Layer.scoped(AntiEntropy, AntiEntropy.make)
}
