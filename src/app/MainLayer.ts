import { Effect, Layer, Logger, LogLevel } from "effect"
import { NodeConfig, type NodeSettings } from "../config/NodeConfig.ts"
import { MysqlServer } from "../mysql/server/MysqlServer.ts"
import { ProcessBus } from "../process/ProcessBus.ts"
import { QueryEngine, WorkerReplicator } from "../query/QueryEngine.ts"
import { type Replicator, tracedReplicator } from "../replication/Replicator.ts"
import { Storage } from "../storage/Storage.ts"
import * as Telemetry from "../telemetry/Telemetry.ts"

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
  const replication = replicator === undefined
    ? Layer.empty
    : settings.telemetry.enabled
    ? Layer.effect(WorkerReplicator, tracedReplicator(replicator))
    : Layer.succeed(WorkerReplicator, replicator)
  const infrastructure = Layer.merge(base, replication)
  const server = MysqlServer.layer.pipe(
    Layer.provide(QueryEngine.layer),
    Layer.provide(Storage.layer),
    Layer.provideMerge(infrastructure)
  )
  return announceReady.pipe(
    Layer.provide(server),
    Layer.provide(Telemetry.layer(settings.telemetry, { nodeId: settings.nodeId, process: "worker" })),
    Layer.provide(Telemetry.logger),
    Layer.provide(Logger.minimumLogLevel(levels[settings.logging.level]))
  )
}

