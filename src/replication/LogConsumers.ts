/**
 * How far each puller has consumed this node's commit log, per database, learned from the PullLog
 * requests this node serves (a request's cursor is what the puller has applied): cluster members,
 * and read-only replicas, which pull the same way. GC deletes only what they consumed
 * (LogGc.ts). Saved to `data_dir/log-consumers.json` (every `flushInterval` when something
 * changed, and at shutdown), so a restarted node still knows what a member that cannot reach it
 * yet has pulled; a position saved a moment before a crash is only lower than the truth, which
 * keeps more log, never less.
 */
import { Context, Duration, Effect, Layer, Schedule, Schema } from "effect"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { type NodeId, nodeId } from "../../proto-schemas/src/NodeId.ts"
import type { LogCursor } from "../../proto-schemas/src/Replication.ts"
import { NodeConfig } from "../config/NodeConfig.ts"
import { writeAtomically } from "../storage/AtomicFile.ts"

export const fileName = "log-consumers.json"
const flushInterval = Duration.seconds(1)

export interface Consumer {
  readonly nodeId: NodeId
  /** When its last pull arrived (this node's clock). */
  readonly lastPullMs: number
  /** database → the position it consumed. */
  readonly positions: ReadonlyMap<string, bigint>
}

const ConsumerFile = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  consumers: Schema.Array(Schema.Struct({
    nodeId: Schema.Number,
    lastPullMs: Schema.Number,
    positions: Schema.Record({ key: Schema.String, value: Schema.BigInt })
  }))
}))

export class LogConsumers extends Context.Tag("marmot/replication/LogConsumers")<LogConsumers, {
  /** A pull from `peer` with these cursors (databases it has no cursor for count as 0). */
  readonly record: (peer: NodeId, cursors: ReadonlyArray<LogCursor>) => Effect.Effect<void>
  /** Every puller known, members and replicas. */
  readonly all: Effect.Effect<ReadonlyArray<Consumer>>
}>() {
  static readonly make = Effect.gen(function*() {
    const config = yield* NodeConfig
    const path = join(config.dataDir, fileName)
    const consumers = new Map<NodeId, Consumer>()
    const saved = yield* Effect.tryPromise(() => readFile(path, "utf8")).pipe(
      Effect.flatMap(Schema.decodeUnknown(ConsumerFile)),
      Effect.map((file) => file.consumers),
      Effect.orElseSucceed(() => []) // none saved yet, or a file this version cannot read: nobody consumed anything
    )
    for (const c of saved) {
      consumers.set(nodeId(c.nodeId), { nodeId: nodeId(c.nodeId), lastPullMs: c.lastPullMs, positions: new Map(Object.entries(c.positions)) })
    }
    let dirty = false

    const flush = Effect.suspend(() => {
      if (!dirty) return Effect.void
      dirty = false
      return Schema.encode(ConsumerFile)({
        version: 1,
        consumers: [...consumers.values()].map((c) => ({ ...c, positions: Object.fromEntries(c.positions) }))
      }).pipe(
        Effect.flatMap((text) => Effect.tryPromise(() => writeAtomically(config.dataDir, path, text))),
        Effect.catchAll((e) => Effect.logWarning(`cannot save log consumers to ${path}: ${String(e)}`))
      )
    })
    yield* Effect.forkScoped(Effect.repeat(flush, Schedule.spaced(flushInterval)))
    yield* Effect.addFinalizer(() => flush)

    return LogConsumers.of({
      record: (peer, cursors) =>
        Effect.map(Effect.clockWith((c) => c.currentTimeMillis), (lastPullMs) => {
          consumers.set(peer, { nodeId: peer, lastPullMs, positions: new Map(cursors.map((c) => [c.database, c.afterSeq])) })
          dirty = true
        }),
      all: Effect.sync(() => [...consumers.values()])
    })
  })

  static readonly layer = Layer.scoped(LogConsumers, LogConsumers.make)
}
