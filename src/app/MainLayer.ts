import { Effect, Layer, Logger, LogLevel } from "effect"
import { NodeConfig, type NodeSettings } from "../config/NodeConfig.ts"
import { MysqlServer } from "../mysql/server/MysqlServer.ts"
import { ProcessBus } from "../process/ProcessBus.ts"
import { QueryEngine, WorkerReplicator } from "../query/QueryEngine.ts"
import type { Replicator } from "../replication/Replicator.ts"
import { Storage } from "../storage/Storage.ts"

export const levels = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
} as const

/** Tells the supervisor (or stdout) that this process serves MySQL. */
const announceReady = Layer.effectDiscard(
  Effect.gen(function*() {
    const server = yield* MysqlServer
    const bus = yield* ProcessBus
    bus.announceReady(server.address.host, server.address.port)
  })
)

/** The one composition root of a MySQL worker process: every subsystem layer, wired once. */
export const MainLayer = (settings: NodeSettings, bus: Layer.Layer<ProcessBus>, replicator?: Replicator) => {
  const base = Layer.merge(NodeConfig.layer(settings), bus)
  const infrastructure = replicator === undefined ? base : Layer.merge(base, Layer.succeed(WorkerReplicator, replicator))
  const server = MysqlServer.layer.pipe(
    Layer.provide(QueryEngine.layer),
    Layer.provide(Storage.layer),
    Layer.provideMerge(infrastructure)
  )
  return announceReady.pipe(
    Layer.provide(server),
    Layer.provide(Logger.logFmt),
    Layer.provide(Logger.minimumLogLevel(levels[settings.logging.level]))
  )
}

