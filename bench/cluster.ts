/**
 * Cluster bench: 3 marmot-ts nodes vs a 3-node MariaDB Galera cluster, in one run, on loopback.
 *
 * For each write consistency level (BENCH_LEVELS, default QUORUM,ONE) a fresh 3-node marmot cluster
 * is started (ephemeral MySQL and peer ports, temp data dirs, a cluster secret, BENCH_WORKERS MySQL
 * workers per node, `[replication] default_write_consistency` = the level). Once it has formed
 * (CREATE DATABASE at ALL succeeds and every node shows the database), sysbench oltp_insert is
 * prepared through node 1 and run for BENCH_TIME seconds with its connections spread over the three
 * MySQL ports (`--mysql-port=p1,p2,p3`: sysbench 1.0.20 hands them out round-robin; the bench counts
 * the established connections per port from /proc/net/tcp during the run to show it).
 *
 * While sysbench runs, a lag probe measures acknowledgement -> visibility on the third node: one
 * connection to node 1 runs an autocommit `INSERT INTO lagprobe (id, seq, ...)` (id = sequence
 * number); the moment it is acknowledged, one connection to node 3 sends `SELECT seq FROM lagprobe
 * WHERE id = ?` back to back (no sleep, one query in flight) until the row is there. Lag = time of
 * the answer that shows the row - time of the acknowledgement, so its resolution is one poll round
 * trip on node 3 (reported as well). BENCH_PROBE_GAP_MS (20) pause between samples. The same probe
 * also runs idle (no load) before sysbench.
 *
 * Then, if Debian's galera-4 is installed, the same against Galera brought up with the shared recipe
 * (GALERA_TOOLS, default /work/shared/tools/galera: galera-up.sh / galera-down.sh; fixed ports
 * 34306-34308), and prints ratios marmot/Galera. After each run the row counts of every sbtest table
 * and of lagprobe are compared across the three nodes and with what sysbench and the probe say were
 * acknowledged (lost or extra rows are reported).
 *
 * Every process started (marmot nodes and their workers, sysbench, galera-up.sh, mariadbd) is stopped
 * by its own pid at the end, also on failure and on SIGINT/SIGTERM.
 *
 * Environment: BENCH_TIME (s, default 20), BENCH_THREADS (sysbench threads, 6), BENCH_TABLES (4),
 * BENCH_TABLE_SIZE (10000), BENCH_WORKERS (MySQL workers per marmot node, 1), BENCH_LEVELS
 * (QUORUM,ONE), BENCH_GALERA (auto|off), BENCH_PROBE_GAP_MS (20), BENCH_IDLE_SAMPLES (100).
 * Output: a table, and bench/results/cluster-<timestamp>.json.
 */
import os from "node:os"
import {
  checkRows, connect, createProbeTable, errText, loadavg, Sampler,
  type RowCheck, type Target
} from "./lib/Endpoints.ts"
import { GALERA_PORTS, startGalera } from "./lib/Galera.ts"
import { LagProbe, describeLag, probeDuring, probeHow, type LagReport } from "./lib/LagProbe.ts"
import { startMarmotCluster, warningsOf } from "./lib/MarmotCluster.ts"
import { log, runMain } from "./lib/Processes.ts"
import { describeRun, prepareTables, runSysbench, type SysbenchRun } from "./lib/SysbenchRun.ts"
import { writeResults } from "./lib/Results.ts"
import { fmt, formatTable, ratio } from "./lib/TextTable.ts"

// ---------------------------------------------------------------------------------------------
// settings

const envNum = (k: string, d: number) => {
  const v = process.env[k]
  const n = v === undefined || v === "" ? d : Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} must be a positive number, got ${v}`)
  return n
}

const TIME = envNum("BENCH_TIME", 20)
const THREADS = envNum("BENCH_THREADS", 6)
const TABLES = envNum("BENCH_TABLES", 4)
const TABLE_SIZE = envNum("BENCH_TABLE_SIZE", 10_000)
const WORKERS = envNum("BENCH_WORKERS", 1)
const PROBE_GAP_MS = envNum("BENCH_PROBE_GAP_MS", 20)
const IDLE_SAMPLES = envNum("BENCH_IDLE_SAMPLES", 100)
const LEVELS = (process.env["BENCH_LEVELS"] ?? "QUORUM,ONE")
  .split(",")
  .map((s) => s.trim().toUpperCase())
  .filter((s) => s !== "")
for (const l of LEVELS) if (l !== "ONE" && l !== "QUORUM" && l !== "ALL") throw new Error(`BENCH_LEVELS: unknown level ${l}`)
const GALERA = process.env["BENCH_GALERA"] === "off" ? "off" : "auto"
const GALERA_TOOLS = process.env["GALERA_TOOLS"] ?? "/work/shared/tools/galera"


// ---------------------------------------------------------------------------------------------
// one bench against a target

interface TargetResult {
  readonly target: string
  readonly engine: string
  readonly ports: ReadonlyArray<number>
  readonly startupS?: number
  readonly prepare?: { ok: boolean; seconds: number; error?: string }
  readonly run?: SysbenchRun
  readonly idleLag?: LagReport
  readonly loadLag?: LagReport
  /** Established connections per port at the sample with the most (includes the probe's 1 on node 1 and 1 on node 3). */
  readonly connectionsPerPort?: ReadonlyArray<number>
  readonly loadAvg?: { before: [number, number, number]; during1mMean: number; during1mMax: number; after: [number, number, number] }
  readonly rows?: RowCheck
  readonly error?: string
  readonly alive?: boolean
  /** marmot: WARN/ERROR lines each node logged after the cluster formed (count, and a few distinct messages). */
  readonly nodeWarnings?: ReadonlyArray<{
    readonly node: number
    readonly count: number
    /** Distinct messages (up to 20). */
    readonly samples: ReadonlyArray<string>
    /** The first 60 such lines as logged. */
    readonly lines: ReadonlyArray<string>
  }>
}


const sbOptions = { tables: TABLES, tableSize: TABLE_SIZE, threads: THREADS, time: TIME, psMode: "auto" as const }

async function benchTarget(t: Target, setup: () => Promise<void>): Promise<TargetResult> {
  const base = { target: t.name, engine: t.engine, ports: t.ports }
  try {
    await setup()
  } catch (e) {
    return { ...base, error: `setup: ${errText(e)}`, alive: t.alive() }
  }
  const prepare = await prepareTables(t, "oltp_insert", sbOptions)
  if (!prepare.ok) return { ...base, prepare, alive: t.alive(), ...(prepare.error ? { error: prepare.error } : {}) }

  // idle probe
  const w = await connect(t, 0, "sbtest")
  const r = await connect(t, 2, "sbtest")
  try {
    log(`   lag probe idle: ${IDLE_SAMPLES} samples`)
    const idleProbe = new LagProbe(w, r, 0, PROBE_GAP_MS)
    const idleLag = await idleProbe.run(IDLE_SAMPLES)
    log(`   idle lag p50 ${idleLag.lagMs.p50} ms, p99 ${idleLag.lagMs.p99} ms (ack p50 ${idleLag.ackMs.p50} ms)`)

    // load: sysbench over the three ports, probe alongside
    const before = loadavg()
    log(`   run ${TIME} s, ${THREADS} threads over ports ${t.ports.join(",")} (load average ${before.join(" ")})`)
    const sampler = new Sampler(t.ports)
    sampler.start()
    const [run, loadLag] = await probeDuring(
      new LagProbe(w, r, idleProbe.lastSeq, PROBE_GAP_MS),
      runSysbench(t, "oltp_insert", sbOptions),
      TIME
    )
    sampler.stop()
    const loadAvg = { before, ...sampler.load1m(), after: loadavg() }
    log(`   ${describeRun(run)}; connections per port ${sampler.maxConns.join("/")}`)
    log(`   lag under load: ${describeLag(loadLag)}`)
    log(`   load average before ${before.join(" ")}, 1-min during mean ${loadAvg.during1mMean} max ${loadAvg.during1mMax}, after ${loadAvg.after.join(" ")}`)
    const rows = await checkRows(
      t,
      TABLES,
      run.report === undefined ? undefined : TABLES * TABLE_SIZE + run.report.transactions,
      idleLag.acknowledged + loadLag.acknowledged,
      idleLag.insertErrors + loadLag.insertErrors
    )
    log(`   rows: ${rows.note}`)
    return { ...base, prepare, run, idleLag, loadLag, connectionsPerPort: sampler.maxConns, loadAvg, rows, alive: t.alive() }
  } finally {
    w.destroy()
    r.destroy()
  }
}

async function benchMarmot(level: string): Promise<TargetResult> {
  log(`-- marmot-ts, 3 nodes, ${WORKERS} worker(s) each, default_write_consistency = ${level}`)
  let cluster: Awaited<ReturnType<typeof startMarmotCluster>> | undefined
  try {
    cluster = await startMarmotCluster(level, WORKERS)
    log(`   cluster formed in ${cluster.startupS.toFixed(1)} s`)
    const c = cluster
    const res = await benchTarget(c.target, () => createProbeTable(c.target, ""))
    const dead = c.target.alive() ? "" : c.target.describeDeath()
    if (dead) log(`   A NODE DIED:\n${dead}`)
    const nodeWarnings = c.nodes.map((n, i) => warningsOf(n.output().slice(c.outputFrom[i]), i + 1))
    for (const w of nodeWarnings) {
      if (w.count > 0) log(`   node ${w.node} logged ${w.count} WARN/ERROR line(s): ${w.samples.slice(0, 6).join(" | ")}`)
    }
    return { ...res, startupS: c.startupS, nodeWarnings, ...(dead ? { error: `${res.error ?? ""} ${dead}`.trim() } : {}) }
  } catch (e) {
    log(`   FAILED: ${errText(e)}`)
    return { target: `marmot ${level}`, engine: "marmot-ts", ports: cluster?.target.ports ?? [], error: errText(e) }
  } finally {
    if (cluster) await Promise.all(cluster.nodes.map((n) => n.stop()))
  }
}

// ---------------------------------------------------------------------------------------------
// Galera

async function benchGalera(): Promise<TargetResult | { skipped: string }> {
  try {
    const galera = await startGalera(GALERA_TOOLS)
    if ("skipped" in galera) return galera
    try {
      const t = galera.target
      const res = await benchTarget(t, () => createProbeTable(t, " ENGINE=InnoDB"))
      return { ...res, startupS: galera.startupS }
    } finally {
      await galera.stop()
    }
  } catch (e) {
    log(`   FAILED: ${errText(e)}`)
    return { target: "Galera", engine: "MariaDB Galera", ports: GALERA_PORTS, error: errText(e) }
  }
}

// ---------------------------------------------------------------------------------------------
// report

const f = fmt

function table(results: ReadonlyArray<TargetResult>): string {
  const rows: Array<Array<string>> = [
    ["target", "tx/s", "p50 ms", "p99 ms", "ign.err", "reconn", "conns/port", "lag p50", "lag p99", "lag max", "n", "idle lag p50/p99", "load 1m"]
  ]
  for (const r of results) {
    const ok = r.run !== undefined
    rows.push([
      r.target,
      ok ? f(r.run!.report?.tps) + (r.run!.ok ? "" : "!") : "FAILED",
      f(r.run?.latencyMs?.p50, 2),
      f(r.run?.latencyMs?.p99, 2),
      f(r.run?.report?.ignoredErrors, 0),
      f(r.run?.report?.reconnects, 0),
      r.connectionsPerPort?.join("/") ?? "-",
      f(r.loadLag?.lagMs.p50, 2),
      f(r.loadLag?.lagMs.p99, 2),
      f(r.loadLag?.lagMs.max, 2),
      f(r.loadLag?.samples, 0),
      r.idleLag ? `${f(r.idleLag.lagMs.p50, 2)}/${f(r.idleLag.lagMs.p99, 2)}` : "-",
      r.loadAvg ? f(r.loadAvg.during1mMean, 2) : "-"
    ])
  }
  return formatTable(rows)
}

function ratios(m: TargetResult, g: TargetResult) {
  const q = ratio
  return {
    marmot: m.target,
    tps: q(m.run?.report?.tps, g.run?.report?.tps),
    p50: q(m.run?.latencyMs?.p50, g.run?.latencyMs?.p50),
    p99: q(m.run?.latencyMs?.p99, g.run?.latencyMs?.p99),
    lagP50: q(m.loadLag?.lagMs.p50, g.loadLag?.lagMs.p50),
    lagP99: q(m.loadLag?.lagMs.p99, g.loadLag?.lagMs.p99)
  }
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString()
  log(
    `cluster bench: oltp_insert ${TIME} s, ${THREADS} threads, ${TABLES}x${TABLE_SIZE} rows, levels ${LEVELS.join(",")}, ` +
      `${WORKERS} worker(s)/node; ${os.cpus().length} CPUs, load average ${loadavg().join(" ")}`
  )
  log(`lag probe: ${probeHow(PROBE_GAP_MS)}`)
  const results: Array<TargetResult> = []
  for (const level of LEVELS) results.push(await benchMarmot(level))
  let galera: TargetResult | undefined
  let galeraSkipped: string | undefined
  if (GALERA === "off") galeraSkipped = "BENCH_GALERA=off"
  else {
    const g = await benchGalera()
    if ("skipped" in g) {
      galeraSkipped = g.skipped
      log(`-- Galera skipped: ${g.skipped}`)
    } else {
      galera = g
      results.push(g)
    }
  }

  log("")
  log(table(results))
  log("(p50 and p99 from sysbench --histogram; lag = ack on node 1 -> visible on node 3, under load;")
  log(" conns/port = established server-side connections per node during the run, including the probe's 1 on node 1 and 1 on node 3;")
  log(" '!' after tx/s = sysbench reported errors or a non-zero exit)")
  const rat = galera ? results.filter((r) => r.engine === "marmot-ts").map((m) => ratios(m, galera)) : []
  for (const x of rat) {
    log(`ratio ${x.marmot} / Galera: tx/s ${f(x.tps, 3)}, p50 ${f(x.p50, 2)}, p99 ${f(x.p99, 2)}, lag p50 ${f(x.lagP50, 2)}, lag p99 ${f(x.lagP99, 2)}`)
  }
  if (galeraSkipped) log(`Galera: skipped (${galeraSkipped})`)
  const q = results.find((r) => r.target === "marmot QUORUM")
  if (q?.run?.report?.tps !== undefined) {
    log(
      `issue 4 targets at QUORUM: tx/s ${f(q.run.report.tps)} (target >= 5000: ${q.run.report.tps >= 5000 ? "met" : "NOT met"}), ` +
        `lag p99 ${f(q.loadLag?.lagMs.p99, 2)} ms (target <= 10: ${(q.loadLag?.lagMs.p99 ?? Infinity) <= 10 ? "met" : "NOT met"})`
    )
  }
  for (const r of results) if (r.rows && r.rows.note !== "all nodes equal, no lost or extra rows") log(`ROWS ${r.target}: ${r.rows.note}`)
  for (const r of results) if (r.error) log(`ERROR ${r.target}: ${r.error.slice(0, 2000)}`)

  writeResults("cluster", {
    startedAt,
    finishedAt: new Date().toISOString(),
    config: { time: TIME, threads: THREADS, tables: TABLES, tableSize: TABLE_SIZE, workersPerNode: WORKERS, levels: LEVELS, probeGapMs: PROBE_GAP_MS, idleSamples: IDLE_SAMPLES },
    machine: { cpus: os.cpus().length, node: process.version, platform: `${os.type()} ${os.release()}`, loadavgAtEnd: loadavg() },
    probe: probeHow(PROBE_GAP_MS),
    results,
    ratiosMarmotOverGalera: rat,
    ...(galeraSkipped ? { galeraSkipped } : {})
      })
  const bad = results.filter((r) => r.error !== undefined || !r.run?.ok || !r.rows?.converged)
  return bad.length > 0 ? 1 : 0
}

runMain(main)
