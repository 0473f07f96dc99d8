/**
 * How a replica gets a database its source's log cannot bring it (the log was collected past the
 * replica's position) or should not (the replica lacks the database and the log is long): a
 * snapshot of the source's copy, installed with the cluster's own restore (`Snapshots`: download,
 * SHA-256 check, LWW-union install); the replica then reads the source's log on from the seq the
 * copy was taken at.
 */
import { Context, Data, Effect, Layer } from "effect"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import type { Peer } from "../network/PeerNetwork.ts"
import { Snapshots } from "../replication/Snapshots.ts"

export class BootstrapFailed extends Data.TaggedError("BootstrapFailed")<{
  readonly database: string
  readonly reason: string
}> {
  override get message() {
    return `cannot bootstrap database ${this.database}: ${this.reason}`
  }
}

export class Bootstrap extends Context.Tag("marmot/replica/Bootstrap")<Bootstrap, {
  /** Restores `database` from `source`; the seq of the source's log to read after. */
  readonly start: (source: Peer, database: string) => Effect.Effect<bigint, BootstrapFailed>
}>() {
  static readonly make = Effect.gen(function*() {
    const snapshots = yield* Snapshots
    return Bootstrap.of({
      start: (source, database) =>
        snapshots.restore(source, database).pipe(
          Effect.map((restored) => restored.logSeq),
          Effect.mapError((e) => new BootstrapFailed({ database, reason: e.reason }))
        )
    })
  })

  /** Snapshots restored as `self` (the replica's node id, named in its requests). */
  static readonly layerSnapshot = (self: NodeId) => Layer.effect(Bootstrap, Bootstrap.make).pipe(Layer.provide(Snapshots.layer(self)))
}
