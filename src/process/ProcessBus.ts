import { Context, Effect, Layer } from "effect"
import type { WorkerMetricsTotals } from "../admin/WorkerMetrics.ts"
import type { QueryMetricsSnapshot } from "../mysql/server/QueryMetrics.ts"
import type { ReplicateMessage } from "../replication/Replicator.ts"

/**
 * Messages between the processes of one node. A node runs as a supervisor process and one or
 * more MySQL worker processes sharing the same SQLite files; what one worker changes outside the
 * files themselves (a dropped database, a schema other workers cached) it announces here.
 */
export type BusMessage =
  | { readonly _tag: "DatabaseDropped"; readonly name: string }
  | { readonly _tag: "SchemaChanged"; readonly database: string }
  | { readonly _tag: "ExtensionLoaded"; readonly name: string; readonly path: string }
  /** `SET GLOBAL name = value` (value undefined: `= DEFAULT`) made in one worker holds in all of them. */
  | { readonly _tag: "GlobalSet"; readonly name: string; readonly value: string | bigint | number | null | undefined }

/** Two sides of a node that hear each other's broadcasts (the core's storage and the MySQL side). */
export interface BusHub {
  /** Delivers to the other side. */
  readonly toWorkers: (message: BusMessage) => void
  /** Handles what the other side delivers. */
  readonly fromWorkers: (handler: (message: BusMessage) => void) => void
}

/** Worker → supervisor only. */
export type SupervisorMessage =
  | { readonly _tag: "Broadcast"; readonly message: BusMessage }
  | { readonly _tag: "Ready"; readonly host: string; readonly port: number }
  | { readonly _tag: "WorkerMetrics"; readonly snapshot: QueryMetricsSnapshot }
  | ReplicateMessage

export interface ProcessBusService {
  readonly workerIndex: number
  readonly workerCount: number
  /** Delivers to every OTHER process of this node. */
  readonly broadcast: (message: BusMessage) => void
  readonly subscribe: (handler: (message: BusMessage) => void) => void
  readonly announceReady: (host: string, port: number) => void
  /** This worker's MySQL metrics, for the node's admin port (src/admin/WorkerMetrics.ts). */
  readonly reportMetrics: (snapshot: QueryMetricsSnapshot) => void
}

const busTags = new Set(["DatabaseDropped", "SchemaChanged", "ExtensionLoaded", "GlobalSet"])

export const isBusMessage = (u: unknown): u is BusMessage =>
  typeof u === "object" && u !== null && busTags.has(String((u as { _tag?: unknown })._tag))

/** The bus of a node that is one process: the ready line goes to stdout. */
const oneProcess = (options: {
  readonly hub?: BusHub
  readonly readyNote?: string
  readonly metrics?: WorkerMetricsTotals | undefined
}): ProcessBusService => ({
  workerIndex: 0,
  workerCount: 1,
  broadcast: options.hub?.toWorkers ?? (() => {}),
  subscribe: options.hub?.fromWorkers ?? (() => {}),
  announceReady: (host, port) => {
    process.stdout.write(`marmot-ts ready: mysql=${host}:${port} workers=1${options.readyNote === undefined ? "" : ` ${options.readyNote}`}\n`)
  },
  reportMetrics: (snapshot) => options.metrics?.update("0", snapshot)
})

export class ProcessBus extends Context.Tag("marmot/process/ProcessBus")<ProcessBus, ProcessBusService>() {
  /** A node that is one process: nothing to tell anyone; the ready line goes to stdout. */
  static readonly layerSingle = Layer.succeed(ProcessBus, oneProcess({}))

  /** A standalone one-process node with an admin port: its metrics go straight to `metrics`. */
  static readonly layerSingleReporting = (metrics: WorkerMetricsTotals) => Layer.succeed(ProcessBus, oneProcess({ metrics }))

  /** A one-process node with a core: the MySQL side and the core's storage hear each other. */
  static readonly layerSingleWithCore = (hub: BusHub, readyNote: string, metrics?: WorkerMetricsTotals) =>
    Layer.succeed(ProcessBus, oneProcess({ hub, readyNote, metrics }))

  /**
   * The supervisor's own storage (the cluster core applies replicated changes there): what it
   * changes goes to every worker; what a worker announces reaches it through `deliver`.
   */
  static readonly layerSupervisor = (hub: BusHub) =>
    Layer.succeed(ProcessBus, {
      workerIndex: -1,
      workerCount: 0,
      broadcast: hub.toWorkers,
      subscribe: hub.fromWorkers,
      announceReady: () => {},
      reportMetrics: () => {}
    })

  /** A worker forked by the supervisor: talks over the IPC channel. */
  static readonly layerWorker = (workerIndex: number, workerCount: number) =>
    Layer.scoped(
      ProcessBus,
      Effect.gen(function*() {
        const handlers: Array<(m: BusMessage) => void> = []
        const onMessage = (m: unknown) => {
          if (isBusMessage(m)) for (const h of handlers) h(m)
        }
        yield* Effect.acquireRelease(
          Effect.sync(() => process.on("message", onMessage)),
          () => Effect.sync(() => process.off("message", onMessage))
        )
        const send = (m: SupervisorMessage) => {
          if (process.connected) process.send?.(m)
        }
        return {
          workerIndex,
          workerCount,
          broadcast: (message) => send({ _tag: "Broadcast", message }),
          subscribe: (h) => {
            handlers.push(h)
          },
          announceReady: (host, port) => send({ _tag: "Ready", host, port }),
          reportMetrics: (snapshot) => send({ _tag: "WorkerMetrics", snapshot })
        } satisfies ProcessBusService
      })
    )
}
