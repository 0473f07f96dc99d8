/**
 * The pure parts of `npm run bench:matrix`: reading sysbench's report (a real `sysbench … run
 * --histogram=on` output, captured from MariaDB), the command line, the table, and the SVG charts
 * (well-formed XML with one bar per target and workload, at the right value).
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import type { LagReport } from "../../bench/lib/LagProbe.ts"
import { TARGET_INFO, type MatrixResults } from "../../bench/lib/MatrixModel.ts"
import { parseOptions } from "../../bench/lib/MatrixOptions.ts"
import { benchmarksMd, charts, latencyChart, summaryRows, tableRows, throughputChart } from "../../bench/lib/MatrixReport.ts"
import { compact, renderChart } from "../../bench/lib/Svg.ts"
import { readRun, type SysbenchRun } from "../../bench/lib/SysbenchRun.ts"
import { histogramPercentile, parseSysbench } from "../support/Sysbench.ts"

const output = readFileSync(new URL("./fixtures/sysbench-point-select-histogram.txt", import.meta.url), "utf8")

/** Well-formed XML: every tag closed in order, attributes quoted, no bare < or & in text; returns the root's name. */
function checkXml(xml: string): string {
  const stack: Array<string> = []
  let root = ""
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y
  let i = 0
  while (i < xml.length) {
    const lt = xml.indexOf("<", i)
    const text = xml.slice(i, lt < 0 ? xml.length : lt)
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`bare & in text: ${text.slice(0, 80)}`)
    if (lt < 0) break
    tag.lastIndex = lt
    const m = tag.exec(xml)
    if (!m) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 80)}`)
    const [, close, name, , selfClose] = m
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`)
    } else if (!selfClose) {
      if (stack.length === 0) {
        if (root !== "") throw new Error("more than one root element")
        root = name!
      }
      stack.push(name!)
    }
    i = tag.lastIndex
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(" ")}`)
  return root
}

/** The bars of a chart as [panel, bar, series, value]. */
const barsOf = (svg: string) =>
  [...svg.matchAll(/<rect [^>]*data-panel="([^"]*)" data-bar="([^"]*)" data-series="([^"]*)" data-value="([^"]*)"/g)].map(
    (m) => [m[1], m[2], m[3], Number(m[4])] as const
  )

describe("sysbench report", () => {
  it("reads throughput and latency from a real run", () => {
    const r = parseSysbench(output)
    expect(r).toBeDefined()
    expect(r!.transactions).toBe(90005)
    expect(r!.tps).toBeCloseTo(44868.34, 2)
    expect(r!.queries).toBe(90005)
    expect(r!.ignoredErrors).toBe(0)
    expect(r!.latencyMs.p95).toBe(0.08)
  })

  it("takes p50/p95/p99 from the histogram, p95 agreeing with sysbench's own line", () => {
    expect(histogramPercentile(output, 50)).toBe(0.034)
    expect(histogramPercentile(output, 95)).toBeCloseTo(parseSysbench(output)!.latencyMs.p95, 2)
    expect(histogramPercentile(output, 99)).toBe(0.127)
    expect(histogramPercentile("no histogram here", 50)).toBeUndefined()
  })

  it("counts a run only when it exited 0 with a report and no error lines", () => {
    const ok = readRun({ code: 0, signal: null, stdout: output, stderr: "", timedOut: false })
    expect(ok.ok).toBe(true)
    expect(ok.latencyMs).toEqual({ p50: 0.034, p95: 0.077, p99: 0.127 })
    const fatal = readRun({
      code: 1,
      signal: null,
      stdout: output + "\nFATAL: mysql_stmt_execute() returned error 1146 (Table 'sbtest.sbtest1' doesn't exist)\n",
      stderr: "",
      timedOut: false
    })
    expect(fatal.ok).toBe(false)
    expect(fatal.errors).toContain("returned error 1146")
    expect(readRun({ code: 0, signal: null, stdout: "sysbench 1.0.20\n", stderr: "", timedOut: false }).ok).toBe(false)
  })
})

describe("command line", () => {
  it("defaults to every workload and target", () => {
    const o = parseOptions([])
    expect(o.workloads).toEqual(["point_select", "read_only", "read_write", "update_index", "insert"])
    expect(o.targets).toEqual(["marmot", "mariadb", "marmot-one", "marmot-quorum", "marmot-all", "galera"])
    expect(o.time).toBe(10)
    expect(o.docs).toBe(true)
  })

  it("--only takes workloads and targets together, with or without oltp_", () => {
    const o = parseOptions(["--only", "oltp_insert,galera,point_select", "--time", "3", "--threads", "2", "--no-docs"])
    expect(o.workloads).toEqual(["point_select", "insert"])
    expect(o.targets).toEqual(["galera"])
    expect([o.time, o.threads, o.docs]).toEqual([3, 2, false])
  })

  it("names what is wrong", () => {
    expect(() => parseOptions(["--only", "tpcc"])).toThrow(/--only: 'tpcc' is neither a workload/)
    expect(() => parseOptions(["--time", "0"])).toThrow(/--time must be a positive integer, got '0'/)
    expect(() => parseOptions(["--bogus"])).toThrow()
  })
})

// ---------------------------------------------------------------------------------------------
// a small matrix: 2 workloads x 3 targets, one failed run

const run = (tps: number, p50: number, p95: number, p99: number): SysbenchRun => ({
  ok: true,
  exitCode: 0,
  report: {
    reads: 0, writes: 0, other: 0, queries: tps * 10, qps: tps, transactions: tps * 10, tps,
    ignoredErrors: 0, reconnects: 0, totalTimeS: 10, events: tps * 10, latencyMs: { min: 0, avg: p50, max: p99, p95 }
  },
  latencyMs: { p50, p95, p99 },
  errors: ""
})

const lag = (p50: number, p99: number): LagReport => ({
  how: "probe", samples: 100, insertErrors: 0, insertErrorKinds: {}, notVisible: 0, pollErrors: 0, pollsPerSample: 1,
  ackMs: { p50: 1, p99: 2, max: 3, min: 0.5 }, lagMs: { p50, p99, max: p99, min: p50 },
  pollMs: { p50: 0.2, p99: 0.4, max: 0.5, min: 0.1 }, acknowledged: 100
})

const results: MatrixResults = {
  startedAt: "2026-11-25T07:00:00.000Z",
  finishedAt: "2026-11-25T07:10:00.000Z",
  command: "npm run bench:matrix",
  config: {
    time: 10, threads: 6, tables: 4, tableSize: 10000, workloads: ["point_select", "insert"],
    targets: ["marmot", "mariadb", "marmot-quorum", "galera"], marmotWorkersSingle: 0, marmotWorkersPerClusterNode: 1
  },
  machine: { cpus: 2, cpuModel: "Test CPU <x86>", memoryGiB: 24, os: "Debian", node: "v20", sysbench: "1.0.20", mariadb: "10.11", galera: "26.4" },
  loadavg: { before: [1, 1, 1], after: [2, 2, 2], duringMean: 1.5, duringMax: 2 },
  probe: "probe",
  targets: [
    { target: "marmot" }, { target: "mariadb" },
    { target: "marmot-quorum", idleLag: lag(0.5, 1) },
    { target: "galera", idleLag: lag(0.4, 0.9) }
  ],
  cells: [
    { target: "marmot", workload: "point_select", run: run(30000, 0.2, 0.3, 0.5) },
    { target: "mariadb", workload: "point_select", run: run(20000, 0.25, 0.4, 0.9) },
    { target: "marmot-quorum", workload: "point_select", run: run(15000, 0.3, 0.6, 1.2), lag: lag(1, 4) },
    { target: "galera", workload: "point_select", run: run(12000, 0.3, 0.5, 1) , lag: lag(0.5, 2) },
    { target: "marmot", workload: "insert", run: run(5000, 1, 2, 4) },
    { target: "mariadb", workload: "insert", run: run(10000, 0.5, 1, 2) },
    { target: "marmot-quorum", workload: "insert", error: "server not running: node 2 exited" },
    { target: "galera", workload: "insert", run: run(4000, 1.5, 3, 8), lag: lag(1, 3) }
  ]
}

describe("table", () => {
  it("compares the single node with MariaDB and the cluster with Galera", () => {
    const rows = tableRows(results)
    const row = (w: string, label: string) => rows.find((r) => r[0] === w && r[1] === label)!
    expect(row("point_select", "marmot 1").slice(2, 10)).toEqual(["30000.0", "30000.0", "0.20", "0.30", "0.50", "0.0", "1.500", "0.56"])
    expect(row("point_select", "QUORUM")[8]).toBe("1.250")
    expect(row("point_select", "QUORUM").slice(10)).toEqual(["1.00", "4.00"])
    expect(row("insert", "marmot 1")[8]).toBe("0.500")
    expect(row("insert", "QUORUM")[2]).toBe("FAILED")
    expect(row("insert", "Galera 3")[8]).toBe("1")
  })

  it("sums each comparison up as a geometric mean over the workloads both ran", () => {
    const rows = summaryRows(results)
    // marmot 1 / MariaDB 1: sqrt(1.5 * 0.5); QUORUM / Galera 3: point_select only (its insert failed)
    expect(rows).toEqual([
      ["marmot 1 / MariaDB 1", Math.sqrt(1.5 * 0.5).toFixed(3), Math.sqrt((0.5 / 0.9) * 2).toFixed(2), "2 of 2"],
      ["QUORUM / Galera 3", "1.250", "1.20", "1 of 2"]
    ])
  })
})

describe("charts", () => {
  it("renders well-formed SVG with one bar per workload and target at its TPS", () => {
    const svg = renderChart(throughputChart(results))
    expect(checkXml(svg)).toBe("svg")
    const bars = barsOf(svg)
    expect(bars).toHaveLength(7)
    expect(bars).toContainEqual(["point_select", "marmot 1", "TPS", 30000])
    expect(bars).toContainEqual(["insert", "Galera 3", "TPS", 4000])
    expect(bars.find((b) => b[0] === "insert" && b[1] === "QUORUM")).toBeUndefined()
    expect(svg).toContain("n/a<title>QUORUM: server not running: node 2 exited</title>")
    // taller bar for the higher value within a panel
    const height = (panel: string, bar: string) =>
      Number(new RegExp(`height="([\\d.]+)"[^>]*data-panel="${panel}" data-bar="${bar}"`).exec(svg)![1])
    expect(height("point_select", "marmot 1")).toBeGreaterThan(height("point_select", "MariaDB 1"))
    expect(height("point_select", "marmot 1") / height("point_select", "MariaDB 1")).toBeCloseTo(1.5, 1)
  })

  it("draws latency as nested p99/p95/p50 segments, and lag per cluster target", () => {
    const svg = renderChart(latencyChart(results))
    expect(checkXml(svg)).toBe("svg")
    const marmot = barsOf(svg).filter((b) => b[0] === "point_select" && b[1] === "marmot 1")
    expect(marmot.map((b) => [b[2], b[3]])).toEqual([["p99", 0.5], ["p95", 0.3], ["p50", 0.2]])
    const all = charts(results)
    expect(Object.keys(all).sort()).toEqual(["lag.svg", "latency.svg", "throughput.svg"])
    const lagBars = barsOf(all["lag.svg"]!)
    expect(checkXml(all["lag.svg"]!)).toBe("svg")
    expect(new Set(lagBars.map((b) => b[1]))).toEqual(new Set(["QUORUM", "Galera 3"]))
    expect(lagBars).toContainEqual(["during point_select", "QUORUM", "p99", 4])
    expect(lagBars).toContainEqual(["idle", "Galera 3", "p50", 0.4])
  })

  it("escapes text and formats values compactly", () => {
    const svg = renderChart({
      title: "a < b & c", unit: "ms", scale: "linear", legend: [{ label: "x\"y", color: "#000" }],
      panels: [{ title: "p&q", bars: [{ label: "<t>", color: "#000", segments: [{ series: "s", value: 2 }] }] }]
    })
    expect(checkXml(svg)).toBe("svg")
    expect(svg).toContain("a &lt; b &amp; c")
    expect(() => checkXml("<svg><g></svg>")).toThrow()
    expect([compact(12345), compact(0.456), compact(2_500_000)]).toEqual(["12.3k", "0.456", "2.5M"])
  })

  it("BENCHMARKS.md embeds the charts and the table, and lists the failed run", () => {
    const md = benchmarksMd(results, "bench/results/matrix-x.json", ["throughput.svg", "latency.svg", "lag.svg"])
    expect(md).toContain("![throughput per workload and target](bench/throughput.svg)")
    expect(md).toContain("![visibility lag per level](bench/lag.svg)")
    expect(md).toContain("| point_select | marmot 1 | 30000.0 |")
    expect(md).toContain("- insert on QUORUM: server not running: node 2 exited")
    expect(md).toContain("npm run bench:matrix")
    expect(md).toContain(`load during the runs 1.50`)
    expect(TARGET_INFO["marmot-all"].baseline).toBe("galera")
  })
})
