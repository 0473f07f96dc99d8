/**
 * What the matrix shows a person: the table (text and Markdown), the charts, and docs/BENCHMARKS.md.
 * Pure: everything comes from a MatrixResults.
 */
import { renderChart, type Bar, type Chart } from "./Svg.ts"
import {
  cellOf, TARGET_INFO, tpsOf, type Cell, type MatrixResults, type TargetId, type Workload
} from "./MatrixModel.ts"
import { fmt, formatTable, ratio } from "./TextTable.ts"

const HEADER = ["workload", "target", "TPS", "QPS", "p50 ms", "p95 ms", "p99 ms", "err/s", "TPS ratio", "p99 ratio", "lag p50 ms", "lag p99 ms"]

/** One row per cell: throughput, latency, ignored errors per second, ratios to the baseline, lag. */
export function tableRows(r: MatrixResults): Array<Array<string>> {
  const rows: Array<Array<string>> = []
  for (const w of r.config.workloads) {
    for (const t of r.config.targets) {
      const c = cellOf(r, t, w)
      if (c === undefined) continue
      const base = cellOf(r, TARGET_INFO[t].baseline, w)
      const run = c.run
      const isBase = TARGET_INFO[t].baseline === t
      const failed = run === undefined || !run.ok
      rows.push([
        w,
        TARGET_INFO[t].label,
        failed ? "FAILED" : fmt(run.report?.tps, 1),
        failed ? "-" : fmt(run.report?.qps, 1),
        fmt(run?.latencyMs?.p50, 2),
        fmt(run?.latencyMs?.p95, 2),
        fmt(run?.latencyMs?.p99, 2),
        fmt(run?.report === undefined ? undefined : run.report.ignoredErrors / Math.max(run.report.totalTimeS, 1e-9), 1),
        isBase ? "1" : fmt(ratio(tpsOf(c), tpsOf(base)), 3),
        isBase ? "1" : fmt(ratio(run?.latencyMs?.p99, base?.run?.latencyMs?.p99), 2),
        fmt(c.lag?.lagMs.p50, 2),
        fmt(c.lag?.lagMs.p99, 2)
      ])
    }
  }
  return rows
}

export const textTable = (r: MatrixResults) => formatTable([HEADER, ...tableRows(r)], 2)

export function markdownTable(header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`
  return [line(header), line(header.map((_, i) => (i < 2 ? "---" : "---:"))), ...rows.map(line)].join("\n")
}

/** Idle and under-load lag per cluster target. */
export function lagRows(r: MatrixResults): Array<Array<string>> {
  const rows: Array<Array<string>> = []
  for (const t of r.config.targets) {
    if (TARGET_INFO[t].nodes !== 3) continue
    const tr = r.targets.find((x) => x.target === t)
    const idle = tr?.idleLag
    const loaded = r.config.workloads.map((w) => cellOf(r, t, w)?.lag).filter((l) => l !== undefined)
    const worstP99 = loaded.length > 0 ? Math.max(...loaded.map((l) => l.lagMs.p99)) : undefined
    const notVisible = loaded.reduce((s, l) => s + l.notVisible, idle?.notVisible ?? 0)
    rows.push([
      TARGET_INFO[t].label,
      idle ? `${fmt(idle.lagMs.p50, 2)} / ${fmt(idle.lagMs.p99, 2)}` : "-",
      idle ? fmt(idle.ackMs.p50, 2) : "-",
      ...r.config.workloads.map((w) => {
        const l = cellOf(r, t, w)?.lag
        return l ? `${fmt(l.lagMs.p50, 2)} / ${fmt(l.lagMs.p99, 2)}` : "-"
      }),
      fmt(worstP99, 2),
      String(notVisible)
    ])
  }
  return rows
}

export const lagHeader = (r: MatrixResults) => [
  "target", "idle p50 / p99", "idle ack p50", ...r.config.workloads.map((w) => `${w} p50 / p99`), "worst p99", "not visible in 10 s"
]

/**
 * Per compared target: the geometric mean over the workloads both ran cleanly of its TPS ratio and
 * p99 ratio to the baseline.
 */
export function summaryRows(r: MatrixResults): Array<Array<string>> {
  const geo = (xs: ReadonlyArray<number>) => (xs.length === 0 ? undefined : Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length))
  return r.config.targets
    .filter((t) => TARGET_INFO[t].baseline !== t && r.config.targets.includes(TARGET_INFO[t].baseline))
    .map((t) => {
      const pairs = r.config.workloads
        .map((w) => [cellOf(r, t, w), cellOf(r, TARGET_INFO[t].baseline, w)] as const)
        .filter(([c, b]) => tpsOf(c) !== undefined && tpsOf(b) !== undefined)
      const tps = pairs.map(([c, b]) => ratio(tpsOf(c), tpsOf(b))!).filter((x) => x > 0)
      const p99 = pairs.map(([c, b]) => ratio(c!.run!.latencyMs?.p99, b!.run!.latencyMs?.p99)).filter((x) => x !== undefined && x > 0) as Array<number>
      return [
        `${TARGET_INFO[t].label} / ${TARGET_INFO[TARGET_INFO[t].baseline].label}`,
        fmt(geo(tps), 3),
        fmt(geo(p99), 2),
        `${pairs.length} of ${r.config.workloads.length}`
      ]
    })
}

export const SUMMARY_HEADER = ["compared", "TPS ratio (geo. mean)", "p99 ratio (geo. mean)", "workloads"]

/** Per target: how long it took to start and prepare, and whether its nodes ended with the same rows. */
export const targetRows = (r: MatrixResults): Array<Array<string>> =>
  r.targets.map((t) => [
    TARGET_INFO[t.target].label,
    t.engine ?? "-",
    fmt(t.startupS, 1),
    fmt(t.prepare?.seconds, 1),
    t.skipped ? `skipped: ${t.skipped}` : t.rows?.note ?? (TARGET_INFO[t.target].nodes === 1 ? "(one node)" : "-")
  ])

// ---------------------------------------------------------------------------------------------
// charts

const legend = (targets: ReadonlyArray<TargetId>) => targets.map((t) => ({ label: TARGET_INFO[t].label, color: TARGET_INFO[t].color }))

const missing = (c: Cell | undefined) =>
  c === undefined ? "not run" : c.error ?? (c.run?.ok === false ? `sysbench failed: ${c.run.errors.slice(0, 200)}` : "no result")

function bars(r: MatrixResults, w: Workload, targets: ReadonlyArray<TargetId>, pick: (c: Cell) => Bar["segments"]): Array<Bar> {
  return targets.map((t) => {
    const c = cellOf(r, t, w)
    const segments = c?.run?.ok ? pick(c) : []
    return { label: TARGET_INFO[t].label, color: TARGET_INFO[t].color, segments, ...(segments.length === 0 ? { missing: missing(c) } : {}) }
  })
}

const subtitle = (r: MatrixResults) =>
  `sysbench ${r.config.threads} threads, ${r.config.time} s per run, ${r.config.tables} x ${r.config.tableSize} rows; ${r.startedAt.slice(0, 16).replace("T", " ")} UTC`

export function throughputChart(r: MatrixResults): Chart {
  return {
    title: "Throughput per workload and target (higher is better)",
    subtitle: subtitle(r),
    unit: "transactions/s",
    scale: "linear",
    legend: legend(r.config.targets),
    panels: r.config.workloads.map((w) => ({
      title: w,
      bars: bars(r, w, r.config.targets, (c) => [{ series: "TPS", value: c.run!.report!.tps }])
    }))
  }
}

export function latencyChart(r: MatrixResults): Chart {
  return {
    title: "Transaction latency p50 / p95 / p99 (lower is better)",
    subtitle: subtitle(r),
    unit: "ms",
    scale: "log",
    series: ["p99", "p95", "p50"],
    legend: legend(r.config.targets),
    panels: r.config.workloads.map((w) => ({
      title: w,
      bars: bars(r, w, r.config.targets, (c) => [
        { series: "p99", value: c.run!.latencyMs!.p99 },
        { series: "p95", value: c.run!.latencyMs!.p95 },
        { series: "p50", value: c.run!.latencyMs!.p50 }
      ])
    }))
  }
}

/** Visibility lag per cluster target: idle, then during each workload. */
export function lagChart(r: MatrixResults): Chart | undefined {
  const targets = r.config.targets.filter((t) => TARGET_INFO[t].nodes === 3)
  if (targets.length === 0) return undefined
  const lagBar = (t: TargetId, l: Cell["lag"], why: string): Bar => {
    const segments = l && l.samples > 0 ? [{ series: "p99", value: l.lagMs.p99 }, { series: "p50", value: l.lagMs.p50 }] : []
    return { label: TARGET_INFO[t].label, color: TARGET_INFO[t].color, segments, ...(segments.length === 0 ? { missing: why } : {}) }
  }
  return {
    title: "Replication visibility lag: ack on node 1 -> row visible on node 3 (lower is better)",
    subtitle: subtitle(r),
    unit: "ms",
    scale: "log",
    series: ["p99", "p50"],
    legend: legend(targets),
    panels: [
      { title: "idle", bars: targets.map((t) => lagBar(t, r.targets.find((x) => x.target === t)?.idleLag, "no idle probe")) },
      ...r.config.workloads.map((w) => ({
        title: `during ${w}`,
        bars: targets.map((t) => lagBar(t, cellOf(r, t, w)?.lag, missing(cellOf(r, t, w))))
      }))
    ]
  }
}

/** File name (under docs/bench/) -> SVG text. */
export function charts(r: MatrixResults): Record<string, string> {
  const lag = lagChart(r)
  return {
    "throughput.svg": renderChart(throughputChart(r)),
    "latency.svg": renderChart(latencyChart(r)),
    ...(lag ? { "lag.svg": renderChart(lag) } : {})
  }
}

// ---------------------------------------------------------------------------------------------
// docs/BENCHMARKS.md

export function benchmarksMd(r: MatrixResults, resultsFile: string, chartFiles: ReadonlyArray<string>): string {
  const m = r.machine
  const problems = [
    ...r.targets.filter((t) => t.skipped).map((t) => `- ${TARGET_INFO[t.target].label}: skipped (${t.skipped})`),
    ...r.targets.filter((t) => t.error).map((t) => `- ${TARGET_INFO[t.target].label}: ${t.error!.split("\n")[0]!.slice(0, 300)}`),
    ...r.cells.filter((c) => !c.run?.ok).map((c) => `- ${c.workload} on ${TARGET_INFO[c.target].label}: ${missing(c).split("\n")[0]!.slice(0, 300)}`),
    ...r.targets.filter((t) => t.rows && !t.rows.note.startsWith("all nodes equal")).map((t) => `- rows on ${TARGET_INFO[t.target].label}: ${t.rows!.note}`)
  ]
  return `# Benchmarks

Generated by \`npm run bench:matrix\` (bench/matrix.ts) on ${r.startedAt.slice(0, 19).replace("T", " ")} UTC (the run took
${fmt((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 60_000, 1)} min); raw results in
[${resultsFile}](../${resultsFile}). Re-running the command rewrites this page and the charts.

Command:

\`\`\`
${r.command}
\`\`\`

## Summary

${markdownTable(SUMMARY_HEADER, summaryRows(r))}

Ratios above 1 in the TPS column mean marmot-ts did more transactions per second than the engine it is compared
with; in the p99 column, above 1 means a longer tail. Per workload figures are in the table and charts below.

## What was measured

sysbench 1.0 OLTP workloads (${r.config.workloads.map((w) => `oltp_${w}`).join(", ")}), ${r.config.threads} client threads,
${r.config.time} s per run, ${r.config.tables} tables x ${r.config.tableSize} rows, prepared once per target through node 1
(\`--auto-inc=off\`: ids 1..table-size, so the read workloads find their rows on every engine; oltp_insert then inserts
unique random ids), prepared statements on (\`--db-ps-mode=auto\`). Workloads run in the order above on the same tables.
Targets, each started fresh and stopped by pid afterwards, all on loopback on this one machine:

| target | what |
| --- | --- |
| marmot 1 | one marmot-ts node (${r.config.marmotWorkersSingle === 0 ? "one MySQL worker process per CPU" : `${r.config.marmotWorkersSingle} MySQL worker process(es)`}) |
| MariaDB 1 | one MariaDB ${m.mariadb} (Debian's, defaults, fresh datadir) |
| ONE / QUORUM / ALL | three marmot-ts nodes (${r.config.marmotWorkersPerClusterNode} MySQL worker each), \`[replication] default_write_consistency\` = the level |
| Galera 3 | three MariaDB nodes with Galera ${m.galera} (/work/shared/tools/galera/galera-up.sh: InnoDB, \`innodb_flush_log_at_trx_commit=2\`) |

On the 3-node targets sysbench spreads its connections round-robin over the three MySQL ports. While each 3-node run
goes on, a probe measures visibility lag: ${r.probe}.

## Machine

${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB memory, ${m.os}, node ${m.node}, sysbench ${m.sysbench}.
All servers, all their nodes and sysbench share these ${m.cpus} CPUs. **The machine was shared with other work during the run:**
load average before ${r.loadavg.before.join(" ")}, 1-minute load during the runs ${fmt(r.loadavg.duringMean, 2)} on average
(max ${fmt(r.loadavg.duringMax, 2)}), after ${r.loadavg.after.join(" ")}. With ${m.cpus} CPUs, a load above ${m.cpus} means
the servers waited for CPU: absolute numbers are low and noisy; the ratios within one run are the figure to read.

## How to read it

- **TPS** = sysbench transactions per second. point_select: one SELECT by id; read_only: BEGIN, 10 SELECTs by id and
  4 range SELECTs, COMMIT; read_write: the same plus 2 UPDATEs, a DELETE and an INSERT; update_index and insert: one
  autocommit UPDATE of an indexed column / INSERT. **QPS** = statements/s (BEGIN and COMMIT count).
- **p50 / p95 / p99** = transaction latency percentiles from sysbench's histogram (\`--histogram=on\`), in ms.
- **err/s** = errors sysbench ignored and retried per second (deadlocks / write conflicts, 1213 and the like).
- **TPS ratio** = this target's TPS / its baseline's TPS: marmot 1 against MariaDB 1, the three marmot levels against
  Galera 3. Above 1 = faster. **p99 ratio** likewise for p99 latency (below 1 = lower tail latency).
- **lag** = time from the INSERT's acknowledgement on node 1 until node 3 returns the row (resolution: one poll round trip).
- FAILED / n/a = the run did not complete cleanly; the reason is listed under "Problems" and in the JSON.

## Throughput

![throughput per workload and target](bench/throughput.svg)

## Latency

![latency p50/p95/p99 per workload and target](bench/latency.svg)
${chartFiles.includes("lag.svg") ? `
## Replication visibility lag

![visibility lag per level](bench/lag.svg)

${markdownTable(lagHeader(r), lagRows(r))}
` : ""}
## Table

${markdownTable(HEADER, tableRows(r))}

## Targets

${markdownTable(["target", "engine", "start s", "prepare s", "rows after the run"], targetRows(r))}

## Problems

${problems.length === 0 ? "None: every run completed, and every 3-node target ended with the same rows on all nodes." : problems.join("\n")}
`
}
