/**
 * Starts the node's cluster core on TCP (in the supervisor, or in the only process with
 * `--workers 1`) with its own storage connections, and exposes what the MySQL side needs: a way to
 * replicate a captured transaction. Only used when the node has a peer port (`[cluster] grpc_port`).
 */
import { Effect, Layer, Logger, ManagedRuntime } from "effect"
import * as Telemetry from "../telemetry/Telemetry.ts"
import { levels } from "./MainLayer.ts"
import { WorkerMetrics, type WorkerMetricsTotals } from "../admin/WorkerMetrics.ts"
import { Publisher } from "../cdc/Publisher.ts"
import { NodeConfig, type NodeSettings } from "../config/NodeConfig.ts"
import { type BusHub, type BusMessage, ProcessBus } from "../process/ProcessBus.ts"
import { type ReplicateReply, reviveRequest, runWrite } from "../replication/Replicator.ts"
import { WriteCoordinator, type WriteRequest } from "../replication/WriteCoordinator.ts"
import { Storage } from "../storage/Storage.ts"
import { adminLayer, coreLayer, coreOptions, fileStores, socketTransport } from "./CoreLayer.ts"

export interface RunningCore {
  /** What the node's ready line says about its core (`peer=host:port`). */
  readonly readyNote: string
  readonly replicate: (request: WriteRequest, trace?: Telemetry.TraceParent | undefined) => Promise<ReplicateReply>
  readonly dispose: () => Promise<void>
}

export const advertiseAddressOf = (settings: NodeSettings): string =>
  settings.cluster.grpcAdvertiseAddress !== ""
    ? settings.cluster.grpcAdvertiseAddress
    : `${settings.cluster.grpcBindAddress}:${settings.cluster.grpcPort}`

export const startCore = async (settings: NodeSettings, hub: BusHub, workers?: WorkerMetricsTotals): Promise<RunningCore> => {
  const peerAddress = advertiseAddressOf(settings)
  // The change publisher follows this node's commit logs (it starts nothing when [publisher] is off);
  // the admin API is served on the core's services (nothing when [admin] http_port is 0).
  const layer = Layer.merge(adminLayer(settings, peerAddress).pipe(Layer.provide(workerMetricsLayer(workers))), Publisher.layerInCluster).pipe(
    Layer.provideMerge(coreLayer(coreOptions(settings, peerAddress))),
    Layer.provide(socketTransport({
      host: settings.cluster.grpcBindAddress,
      port: settings.cluster.grpcPort,
      tls: settings.cluster.tls,
      secret: settings.cluster.clusterSecret
    })),
    Layer.provide(fileStores(settings.dataDir))
  )
  const runtime = await startOnStorage(settings, hub, layer)
  return {
    readyNote: `peer=${peerAddress}`,
    replicate: (request, trace) =>
      runtime.runPromise(Effect.flatMap(WriteCoordinator, (c) => runWrite(c, reviveRequest(request))).pipe(Telemetry.withRemoteParent(trace))),
    dispose: () => runtime.dispose()
  }
}

/** The MySQL workers' metrics for a core's admin port, when it has one. */
export const workerMetricsLayer = (workers: WorkerMetricsTotals | undefined) =>
  workers === undefined ? Layer.empty : Layer.succeed(WorkerMetrics, workers)

/**
 * Builds a node's core `layer` on the node's own storage (its changes reach the MySQL side through
 * `hub`), config, telemetry and logger, and waits until it has started.
 */
export const startOnStorage = async <A, E>(
  settings: NodeSettings,
  hub: BusHub,
  layer: Layer.Layer<A, E, Storage | NodeConfig | ProcessBus>
) => {
  const runtime = ManagedRuntime.make(layer.pipe(
    Layer.provideMerge(Storage.layer),
    Layer.provide(NodeConfig.layer(settings)),
    Layer.provide(ProcessBus.layerSupervisor(hub)),
    Layer.provide(Telemetry.layer(settings.telemetry, { nodeId: settings.nodeId, process: "core" })),
    Layer.provide(Telemetry.logger),
    Layer.provide(Logger.minimumLogLevel(levels[settings.logging.level]))
  ))
  await runtime.runPromise(Effect.void)
  return runtime
}

/** Two ends of an in-process bus: the core's storage and the MySQL side of a one-process node. */
export const localHub = (): { readonly core: BusHub; readonly mysql: BusHub } => {
  const toMysql: Array<(m: BusMessage) => void> = []
  const toCore: Array<(m: BusMessage) => void> = []
  return {
    core: { toWorkers: (m) => toMysql.forEach((h) => h(m)), fromWorkers: (h) => void toCore.push(h) },
    mysql: { toWorkers: (m) => toCore.forEach((h) => h(m)), fromWorkers: (h) => void toMysql.push(h) }
  }
}

/** A standalone node with `[publisher]` on: only the change publisher, following the commit logs. */
export const startPublisher = async (settings: NodeSettings): Promise<{ readonly dispose: () => Promise<void> }> => {
  const runtime = ManagedRuntime.make(Publisher.layer.pipe(
    Layer.provide(NodeConfig.layer(settings)),
    Layer.provide(Logger.logFmt),
    Layer.provide(Logger.minimumLogLevel(levels[settings.logging.level]))
  ))
  await runtime.runPromise(Effect.void)
  return { dispose: () => runtime.dispose() }
}
