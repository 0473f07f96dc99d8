/**
 * `npm run bench:matrix`: the benchmark matrix in one run, on loopback.
 *
 * sysbench oltp point_select, read_only, read_write, update_index and insert against one marmot-ts
 * node, a private MariaDB, 3-node marmot-ts clusters at ONE, QUORUM and ALL, and a 3-node MariaDB
 * Galera cluster. Each target is started fresh, its tables are prepared once through node 1, the
 * workloads run one after the other, and it is stopped by pid (also on failure and on Ctrl-C) before
 * the next starts. On the 3-node targets a lag probe (bench/lib/LagProbe.ts) runs idle first and then
 * alongside each workload, and the row counts of the three nodes are compared at the end.
 *
 * Prints one table (TPS/QPS, p50/p95/p99, ratios against MariaDB for the single node and against
 * Galera for the clusters, lag), writes bench/results/matrix-<ts>.json, docs/bench/*.svg and
 * docs/BENCHMARKS.md. Exits 1 if any run failed or a cluster's nodes ended with different rows.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { Connection } from "mysql2/promise"
import { repoRoot, startMariadb, startMarmot, type RunningServer } from "../test/support/Servers.ts"
import { checkRows, connect, createProbeTable, errText, execOn, loadavg, r3, Sampler, type Target } from "./lib/Endpoints.ts"
import { galeraInstalled, startGalera } from "./lib/Galera.ts"
import { describeLag, LagProbe, probeDuring, probeHow, type LagReport } from "./lib/LagProbe.ts"
import { startMarmotCluster, warningsOf } from "./lib/MarmotCluster.ts"
import { script, TARGET_INFO, type Cell, type Machine, type MatrixResults, type TargetId, type TargetRun } from "./lib/MatrixModel.ts"
import { parseOptions, USAGE, type Options } from "./lib/MatrixOptions.ts"
import { benchmarksMd, charts, lagHeader, lagRows, SUMMARY_HEADER, summaryRows, textTable } from "./lib/MatrixReport.ts"
import { atStop, log, runMain } from "./lib/Processes.ts"
import { writeResults } from "./lib/Results.ts"
import { describeRun, prepareTables, runSysbench } from "./lib/SysbenchRun.ts"
import { formatTable } from "./lib/TextTable.ts"

const GALERA_TOOLS = process.env["GALERA_TOOLS"] ?? "/work/shared/tools/galera"
const PROBE_GAP_MS = 20
/** MySQL worker processes: the single node gets one per CPU (its default), each cluster node one (3 nodes on this machine). */
const WORKERS_SINGLE = 0
const WORKERS_PER_CLUSTER_NODE = 1

// ---------------------------------------------------------------------------------------------
// starting a target

interface Started {
  readonly target: Target
  readonly engine: string
  readonly startupS: number
  /** marmot nodes, for their logs. */
  readonly nodes?: ReadonlyArray<RunningServer>
  readonly outputFrom?: ReadonlyArray<number>
  stop(): Promise<void>
}

const single = (name: string, engine: string, s: RunningServer): Target => ({
  name,
  engine,
  host: s.host,
  ports: [s.port],
  user: "root",
  password: "",
  alive: () => s.alive(),
  describeDeath: () => `exited ${JSON.stringify(s.exitStatus())}\n${s.output().slice(-3000)}`
})

async function startTarget(id: TargetId): Promise<Started | { skipped: string }> {
  const t0 = Date.now()
  const info = TARGET_INFO[id]
  if (id === "marmot" || id === "mariadb") {
    const s = id === "marmot"
      ? await startMarmot({ args: WORKERS_SINGLE === 0 ? [] : ["--workers", String(WORKERS_SINGLE)] })
      : await startMariadb()
    atStop(() => s.stop())
    const engine = id === "marmot" ? "marmot-ts" : `MariaDB ${versionOf("mariadbd")}`
    const target = single(info.label, engine, s)
    await execOn(target, 0, "CREATE DATABASE sbtest")
    log(`   ${engine} on ${s.host}:${s.port}, pid ${s.pid}`)
    return { target, engine, startupS: (Date.now() - t0) / 1000, stop: () => s.stop(), ...(id === "marmot" ? { nodes: [s], outputFrom: [0] } : {}) }
  }
  if (id === "galera") {
    const g = await startGalera(GALERA_TOOLS, 180_000)
    if ("skipped" in g) return g
    return { target: g.target, engine: g.target.engine, startupS: g.startupS, stop: g.stop }
  }
  const c = await startMarmotCluster(info.level!, WORKERS_PER_CLUSTER_NODE)
  log(`   cluster formed in ${c.startupS.toFixed(1)} s`)
  return {
    target: { ...c.target, name: info.label },
    engine: "marmot-ts",
    startupS: c.startupS,
    nodes: c.nodes,
    outputFrom: c.outputFrom,
    stop: async () => {
      await Promise.all(c.nodes.map((n) => n.stop()))
    }
  }
}

// ---------------------------------------------------------------------------------------------
// measuring a target

interface Probe {
  readonly writer: Connection
  readonly reader: Connection
  lastSeq: number
  acknowledged: number
  insertErrors: number
}

const count = (p: Probe, l: LagReport) => {
  p.acknowledged += l.acknowledged
  p.insertErrors += l.insertErrors
}

async function measure(id: TargetId, opts: Options): Promise<{ run: TargetRun; cells: Array<Cell> }> {
  const info = TARGET_INFO[id]
  const sb = { tables: opts.tables, tableSize: opts.tableSize, threads: opts.threads, time: opts.time, psMode: "auto" as const, autoInc: false }
  const notRun = (error: string) => opts.workloads.map((workload): Cell => ({ target: id, workload, error }))
  log(`-- ${info.label} (${id})`)
  let started: Started | { skipped: string }
  try {
    started = await startTarget(id)
  } catch (e) {
    log(`   FAILED to start: ${errText(e)}`)
    return { run: { target: id, error: `start: ${errText(e)}` }, cells: notRun("target did not start") }
  }
  if ("skipped" in started) {
    log(`   skipped: ${started.skipped}`)
    return { run: { target: id, skipped: started.skipped }, cells: notRun(`skipped: ${started.skipped}`) }
  }
  const s = started
  const t = s.target
  const base = { target: id, engine: s.engine, startupS: r3(s.startupS) }
  let probe: Probe | undefined
  try {
    const prepare = await prepareTables(t, script("read_write"), sb)
    if (!prepare.ok) return { run: { ...base, prepare, error: `prepare: ${prepare.error}` }, cells: notRun("prepare failed") }
    let idleLag: LagReport | undefined
    if (info.nodes === 3) {
      await createProbeTable(t, id === "galera" ? " ENGINE=InnoDB" : "")
      probe = { writer: await connect(t, 0, "sbtest"), reader: await connect(t, 2, "sbtest"), lastSeq: 0, acknowledged: 0, insertErrors: 0 }
      const idle = new LagProbe(probe.writer, probe.reader, 0, PROBE_GAP_MS)
      idleLag = await idle.run(opts.idleSamples)
      probe.lastSeq = idle.lastSeq
      count(probe, idleLag)
      log(`   lag idle: ${describeLag(idleLag)}`)
    }
    const cells: Array<Cell> = []
    for (const w of opts.workloads) {
      if (!t.alive()) {
        cells.push({ target: id, workload: w, error: `server not running: ${t.describeDeath().slice(0, 2000)}` })
        continue
      }
      log(`   ${w}: ${opts.time} s, ${opts.threads} threads (load average ${loadavg().join(" ")})`)
      const sampler = new Sampler(t.ports)
      sampler.start()
      const load = runSysbench(t, script(w), sb)
      let cell: Cell
      if (probe) {
        const lagProbe = new LagProbe(probe.writer, probe.reader, probe.lastSeq, PROBE_GAP_MS)
        const [run, lag] = await probeDuring(lagProbe, load, opts.time)
        probe.lastSeq = lagProbe.lastSeq
        count(probe, lag)
        cell = { target: id, workload: w, run, lag }
      } else {
        cell = { target: id, workload: w, run: await load }
      }
      sampler.stop()
      cells.push({ ...cell, load1m: sampler.load1m(), connectionsPerPort: sampler.maxConns })
      log(`      ${describeRun(cell.run!)}`)
      if (cell.lag) log(`      lag: ${describeLag(cell.lag)}`)
    }
    const inserted = cells.find((c) => c.workload === "insert")
    const rows = probe === undefined ? undefined : await checkRows(
      t,
      opts.tables,
      inserted === undefined ? opts.tables * opts.tableSize : inserted.run?.ok ? opts.tables * opts.tableSize + inserted.run.report!.transactions : undefined,
      probe.acknowledged,
      probe.insertErrors
    )
    if (rows) log(`   rows: ${rows.note}`)
    const nodeWarnings = s.nodes?.map((n, i) => warningsOf(n.output().slice(s.outputFrom?.[i] ?? 0), i + 1))
      .map(({ node, count, samples }) => ({ node, count, samples }))
    const dead = t.alive() ? undefined : t.describeDeath()
    if (dead) log(`   A SERVER DIED: ${dead}`)
    return {
      run: { ...base, prepare, ...(idleLag ? { idleLag } : {}), ...(rows ? { rows } : {}), ...(nodeWarnings ? { nodeWarnings } : {}), ...(dead ? { error: dead } : {}) },
      cells
    }
  } catch (e) {
    log(`   FAILED: ${errText(e)}`)
    return { run: { ...base, error: errText(e) }, cells: notRun(errText(e)) }
  } finally {
    probe?.writer.destroy()
    probe?.reader.destroy()
    await s.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// the machine

function versionOf(cmd: string): string {
  const r = spawnSync(cmd, ["--version"], { encoding: "utf8" })
  const text = `${r.stdout ?? ""}${r.stderr ?? ""}`
  return /(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? "unknown"
}

function machine(): Machine {
  let osName = `${os.type()} ${os.release()}`
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1]
    if (pretty) osName = `${pretty}, kernel ${os.release()}`
  } catch {
    // no os-release
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName,
    node: process.version,
    sysbench: versionOf("sysbench"),
    mariadb: versionOf("mariadbd"),
    galera: galeraInstalled() ?? "not installed"
  }
}

// ---------------------------------------------------------------------------------------------

function writeDocs(results: MatrixResults, resultsFile: string) {
  const dir = path.join(repoRoot, "docs", "bench")
  mkdirSync(dir, { recursive: true })
  const svgs = charts(results)
  for (const [name, svg] of Object.entries(svgs)) writeFileSync(path.join(dir, name), svg)
  writeFileSync(path.join(repoRoot, "docs", "BENCHMARKS.md"), benchmarksMd(results, resultsFile, Object.keys(svgs)))
  log(`docs: docs/BENCHMARKS.md, ${Object.keys(svgs).map((n) => `docs/bench/${n}`).join(", ")}`)
}

/** Every target in turn; the results are written to bench/results/. */
async function measureAll(opts: Options, argv: ReadonlyArray<string>): Promise<{ results: MatrixResults; file: string }> {
  const startedAt = new Date().toISOString()
  const before = loadavg()
  log(
    `bench matrix: ${opts.workloads.join(",")} x ${opts.targets.join(",")}; ${opts.time} s per run, ${opts.threads} threads, ` +
      `${opts.tables}x${opts.tableSize} rows; ${os.cpus().length} CPUs, load average ${before.join(" ")}`
  )
  const targets: Array<TargetRun> = []
  const cells: Array<Cell> = []
  for (const id of opts.targets) {
    const m = await measure(id, opts)
    targets.push(m.run)
    cells.push(...m.cells)
  }
  const loads = cells.flatMap((c) => (c.load1m ? [c.load1m] : []))
  const results: MatrixResults = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench:matrix${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`,
    config: {
      time: opts.time,
      threads: opts.threads,
      tables: opts.tables,
      tableSize: opts.tableSize,
      workloads: opts.workloads,
      targets: opts.targets,
      marmotWorkersSingle: WORKERS_SINGLE,
      marmotWorkersPerClusterNode: WORKERS_PER_CLUSTER_NODE
    },
    machine: machine(),
    loadavg: {
      before,
      after: loadavg(),
      duringMean: r3(loads.reduce((a, l) => a + l.during1mMean, 0) / Math.max(1, loads.length)),
      duringMax: r3(Math.max(0, ...loads.map((l) => l.during1mMax)))
    },
    probe: probeHow(PROBE_GAP_MS),
    targets,
    cells
  }
  return { results, file: writeResults("matrix", results) }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2)
  let opts: Options
  try {
    opts = parseOptions(argv)
  } catch (e) {
    console.error(`bench:matrix: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`)
    return 2
  }
  const { results, file } = opts.from === undefined
    ? await measureAll(opts, argv)
    : { results: JSON.parse(readFileSync(opts.from, "utf8")) as MatrixResults, file: path.relative(repoRoot, path.resolve(opts.from)) }
  log("")
  log(textTable(results))
  log("(TPS ratio / p99 ratio: marmot 1 against MariaDB 1, ONE/QUORUM/ALL against Galera 3; lag: ack on node 1 -> visible on node 3)")
  const summary = summaryRows(results)
  if (summary.length > 0) log(`\n${formatTable([SUMMARY_HEADER, ...summary])}`)
  const lag = lagRows(results)
  if (lag.length > 0) log(`\nvisibility lag, ms\n${formatTable([lagHeader(results), ...lag])}`)
  log(`load average before ${results.loadavg.before.join(" ")}, during (1-min mean) ${results.loadavg.duringMean}, after ${results.loadavg.after.join(" ")}`)
  if (opts.docs) writeDocs(results, file)
  const { targets, cells } = results
  const problems = [
    ...targets.filter((t) => t.error !== undefined).map((t) => `${t.target}: ${t.error!.slice(0, 500)}`),
    ...targets.filter((t) => t.rows !== undefined && !t.rows.note.startsWith("all nodes equal")).map((t) => `${t.target}: rows: ${t.rows!.note}`),
    ...cells.filter((c) => !c.run?.ok && !c.error?.startsWith("skipped")).map((c) => `${c.workload} on ${c.target}: ${(c.error ?? c.run?.errors ?? "").slice(0, 300)}`)
  ]
  for (const t of targets) if (t.skipped) log(`SKIPPED ${t.target}: ${t.skipped}`)
  for (const p of problems) log(`PROBLEM ${p}`)
  return problems.length > 0 ? 1 : 0
}

runMain(main)
