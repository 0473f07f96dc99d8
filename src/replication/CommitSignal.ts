/**
 * Tells whoever follows this node's commit logs in this process (the CDC publisher) that the
 * ApplyQueue committed a batch, so it reads the log now instead of at its next poll. Listeners
 * run synchronously right after the SQLite COMMIT: they must be cheap and must not throw.
 */
import { Context, Effect, Layer, type Scope } from "effect"

export class CommitSignal extends Context.Tag("marmot/replication/CommitSignal")<CommitSignal, {
  /** Called by the ApplyQueue after a batch committed. */
  readonly committed: () => void
  /** Calls `listener` after every committed batch while the scope lasts. */
  readonly subscribe: (listener: () => void) => Effect.Effect<void, never, Scope.Scope>
}>() {
  static readonly make = Effect.sync(() => {
    const listeners = new Set<() => void>()
    return CommitSignal.of({
      committed: () => listeners.forEach((listener) => listener()),
      subscribe: (listener) =>
        Effect.acquireRelease(Effect.sync(() => void listeners.add(listener)), () => Effect.sync(() => void listeners.delete(listener)))
    })
  })

  static readonly layer = Layer.effect(CommitSignal, CommitSignal.make)
}
