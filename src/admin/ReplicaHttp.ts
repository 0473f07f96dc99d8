/**
 * The admin port of a read-only replica (`[admin] http_port` with `[replica] enabled`): it has no
 * membership, so only the probes and the metrics, from its follower:
 *
 * - `GET /healthz`: 200 while the process answers.
 * - `GET /readyz`: 200 once a pull has drained its source's logs (latched), else 503 with the reason;
 *   the body says which node it follows and how far behind it was.
 * - `GET /metrics`: Prometheus text of Effect's metric registry (`marmot_replica_*` among them).
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect, Metric, Option } from "effect"
import { Follower, type FollowStatus } from "../replica/Follower.ts"
import { serve } from "./AdminHttp.ts"
import * as Prometheus from "./Prometheus.ts"
import { WorkerMetrics } from "./WorkerMetrics.ts"

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

const statusJson = (s: FollowStatus) => ({
  source: s.source === undefined ? null : { id: s.source.nodeId, address: s.source.address },
  caught_up_at: s.caughtUpAtMs === undefined ? null : new Date(s.caughtUpAtMs).toISOString(),
  behind_transactions: s.behindTransactions,
  entries_pulled: s.entriesPulled,
  failovers: s.failovers,
  last_error: s.lastError ?? null
})

const makeRouter = Effect.gen(function*() {
  const follower = yield* Follower
  const workerMetrics = yield* Effect.serviceOption(WorkerMetrics)
  const readiness = Effect.map(follower.status, (s) => {
    const body = { replica: true, ...statusJson(s) }
    if (s.caughtUpAtMs !== undefined) return json({ ready: true, ...body })
    const reason = s.lastError ?? (s.source === undefined ? "looking for a cluster node to follow" : `catching up with node ${s.source.nodeId}`)
    return json({ ready: false, reason, ...body }, 503)
  })
  const metrics = Effect.map(
    Metric.snapshot,
    (snapshot) =>
      HttpServerResponse.text(
        Prometheus.render([
          ...Prometheus.fromSnapshot(snapshot),
          ...Option.match(workerMetrics, { onNone: () => [], onSome: (w) => w.families() })
        ]),
        { contentType: "text/plain; version=0.0.4; charset=utf-8" }
      )
  )
  return HttpRouter.empty.pipe(
    HttpRouter.get("/healthz", Effect.succeed(json({ status: "ok", replica: true }))),
    HttpRouter.get("/readyz", readiness),
    HttpRouter.get("/metrics", metrics)
  )
})

/** Serves the replica's admin port while the layer lives; needs its follower. */
export const layer = (options: { readonly port: number; readonly host: string }) => serve(options, makeRouter)
