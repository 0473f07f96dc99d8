/**
 * sysbench: MariaDB vs marmot-ts, in one run, on loopback.
 *
 * Starts a private MariaDB and our node (fresh data dirs), then for oltp_point_select (QPS),
 * oltp_read_write (TPS) and oltp_insert (TPS): prepare, run, cleanup against each. Prints a table with
 * both numbers, p95 latencies and the ratio marmot/MariaDB, plus our node's RSS idle after start and
 * at peak under load (sampled every 200 ms; the sum over the node's process and its worker processes),
 * and writes everything to bench/results/sysbench-<ts>.json.
 * Exits non-zero if any step fails against either server.
 *
 * Environment: BENCH_TIME (s per run, default 20), BENCH_THREADS (4), BENCH_TABLES (4),
 * BENCH_TABLE_SIZE (10000), BENCH_PS_MODE (auto|disable, default auto), BENCH_WORKLOADS (comma list).
 */
import os from "node:os"
import mysql from "mysql2/promise"
import { rssTreeKiB, startMariadb, startMarmot, type RunningServer } from "../test/support/Servers.ts"
import { parseSysbench, sysbench, sysbenchErrors, type SysbenchReport } from "../test/support/Sysbench.ts"
import { writeResults } from "./lib/Results.ts"
import { formatTable } from "./lib/TextTable.ts"

const env = (k: string, d: number) => {
  const v = process.env[k]
  const n = v === undefined || v === "" ? d : Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} must be a positive number, got ${v}`)
  return n
}

const TIME = env("BENCH_TIME", 20)
const THREADS = env("BENCH_THREADS", 4)
const TABLES = env("BENCH_TABLES", 4)
const TABLE_SIZE = env("BENCH_TABLE_SIZE", 10_000)
const PS_MODE = process.env["BENCH_PS_MODE"] === "disable" ? "disable" : "auto"
const WORKLOADS = (process.env["BENCH_WORKLOADS"] ?? "oltp_point_select,oltp_read_write,oltp_insert")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "")

type ServerName = "mariadb" | "marmot"

interface StepResult {
  readonly ok: boolean
  readonly seconds: number
  readonly error?: string
}

interface RunResult {
  readonly workload: string
  readonly server: ServerName
  readonly prepare: StepResult
  readonly run?: StepResult & { readonly report?: SysbenchReport }
  readonly cleanup?: StepResult
}

const log = (s: string) => process.stdout.write(s + "\n")

class RssSampler {
  peakKiB = 0
  private timer: NodeJS.Timeout | undefined
  constructor(private readonly pid: number) {}
  start() {
    this.timer ??= setInterval(() => {
      const r = rssTreeKiB(this.pid)
      if (r !== undefined && r > this.peakKiB) this.peakKiB = r
    }, 200)
  }
  stop() {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}

async function createDb(s: RunningServer) {
  const c = await mysql.createConnection({ host: s.host, port: s.port, user: "root", password: "" })
  try {
    await c.query("CREATE DATABASE sbtest")
  } finally {
    c.destroy()
  }
}

async function step(
  workload: string,
  command: "prepare" | "run" | "cleanup",
  s: RunningServer
): Promise<StepResult & { report?: SysbenchReport }> {
  const t0 = Date.now()
  const r = await sysbench(workload, command, s, {
    tables: TABLES,
    tableSize: TABLE_SIZE,
    threads: THREADS,
    time: TIME,
    psMode: PS_MODE,
    timeoutMs: command === "run" ? (TIME + 60) * 1000 : 600_000
  })
  const seconds = (Date.now() - t0) / 1000
  const errors = sysbenchErrors(r)
  const report = command === "run" ? parseSysbench(r.stdout) : undefined
  const failed =
    r.code !== 0 || r.timedOut || errors !== "" || (command === "run" && (report === undefined || report.transactions === 0))
  if (failed) {
    const why = `exit ${r.code}${r.timedOut ? " (timed out)" : ""}${s.alive() ? "" : " (server died)"}\n${errors || r.stderr.slice(-2000) || r.stdout.slice(-2000)}`
    return { ok: false, seconds, error: why, ...(report ? { report } : {}) }
  }
  return { ok: true, seconds, ...(report ? { report } : {}) }
}

async function bench(workload: string, name: ServerName, s: RunningServer, sampler?: RssSampler): Promise<RunResult> {
  log(`-- ${workload} on ${name}: prepare (${TABLES} x ${TABLE_SIZE} rows)`)
  sampler?.start()
  try {
    const prepare = await step(workload, "prepare", s)
    if (!prepare.ok) {
      log(`   prepare FAILED: ${prepare.error}`)
      // drop what a failed prepare left, so the next workload starts clean
      const cleanup = await step(workload, "cleanup", s)
      return { workload, server: name, prepare, cleanup }
    }
    log(`   run ${TIME} s, ${THREADS} threads, --db-ps-mode=${PS_MODE}`)
    const run = await step(workload, "run", s)
    if (!run.ok) log(`   run FAILED: ${run.error}`)
    else if (run.report) {
      const r = run.report
      log(`   ${r.tps.toFixed(1)} TPS, ${r.qps.toFixed(1)} QPS, p95 ${r.latencyMs.p95} ms, ignored errors ${r.ignoredErrors}`)
    }
    const cleanup = await step(workload, "cleanup", s)
    if (!cleanup.ok) log(`   cleanup FAILED: ${cleanup.error}`)
    return { workload, server: name, prepare, run, cleanup }
  } finally {
    sampler?.stop()
  }
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined ? "-" : n.toFixed(digits))

function table(results: ReadonlyArray<RunResult>): string {
  const rows: Array<Array<string>> = [
    ["workload", "metric", "MariaDB", "marmot-ts", "ratio", "p95 MariaDB ms", "p95 marmot ms", "marmot ign.err"]
  ]
  for (const w of WORKLOADS) {
    const m = results.find((r) => r.workload === w && r.server === "mariadb")?.run
    const o = results.find((r) => r.workload === w && r.server === "marmot")?.run
    const metric = w === "oltp_point_select" ? "QPS" : "TPS"
    const val = (r: RunResult["run"]) =>
      r?.ok && r.report ? (metric === "QPS" ? r.report.qps : r.report.tps) : undefined
    const mv = val(m)
    const ov = val(o)
    rows.push([
      w,
      metric,
      m?.ok === false ? "FAILED" : fmt(mv, 1),
      o === undefined || o.ok === false ? "FAILED" : fmt(ov, 1),
      mv !== undefined && ov !== undefined && mv > 0 ? (ov / mv).toFixed(3) : "-",
      fmt(m?.report?.latencyMs.p95, 2),
      fmt(o?.report?.latencyMs.p95, 2),
      fmt(o?.report?.ignoredErrors)
    ])
  }
  return formatTable(rows, 2)
}

async function main(): Promise<number> {
  const servers: Array<RunningServer> = []
  const stopAll = async () => {
    for (const s of servers) await s.stop()
  }
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)))
  process.once("SIGTERM", () => void stopAll().then(() => process.exit(143)))
  try {
    log(`sysbench bench: time=${TIME}s threads=${THREADS} tables=${TABLES}x${TABLE_SIZE} ps-mode=${PS_MODE}`)
    const mariadb = await startMariadb()
    servers.push(mariadb)
    log(`MariaDB on 127.0.0.1:${mariadb.port} (pid ${mariadb.pid})`)
    const marmot = await startMarmot()
    servers.push(marmot)
    const workers = Number(/workers=(\d+)/.exec(marmot.output())?.[1] ?? 1)
    log(`marmot-ts on ${marmot.host}:${marmot.port} (pid ${marmot.pid}, ${workers} MySQL worker process(es))`)
    await new Promise((r) => setTimeout(r, 1000))
    const idleRssKiB = rssTreeKiB(marmot.pid)
    log(`marmot-ts RSS idle after start: ${fmt((idleRssKiB ?? 0) / 1024, 1)} MiB`)

    await createDb(mariadb)
    await createDb(marmot)

    const sampler = new RssSampler(marmot.pid)
    const results: Array<RunResult> = []
    for (const w of WORKLOADS) {
      results.push(await bench(w, "mariadb", mariadb))
      if (!marmot.alive()) {
        log(`marmot-ts is not running (exit ${JSON.stringify(marmot.exitStatus())}); skipping ${w}`)
        results.push({ workload: w, server: "marmot", prepare: { ok: false, seconds: 0, error: "server not running" } })
        continue
      }
      results.push(await bench(w, "marmot", marmot, sampler))
    }
    const peakRssKiB = sampler.peakKiB

    log("")
    log(table(results))
    log("")
    log(`marmot-ts RSS: idle ${fmt((idleRssKiB ?? 0) / 1024, 1)} MiB, peak under load ${fmt(peakRssKiB / 1024, 1)} MiB`)

    const failed = results.filter((r) => !r.prepare.ok || !r.run?.ok || !r.cleanup?.ok)
    writeResults("sysbench", {
      startedAt: new Date().toISOString(),
      config: { time: TIME, threads: THREADS, tables: TABLES, tableSize: TABLE_SIZE, psMode: PS_MODE, workloads: WORKLOADS },
      machine: { cpus: os.cpus().length, node: process.version, platform: `${os.type()} ${os.release()}` },
      marmot: { workers, idleRssKiB, peakRssKiB, alive: marmot.alive() },
      results,
      failed: failed.map((r) => `${r.workload}/${r.server}`)
    })
      if (!marmot.alive()) log(`--- marmot-ts output (tail) ---\n${marmot.output().slice(-4000)}`)
    if (failed.length > 0) {
      log(`FAILED: ${failed.map((r) => `${r.workload} on ${r.server}`).join(", ")}`)
      return 1
    }
    return 0
  } finally {
    await stopAll()
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
