/**
 * `write_mode = "forward"`: a replica's worker captures a write as a cluster node's worker does
 * (row images and the versions it read, here from the replica's copy) and hands it to this
 * service, which sends it to the node the follower follows (`ForwardWrite`). That node coordinates
 * it like one of its own writes (two-phase commit among the members; the replica is not one), so a
 * write built on rows the replica had not caught up with is refused as stale (1213) and an
 * autocommit statement re-runs on newer data. Once committed, the answer waits until the change
 * is back in the replica's copy, so the client reads its own write on the replica.
 */
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { ForwardWriteRequest } from "../../proto-schemas/src/Replica.ts"
import { makePeerClient } from "../network/PeerNetwork.ts"
import type { ReplicateReply } from "../replication/Replicator.ts"
import type { WriteRequest } from "../replication/WriteCoordinator.ts"
import { Storage } from "../storage/Storage.ts"
import { Follower } from "./Follower.ts"
import { ReplicaRpcs } from "./ReplicaRpcs.ts"

export class ForwarderConfig extends Context.Tag("marmot/replica/ForwarderConfig")<ForwarderConfig, {
  readonly timeoutMs: number
}>() {}

const toWire = (r: WriteRequest) =>
  new ForwardWriteRequest({
    database: r.database,
    changes: r.changes,
    consistency: r.consistency,
    ...(r.ddl === undefined ? {} : { ddl: r.ddl }),
    ...(r.databaseOp === undefined ? {} : { databaseOp: r.databaseOp }),
    ...(r.locks === undefined ? {} : { locks: r.locks })
  })

const failed = (message: string): ReplicateReply => ({ code: 1105, sqlState: "HY000", message })

export class Forwarder extends Context.Tag("marmot/replica/Forwarder")<Forwarder, {
  /** Undefined: committed on the cluster and applied here. Otherwise the MySQL error for the client. */
  readonly forward: (request: WriteRequest) => Effect.Effect<ReplicateReply>
}>() {
  static readonly make = Effect.gen(function*() {
    const config = yield* ForwarderConfig
    const follower = yield* Follower
    const storage = yield* Storage
    const nodes = yield* makePeerClient(ReplicaRpcs, { timeout: Duration.millis(config.timeoutMs) })

    /** The forwarded transaction has reached this replica's copy. */
    const arrived = (request: WriteRequest, txnId: string): boolean => {
      const handle = storage.get(request.database)
      if (request.databaseOp === "drop") return handle === undefined
      if (handle === undefined) return false
      try {
        return handle.reader.prepare("SELECT 1 FROM __marmot_applied_txn WHERE txn_id = ?").stmt.get(txnId) !== undefined
      } catch {
        return false // nothing replicated into this file yet
      }
    }

    const forward = (request: WriteRequest) =>
      Effect.gen(function*() {
        const source = (yield* follower.status).source
        if (source === undefined) return failed("this replica has no cluster node to forward the write to right now; nothing was written")
        const sent = yield* Effect.either(nodes.call(source, (c) => c.ForwardWrite(toWire(request))))
        if (sent._tag === "Left") {
          const e = sent.left
          if (e._tag === "ForwardRefused") return { code: e.code, sqlState: e.sqlState, message: e.message }
          return failed(`forwarding the write to node ${source.nodeId} failed (${e.message}); it may or may not have been applied`)
        }
        const txnId = sent.right.txnId
        const back = yield* Effect.sync(() => arrived(request, txnId)).pipe(
          Effect.repeat({ schedule: Schedule.spaced(Duration.millis(20)), until: (ok) => ok }),
          Effect.timeoutTo({ duration: Duration.millis(config.timeoutMs), onSuccess: () => true, onTimeout: () => false })
        )
        if (!back) {
          yield* Effect.logWarning(`forwarded write ${txnId} committed on the cluster but has not reached this replica after ${config.timeoutMs} ms`)
        }
        return undefined
      }).pipe(Effect.annotateLogs({ subsystem: "replica" }))

    return Forwarder.of({ forward })
  })

  static readonly layer = Layer.scoped(Forwarder, Forwarder.make)
}
