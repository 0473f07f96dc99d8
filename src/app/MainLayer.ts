import { Effect, Layer, Logger, LogLevel } from "effect"
import { NodeConfig, type Overrides } from "../config/NodeConfig.ts"
import { MysqlServer } from "../mysql/server/MysqlServer.ts"
import { QueryEngine } from "../query/QueryEngine.ts"
import { Storage } from "../storage/Storage.ts"

const levels = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
} as const

/** Prints the line tools wait for once the node is serving. */
const announceReady = Layer.effectDiscard(
  Effect.gen(function*() {
    const server = yield* MysqlServer
    const config = yield* NodeConfig
    yield* Effect.sync(() =>
      process.stdout.write(`marmot-ts ready: node=${config.nodeId} mysql=${server.address.host}:${server.address.port}\n`)
    )
  })
)

/** The one composition root: every subsystem layer, wired once. */
export const MainLayer = (configPath: string | undefined, overrides: Overrides) => {
  const config = NodeConfig.layerLoad(configPath, overrides)
  const logLevel = Layer.unwrapEffect(
    Effect.map(NodeConfig, (c) => Logger.minimumLogLevel(levels[c.logging.level]))
  ).pipe(Layer.provide(config))
  const server = MysqlServer.layer.pipe(
    Layer.provide(QueryEngine.layer),
    Layer.provide(Storage.layer),
    Layer.provideMerge(config)
  )
  return announceReady.pipe(Layer.provide(server), Layer.provide(Logger.logFmt), Layer.provide(logLevel))
}
