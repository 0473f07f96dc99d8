/**
 * The MySQL workers' metrics as the node's admin port shows them: the latest snapshot each worker
 * process reported (src/mysql/server/QueryMetrics.ts), added up. A worker that exited keeps its
 * counts (so the node's counters never go down when one restarts) but no longer its open
 * connections. Lives in the process that serves the admin port (the supervisor, or the only one).
 */
import { Context } from "effect"
import { latencyBoundsMs, type QueryMetricsSnapshot } from "../mysql/server/QueryMetrics.ts"
import * as Prometheus from "./Prometheus.ts"

const addInto = (into: Map<string, number>, from: Readonly<Record<string, number>>) => {
  for (const [key, n] of Object.entries(from)) into.set(key, (into.get(key) ?? 0) + n)
}

const counter = (name: string, help: string, label: string, values: Map<string, number>): Prometheus.Family => ({
  name,
  help,
  type: "counter",
  samples: [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ suffix: "", labels: [[label, key]], value }))
})

export class WorkerMetricsTotals {
  private readonly latest = new Map<string, QueryMetricsSnapshot>()
  private readonly exited = new Set<string>()

  /** `worker`'s latest snapshot (a process id, or "0" in a one-process node). */
  update(worker: string, snapshot: QueryMetricsSnapshot): void {
    if (!this.exited.has(worker)) this.latest.set(worker, snapshot)
  }

  workerExited(worker: string): void {
    this.exited.add(worker)
  }

  /** Workers that reported and have not exited (each reports once it listens). */
  reporting(): number {
    let n = 0
    for (const worker of this.latest.keys()) if (!this.exited.has(worker)) n++
    return n
  }

  families(): Array<Prometheus.Family> {
    const queries = new Map<string, number>()
    const errors = new Map<string, number>()
    const buckets = new Array<number>(latencyBoundsMs.length + 1).fill(0)
    let sum = 0
    let open = 0
    let total = 0
    for (const [worker, s] of this.latest) {
      addInto(queries, s.queries)
      addInto(errors, s.errors)
      s.latencyBuckets.forEach((n, i) => buckets[i]! += n)
      sum += s.latencySumMs
      total += s.connectionsTotal
      if (!this.exited.has(worker)) open += s.connectionsOpen
    }
    let cumulative = 0
    const bucketSamples = buckets.map((n, i): Prometheus.Sample => {
      cumulative += n
      const le = i < latencyBoundsMs.length ? Prometheus.formatValue(latencyBoundsMs[i]!) : "+Inf"
      return { suffix: "_bucket", labels: [["le", le]], value: cumulative }
    })
    return [
      counter("marmot_mysql_queries_total", "Statements the MySQL workers executed, by statement kind", "kind", queries),
      counter("marmot_mysql_errors_total", "Errors the MySQL workers answered, by MySQL error code", "code", errors),
      Prometheus.gauge("marmot_mysql_connections", "Open MySQL connections", [{ value: open }]),
      {
        name: "marmot_mysql_connections_total",
        help: "MySQL connections accepted",
        type: "counter",
        samples: [{ suffix: "", labels: [], value: total }]
      },
      {
        name: "marmot_mysql_statement_latency_ms",
        help: "Time from a statement's arrival to its answer in the MySQL workers, ms",
        type: "histogram",
        samples: [...bucketSamples, { suffix: "_sum", labels: [], value: sum }, { suffix: "_count", labels: [], value: cumulative }]
      }
    ]
  }
}

/** The node's worker metrics, for the admin port (absent where no MySQL side reports, e.g. simulations). */
export class WorkerMetrics extends Context.Tag("marmot/admin/WorkerMetrics")<WorkerMetrics, WorkerMetricsTotals>() {}
