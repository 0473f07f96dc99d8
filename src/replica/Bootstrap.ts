/**
 * How a replica gets a database it has no position for in its source's log (a database it has
 * never replicated, or every database after it switched to another source): the point of that
 * log to read on from. Today the whole log is replayed from its start (applied markers and LWW
 * make the entries it already has harmless). A snapshot restore (copy the source's file, then
 * read on from the seq it was taken at) plugs in here as another layer.
 */
import { Context, Data, Effect, Layer } from "effect"
import type { Peer } from "../network/PeerNetwork.ts"

export class BootstrapFailed extends Data.TaggedError("BootstrapFailed")<{
  readonly database: string
  readonly reason: string
}> {
  override get message() {
    return `cannot bootstrap database ${this.database}: ${this.reason}`
  }
}

export class Bootstrap extends Context.Tag("marmot/replica/Bootstrap")<Bootstrap, {
  /** Brings `database` to where `source`'s log can be replayed on it; the seq to read after. */
  readonly start: (source: Peer, database: string) => Effect.Effect<bigint, BootstrapFailed>
}>() {
  /** Replay the source's log from its first entry. */
  static readonly layerReplayLog: Layer.Layer<Bootstrap> = Layer.succeed(
    Bootstrap,
    Bootstrap.of({ start: () => Effect.succeed(0n) })
  )
}
