/**
 * The MySQL workers' metrics: one worker's counts (QueryMetrics) and the node's sum over every
 * worker process (WorkerMetricsTotals), as Prometheus text.
 */
import { describe, expect, it } from "vitest"
import * as Prometheus from "../../src/admin/Prometheus.ts"
import { WorkerMetricsTotals } from "../../src/admin/WorkerMetrics.ts"
import { QueryMetrics } from "../../src/mysql/server/QueryMetrics.ts"

/** A worker whose clock the test moves. */
const worker = () => {
  let now = 0
  const metrics = new QueryMetrics(() => now)
  /** A statement of `kind` taking `ms`. */
  const run = (kind: string, ms: number) => {
    const started = now
    now += ms
    metrics.statement(kind, started)
  }
  return { metrics, run }
}

const lines = (totals: WorkerMetricsTotals) => Prometheus.render(totals.families()).split("\n")

describe("worker metrics", () => {
  it("adds up every worker's statements, errors, connections and latency; an exited worker keeps its counts only", () => {
    const a = worker()
    const b = worker()
    a.metrics.opened()
    a.metrics.opened()
    b.metrics.opened()
    a.run("select", 0.05)
    a.run("select", 0.3)
    b.run("select", 3)
    b.run("insert", 20_000)
    a.metrics.error(1146)
    b.metrics.error(1146)
    b.metrics.error(1064)
    a.metrics.closed()
    const totals = new WorkerMetricsTotals()
    totals.update("101", a.metrics.snapshot())
    totals.update("102", b.metrics.snapshot())
    expect(totals.reporting()).toBe(2)
    const text = lines(totals)
    expect(text).toContain(`marmot_mysql_queries_total{kind="insert"} 1`)
    expect(text).toContain(`marmot_mysql_queries_total{kind="select"} 3`)
    expect(text).toContain(`marmot_mysql_errors_total{code="1064"} 1`)
    expect(text).toContain(`marmot_mysql_errors_total{code="1146"} 2`)
    expect(text).toContain("marmot_mysql_connections 2")
    expect(text).toContain("marmot_mysql_connections_total 3")
    // cumulative buckets: 0.05 ms ≤ 0.1; 0.3 ms ≤ 0.5; 3 ms ≤ 5; 20 s only in +Inf
    expect(text).toContain(`marmot_mysql_statement_latency_ms_bucket{le="0.1"} 1`)
    expect(text).toContain(`marmot_mysql_statement_latency_ms_bucket{le="0.25"} 1`)
    expect(text).toContain(`marmot_mysql_statement_latency_ms_bucket{le="0.5"} 2`)
    expect(text).toContain(`marmot_mysql_statement_latency_ms_bucket{le="5"} 3`)
    expect(text).toContain(`marmot_mysql_statement_latency_ms_bucket{le="10000"} 3`)
    expect(text).toContain(`marmot_mysql_statement_latency_ms_bucket{le="+Inf"} 4`)
    expect(text).toContain("marmot_mysql_statement_latency_ms_count 4")
    expect(text.find((l) => l.startsWith("marmot_mysql_statement_latency_ms_sum "))).toBe("marmot_mysql_statement_latency_ms_sum 20003.35")
    expect(text).toContain("# TYPE marmot_mysql_statement_latency_ms histogram")

    // worker 102 dies: its statements still count, its connection is no longer open, a late report is ignored
    totals.workerExited("102")
    b.run("select", 1)
    totals.update("102", b.metrics.snapshot())
    expect(totals.reporting()).toBe(1)
    const after = lines(totals)
    expect(after).toContain(`marmot_mysql_queries_total{kind="select"} 3`)
    expect(after).toContain("marmot_mysql_connections 1")
    expect(after).toContain("marmot_mysql_connections_total 3")
  })
})
