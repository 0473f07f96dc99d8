import cluster from "node:cluster"
import { Context, Data, Duration, Effect, Layer, Runtime, Schedule } from "effect"
import { performance } from "node:perf_hooks"
import { randomBytes } from "node:crypto"
import { existsSync, rmSync } from "node:fs"
import { createServer, type AddressInfo, type Server, type Socket } from "node:net"
import { createSecureContext } from "node:tls"
import { NodeConfig } from "../../config/NodeConfig.ts"
import { Errors } from "../../query/Errors.ts"
import { ProcessBus } from "../../process/ProcessBus.ts"
import { QueryEngine } from "../../query/QueryEngine.ts"
import { type Authenticator, storedUser } from "./Authentication.ts"
import { Connection } from "./Connection.ts"
import { QueryMetrics } from "./QueryMetrics.ts"
import { readSpans } from "../../telemetry/ReadSpans.ts"

export class ListenError extends Data.TaggedError("ListenError")<{ readonly address: string; readonly message: string }> {}

export interface MysqlServerService {
  /** The TCP address actually bound (port 0 in config picks a free one). */
  readonly address: { readonly host: string; readonly port: number }
  readonly connectionCount: () => number
}

const listen = (server: Server, target: { port: number; host: string } | { path: string }, label: string) =>
  Effect.async<void, ListenError>((resume) => {
    const onError = (e: Error) => resume(Effect.fail(new ListenError({ address: label, message: e.message })))
    server.once("error", onError)
    server.listen(target, () => {
      server.off("error", onError)
      resume(Effect.void)
    })
  })

const closeServer = (server: Server) => Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
  })

const make = Effect.gen(function*() {
  const config = yield* NodeConfig
  const engine = yield* QueryEngine
  const runtime = yield* Effect.runtime<never>()
  const log = (level: "debug" | "warning", message: string) =>
    Runtime.runFork(runtime)(level === "debug" ? Effect.logDebug(message) : Effect.logWarning(message))
  const tls = config.mysql.tls
  const secureContext = tls === undefined ? undefined : yield* Effect.try({
    try: () => createSecureContext({ cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }) }),
    catch: (e) => new ListenError({ address: tls.certFile, message: `mysql.tls_cert_file / mysql.tls_key_file: ${String(e)}` })
  })
  const authenticator: Authenticator = {
    users: new Map(config.mysql.users.map((u) => [u.name, storedUser(u.password)])),
    randomBytes,
    tls: secureContext !== undefined,
    requireSecureTransport: config.mysql.requireSecureTransport,
    localInfile: config.mysql.maxLocalInfileBytes > 0,
    defaultPlugin: config.mysql.defaultAuthenticationPlugin,
    ...(config.mysql.cachingSha2PreloadCache ? {} : { sha2Cache: new Set<string>() })
  }
  const bus = yield* ProcessBus
  const connections = new Set<Connection>()
  // Each worker process enforces its share of the node's limit (node:cluster spreads connections evenly).
  const maxConnections = Math.max(1, Math.ceil(config.mysql.maxConnections / bus.workerCount))
  // Connection ids are unique across the node's workers: worker i hands out i+1, i+1+K, ...
  let nextId = bus.workerIndex + 1
  const metrics = new QueryMetrics(() => performance.now())
  const reads = config.telemetry.enabled ? yield* readSpans : undefined
  const onSocket = (socket: Socket, unixSocket: boolean) => {
    const id = nextId
    nextId += bus.workerCount
    const connection: Connection = new Connection(socket, id, {
      engine,
      authenticator,
      maxPacketBytes: config.mysql.maxAllowedPacket,
      secureContext,
      unixSocket,
      maxLocalInfileBytes: config.mysql.maxLocalInfileBytes,
      log,
      metrics,
      readSpans: reads,
      onClose: () => {
        if (connections.delete(connection)) metrics.closed()
      }
    })
    if (connections.size >= maxConnections) {
      connection.start(Errors.tooManyConnections())
      return
    }
    connections.add(connection)
    metrics.opened()
    connection.start()
  }

  const tcp = createServer({ noDelay: true }, (socket) => onSocket(socket, false))
  yield* Effect.acquireRelease(
    listen(tcp, { port: config.mysql.port, host: config.mysql.bindAddress }, `${config.mysql.bindAddress}:${config.mysql.port}`),
    () =>
      Effect.gen(function*() {
        for (const c of [...connections]) c.close()
        yield* closeServer(tcp)
      })
  )
  const bound = tcp.address() as AddressInfo
  const address = { host: bound.address, port: bound.port }
  yield* Effect.logInfo(`MySQL server listening on ${address.host}:${address.port}${tls === undefined ? "" : " (TLS offered)"}`)

  const socketPath = config.mysql.unixSocket
  if (socketPath !== undefined) {
    const unix = createServer((socket) => onSocket(socket, true))
    // Workers share the supervisor's socket (node:cluster): the supervisor owns the file, and a
    // worker that removed it would cut every other worker off.
    const ownsFile = !cluster.isWorker
    if (ownsFile && existsSync(socketPath)) rmSync(socketPath)
    yield* Effect.acquireRelease(listen(unix, { path: socketPath }, socketPath), () =>
      Effect.gen(function*() {
        yield* closeServer(unix)
        if (ownsFile && existsSync(socketPath)) rmSync(socketPath)
      }))
    yield* Effect.logInfo(`MySQL server listening on unix socket ${socketPath}`)
  }

  // The first report says this worker listens (a standalone node's /readyz waits for every worker's).
  yield* Effect.sync(() => bus.reportMetrics(metrics.snapshot())).pipe(
    Effect.repeat(Schedule.spaced(Duration.seconds(1))),
    Effect.forkScoped
  )

  return { address, connectionCount: () => connections.size } satisfies MysqlServerService
})

export class MysqlServer extends Context.Tag("marmot/mysql/MysqlServer")<MysqlServer, MysqlServerService>() {
  static readonly make = make
  static readonly layer = Layer.scoped(MysqlServer, make)
}
