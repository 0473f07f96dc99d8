/**
 * The admin port of a standalone node (`[admin] http_port`, no `[cluster] grpc_port`, not a
 * replica): no membership and nothing to catch up with, so only the probes and the metrics. Served
 * by the supervisor (or the only process), next to its MySQL workers:
 *
 * - `GET /healthz`: 200 while the process answers.
 * - `GET /readyz`: 200 once every MySQL worker listens (each reports its metrics once it does),
 *   else 503 with how many do.
 * - `GET /metrics`: Prometheus text: Effect's metric registry, the workers' MySQL metrics added up
 *   (WorkerMetrics.ts), process figures.
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect, Layer, Logger, ManagedRuntime, Metric } from "effect"
import { levels } from "../app/MainLayer.ts"
import type { NodeSettings } from "../config/NodeConfig.ts"
import { processFamilies, serve } from "./AdminHttp.ts"
import * as Prometheus from "./Prometheus.ts"
import type { WorkerMetricsTotals } from "./WorkerMetrics.ts"

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

const makeRouter = (workers: WorkerMetricsTotals, workerCount: number, nodeId: number) =>
  Effect.succeed(
    HttpRouter.empty.pipe(
      HttpRouter.get("/healthz", Effect.succeed(json({ status: "ok", node_id: nodeId, standalone: true }))),
      HttpRouter.get(
        "/readyz",
        Effect.sync(() => {
          const listening = workers.reporting()
          return listening >= workerCount
            ? json({ ready: true, workers: listening })
            : json({ ready: false, reason: `${listening} of ${workerCount} MySQL worker(s) listen`, workers: listening }, 503)
        })
      ),
      HttpRouter.get(
        "/metrics",
        Effect.map(Metric.snapshot, (snapshot) =>
          HttpServerResponse.text(
            Prometheus.render([...Prometheus.fromSnapshot(snapshot), ...workers.families(), ...processFamilies()]),
            { contentType: "text/plain; version=0.0.4; charset=utf-8" }
          ))
      )
    )
  )

/** Serves a standalone node's admin port until disposed. */
export const startStandaloneAdmin = async (
  settings: NodeSettings,
  workers: WorkerMetricsTotals,
  workerCount: number
): Promise<{ readonly dispose: () => Promise<void> }> => {
  const runtime = ManagedRuntime.make(
    serve({ port: settings.admin.httpPort, host: settings.admin.bindAddress }, makeRouter(workers, workerCount, settings.nodeId)).pipe(
      Layer.provide(Logger.logFmt),
      Layer.provide(Logger.minimumLogLevel(levels[settings.logging.level]))
    )
  )
  await runtime.runPromise(Effect.void)
  return { dispose: () => runtime.dispose() }
}
