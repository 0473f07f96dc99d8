import { Effect, Metric, MetricBoundaries, MetricKey, MetricPair, MetricState } from "effect"
import { describe, expect, it } from "vitest"
import * as Prometheus from "../../src/admin/Prometheus.ts"

const snapshotOf = (prefix: string) =>
  Effect.runSync(Effect.map(Metric.snapshot, (pairs) => pairs.filter((p) => p.metricKey.name.startsWith(prefix))))

describe("Prometheus text rendering", () => {
  it("renders counters, gauges and histograms of Effect's registry with labels, _bucket/_sum/_count and +Inf", () => {
    const writes = Metric.counter("t1_writes_total", { description: "Writes", incremental: true })
    const lag = Metric.gauge("t1_lag_ms", { description: "Lag" })
    const latency = Metric.histogram("t1_latency_ms", MetricBoundaries.fromIterable([1, 5, 10]), "Latency")
    Effect.runSync(Effect.all([
      Metric.incrementBy(Metric.tagged(Metric.tagged(writes, "level", "QUORUM"), "outcome", "committed"), 3),
      Metric.increment(Metric.tagged(Metric.tagged(writes, "level", "ONE"), "outcome", "conflict")),
      Metric.set(Metric.tagged(lag, "peer", "2"), 12.5),
      Metric.update(latency, 0.5),
      Metric.update(latency, 4),
      Metric.update(latency, 7),
      Metric.update(latency, 100)
    ]))
    const text = Prometheus.render(Prometheus.fromSnapshot(snapshotOf("t1_")))
    const lines = text.trimEnd().split("\n")
    // one HELP/TYPE per family even with several label sets, families sorted by name
    expect(lines.filter((l) => l === "# TYPE t1_writes_total counter")).toHaveLength(1)
    expect(lines).toContain("# HELP t1_writes_total Writes")
    expect(lines).toContain("t1_writes_total{level=\"QUORUM\",outcome=\"committed\"} 3")
    expect(lines).toContain("t1_writes_total{level=\"ONE\",outcome=\"conflict\"} 1")
    expect(lines).toContain("# TYPE t1_lag_ms gauge")
    expect(lines).toContain("t1_lag_ms{peer=\"2\"} 12.5")
    const histogram = lines.filter((l) => l.startsWith("t1_latency_ms"))
    expect(histogram).toEqual([
      "t1_latency_ms_bucket{le=\"1\"} 1",
      "t1_latency_ms_bucket{le=\"5\"} 2",
      "t1_latency_ms_bucket{le=\"10\"} 3",
      "t1_latency_ms_bucket{le=\"+Inf\"} 4",
      "t1_latency_ms_sum 111.5",
      "t1_latency_ms_count 4"
    ])
    expect(lines).toContain("# TYPE t1_latency_ms histogram")
    const order = ["# HELP t1_lag_ms", "# HELP t1_latency_ms", "# HELP t1_writes_total"].map((p) => lines.findIndex((l) => l.startsWith(p)))
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(text.endsWith("\n")).toBe(true)
  })

  it("a counter that is not incremental may go down, so it is a gauge; frequencies are counters by key", () => {
    const active = Metric.counter("t2_active")
    const kinds = Metric.frequency("t2_kinds", { description: "Kinds" })
    Effect.runSync(Effect.all([Metric.incrementBy(active, 5), Metric.incrementBy(active, -2), Metric.update(kinds, "b"), Metric.update(kinds, "a"), Metric.update(kinds, "b")]))
    const text = Prometheus.render(Prometheus.fromSnapshot(snapshotOf("t2_")))
    expect(text).toContain("# TYPE t2_active gauge\nt2_active 3\n")
    expect(text).toContain("# TYPE t2_kinds counter\nt2_kinds{key=\"a\"} 1\nt2_kinds{key=\"b\"} 2\n")
  })

  it("escapes label values and help text, cleans names, formats bigints and special numbers", () => {
    const text = Prometheus.render([
      Prometheus.gauge("bad-name.x", "line one\nback\\slash", [
        { labels: [["path", "a\"b\\c\nd"], ["0weird-label", "v"]], value: Number.NaN }
      ]),
      { name: "big_total", help: "", type: "counter", samples: [{ suffix: "", labels: [], value: 2n ** 70n }] },
      Prometheus.gauge("inf", "i", [{ value: Number.NEGATIVE_INFINITY }])
    ])
    expect(text).toBe([
      "# HELP bad_name_x line one\\nback\\\\slash",
      "# TYPE bad_name_x gauge",
      "bad_name_x{path=\"a\\\"b\\\\c\\nd\",_0weird_label=\"v\"} NaN",
      "# TYPE big_total counter",
      "big_total 1180591620717411303424",
      "# HELP inf i",
      "# TYPE inf gauge",
      "inf -Inf",
      ""
    ].join("\n"))
  })

  it("a histogram state without an infinite bound still gets +Inf equal to its count", () => {
    const key = MetricKey.histogram("t3_h", MetricBoundaries.fromIterable([1]))
    const state = MetricState.histogram({ buckets: [[1, 2], [2, 3]], count: 5, min: 0, max: 9, sum: 20 })
    const text = Prometheus.render(Prometheus.fromSnapshot([MetricPair.unsafeMake(key, state)]))
    expect(text).toBe([
      "# TYPE t3_h histogram",
      "t3_h_bucket{le=\"1\"} 2",
      "t3_h_bucket{le=\"2\"} 3",
      "t3_h_bucket{le=\"+Inf\"} 5",
      "t3_h_sum 20",
      "t3_h_count 5",
      ""
    ].join("\n"))
    expect(Prometheus.render([])).toBe("")
  })
})
