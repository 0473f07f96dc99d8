/**
 * How far each peer has pulled this node's commit log, per database, learned from the PullLog
 * requests this node serves (a request's cursor is what the peer has applied). GC deletes only
 * what every member consumed. Kept in memory: after a restart a member counts as having consumed
 * nothing until its next pull (members pull every anti-entropy interval), which is conservative.
 */
import { Context, Effect, Layer } from "effect"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import type { LogCursor } from "../../proto-schemas/src/Replication.ts"

export class LogConsumers extends Context.Tag("marmot/replication/LogConsumers")<LogConsumers, {
  /** A pull from `peer` with these cursors (databases it has no cursor for count as 0). */
  readonly record: (peer: NodeId, cursors: ReadonlyArray<LogCursor>) => Effect.Effect<void>
  /** The position `peer` consumed in `database`'s log; 0 when unknown. */
  readonly consumed: (peer: NodeId, database: string) => Effect.Effect<bigint>
}>() {
  static readonly make = Effect.sync(() => {
    const positions = new Map<NodeId, ReadonlyMap<string, bigint>>()
    return LogConsumers.of({
      record: (peer, cursors) => Effect.sync(() => void positions.set(peer, new Map(cursors.map((c) => [c.database, c.afterSeq])))),
      consumed: (peer, database) => Effect.sync(() => positions.get(peer)?.get(database) ?? 0n)
    })
  })

  static readonly layer = Layer.effect(LogConsumers, LogConsumers.make)
}
