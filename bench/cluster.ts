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
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import net from "node:net"
import os from "node:os"
import path from "node:path"
import { performance } from "node:perf_hooks"
import mysql from "mysql2/promise"
import type { Connection, RowDataPacket } from "mysql2/promise"
import { freePort, pidAlive, repoRoot, startMarmot, type RunningServer } from "../test/support/Servers.ts"

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
const GALERA_PORTS = [34306, 34307, 34308] as const
const SECRET = `bench-${process.pid}-${Date.now().toString(36)}`

const log = (s: string) => process.stdout.write(s + "\n")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const loadavg = () => os.loadavg().map((x) => Number(x.toFixed(2))) as [number, number, number]

// ---------------------------------------------------------------------------------------------
// process bookkeeping: everything started here is stopped by its own pid

const children = new Set<ChildProcess>()
const cleanups: Array<() => Promise<void>> = []

const killPid = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig)
  } catch {
    // gone
  }
}

async function stopEverything() {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) killPid(c.pid, "SIGKILL")
  children.clear()
  while (cleanups.length > 0) {
    const f = cleanups.pop()!
    try {
      await f()
    } catch (e) {
      log(`cleanup: ${String(e)}`)
    }
  }
}

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
}

/** Run a command to completion; it is registered so that a signal or a failure stops it by pid. */
function runTracked(cmd: string, args: ReadonlyArray<string>, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
    children.add(child)
    let stdout = ""
    let stderr = ""
    let timedOut = false
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    const timer = setTimeout(() => {
      timedOut = true
      if (child.pid !== undefined) killPid(child.pid, "SIGKILL")
    }, timeoutMs)
    child.on("error", (e) => {
      clearTimeout(timer)
      children.delete(child)
      reject(e)
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, stdout, stderr, timedOut })
    })
  })
}

// ---------------------------------------------------------------------------------------------
// a target: three MySQL endpoints

interface Target {
  readonly name: string
  readonly host: string
  readonly ports: readonly [number, number, number]
  readonly user: string
  readonly password: string
  readonly engine: string
  /** True while all its server processes run. */
  alive(): boolean
  describeDeath(): string
}

const connect = async (t: Target, node: number, database?: string): Promise<Connection> => {
  const c = await mysql.createConnection({
    host: t.host,
    port: t.ports[node]!,
    user: t.user,
    password: t.password,
    ...(database === undefined ? {} : { database }),
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectTimeout: 10_000
  })
  c.on("error", () => {})
  return c
}

const errText = (e: unknown) => {
  const x = e as { errno?: number; code?: string; message?: string }
  return `${x.errno ?? x.code ?? ""} ${x.message ?? String(e)}`.trim()
}

async function until(what: string, ms: number, check: () => Promise<boolean>, stepMs = 250): Promise<void> {
  const deadline = Date.now() + ms
  let last = ""
  for (;;) {
    try {
      if (await check()) return
    } catch (e) {
      last = errText(e)
    }
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000} s${last ? ` (last error: ${last})` : ""}`)
    await sleep(stepMs)
  }
}

// ---------------------------------------------------------------------------------------------
// sysbench

interface SysbenchRun {
  readonly ok: boolean
  readonly exitCode: number | null
  readonly transactions?: number
  readonly tps?: number
  readonly ignoredErrors?: number
  readonly reconnects?: number
  readonly totalTimeS?: number
  readonly latencyMs?: { min: number; avg: number; max: number; p50: number; p99: number; p99Sysbench: number }
  /** FATAL / error lines sysbench printed (first 20). */
  readonly errors: string
  readonly tail?: string
}

const sysbenchArgs = (t: Target, ports: ReadonlyArray<number>) => [
  "oltp_insert",
  "--db-driver=mysql",
  `--mysql-host=${t.host}`,
  `--mysql-port=${ports.join(",")}`,
  `--mysql-user=${t.user}`,
  ...(t.password === "" ? [] : [`--mysql-password=${t.password}`]),
  "--mysql-db=sbtest",
  `--tables=${TABLES}`,
  `--table-size=${TABLE_SIZE}`
]

const errorLines = (r: Ran) =>
  `${r.stdout}\n${r.stderr}`
    .split("\n")
    .filter((l) => !/^\s*ignored errors:/.test(l) && /FATAL|ALERT|returned error|[Ee]rror:|failed/.test(l))
    .slice(0, 20)
    .join("\n")

/** p-th percentile from sysbench's `--histogram` table (bucket value, count). */
function histogramPercentile(stdout: string, p: number): number | undefined {
  const start = stdout.indexOf("Latency histogram")
  if (start < 0) return undefined
  const rows: Array<[number, number]> = []
  for (const line of stdout.slice(start).split("\n").slice(2)) {
    const m = /^\s*([\d.]+)\s+\|[*\s]*?(\d+)\s*$/.exec(line)
    if (!m) break
    rows.push([Number(m[1]), Number(m[2])])
  }
  const total = rows.reduce((s, r) => s + r[1], 0)
  if (total === 0) return undefined
  let acc = 0
  for (const [v, n] of rows) {
    acc += n
    if (acc >= (p / 100) * total) return v
  }
  return rows[rows.length - 1]![0]
}

function parseRun(r: Ran): SysbenchRun {
  const out = r.stdout
  const pair = (re: RegExp) => {
    const m = re.exec(out)
    return m ? [Number(m[1]), Number(m[2])] as const : undefined
  }
  const num = (re: RegExp) => {
    const m = re.exec(out)
    return m ? Number(m[1]) : undefined
  }
  const tx = pair(/^\s*transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)/m)
  const ign = pair(/^\s*ignored errors:\s+(\d+)\s+\(([\d.]+) per sec\.\)/m)
  const rec = pair(/^\s*reconnects:\s+(\d+)\s+\(([\d.]+) per sec\.\)/m)
  const min = num(/^\s*min:\s+([\d.]+)/m)
  const avg = num(/^\s*avg:\s+([\d.]+)/m)
  const max = num(/^\s*max:\s+([\d.]+)/m)
  const p99s = num(/^\s*99th percentile:\s+([\d.]+)/m)
  const p50 = histogramPercentile(out, 50)
  const p99 = histogramPercentile(out, 99)
  const errors = errorLines(r)
  const parsed = tx !== undefined && min !== undefined && avg !== undefined && max !== undefined && p99s !== undefined
  const ok = r.code === 0 && !r.timedOut && parsed && tx[0] > 0 && errors === ""
  return {
    ok,
    exitCode: r.code,
    ...(tx ? { transactions: tx[0], tps: tx[1] } : {}),
    ...(ign ? { ignoredErrors: ign[0] } : {}),
    ...(rec ? { reconnects: rec[0] } : {}),
    ...(num(/^\s*total time:\s+([\d.]+)s/m) !== undefined ? { totalTimeS: num(/^\s*total time:\s+([\d.]+)s/m)! } : {}),
    ...(parsed ? { latencyMs: { min, avg, max, p50: p50 ?? NaN, p99: p99 ?? NaN, p99Sysbench: p99s } } : {}),
    errors,
    ...(ok ? {} : { tail: `${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}${r.timedOut ? "\n(timed out)" : ""}` })
  }
}

// ---------------------------------------------------------------------------------------------
// the lag probe

interface LagReport {
  readonly how: string
  readonly samples: number
  readonly insertErrors: number
  readonly insertErrorKinds: Record<string, number>
  /** Rows acknowledged on node 1 but not seen on node 3 within 10 s. */
  readonly notVisible: number
  readonly pollErrors: number
  readonly pollsPerSample: number
  readonly ackMs: Stats
  readonly lagMs: Stats
  /** Duration of one poll (SELECT by id on node 3). */
  readonly pollMs: Stats
  /** Highest seq acknowledged (rows the table must hold, minus insertErrors that did not commit). */
  readonly acknowledged: number
}

interface Stats {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly min: number
}

const stats = (xs: Array<number>): Stats => {
  if (xs.length === 0) return { p50: NaN, p99: NaN, max: NaN, min: NaN }
  const s = [...xs].sort((a, b) => a - b)
  const at = (p: number) => s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))]!
  return { p50: r3(at(0.5)), p99: r3(at(0.99)), max: r3(s[s.length - 1]!), min: r3(s[0]!) }
}
const r3 = (x: number) => Math.round(x * 1000) / 1000

const PROBE_HOW =
  "one connection to node 1 runs an autocommit INSERT INTO lagprobe (id = sequence number); when it is acknowledged, " +
  "one connection to node 3 sends SELECT seq FROM lagprobe WHERE id = <seq> back to back (one in flight, no sleep) until the row " +
  `is there; lag = answer showing the row - acknowledgement (resolution: one poll round trip); ${PROBE_GAP_MS} ms between samples`

class LagProbe {
  private stopped = false
  private seq: number
  constructor(private readonly writer: Connection, private readonly reader: Connection, firstSeq: number) {
    this.seq = firstSeq
  }
  stop() {
    this.stopped = true
  }
  /** The last sequence number used (the next probe continues after it). */
  get lastSeq() {
    return this.seq
  }
  async run(maxSamples: number): Promise<LagReport> {
    const ack: Array<number> = []
    const lag: Array<number> = []
    const pollT: Array<number> = []
    let polls = 0
    let insertErrors = 0
    let pollErrors = 0
    let notVisible = 0
    let acknowledged = 0
    const kinds: Record<string, number> = {}
    while (!this.stopped && ack.length + insertErrors < maxSamples) {
      const seq = ++this.seq
      const t0 = performance.now()
      try {
        await this.writer.query(`INSERT INTO lagprobe (id, seq, t) VALUES (${seq}, ${seq}, ${Date.now()})`)
      } catch (e) {
        insertErrors++
        const k = String((e as { errno?: number }).errno ?? (e as { code?: string }).code ?? "other")
        kinds[k] = (kinds[k] ?? 0) + 1
        await sleep(PROBE_GAP_MS)
        continue
      }
      const t1 = performance.now()
      ack.push(t1 - t0)
      acknowledged++
      for (;;) {
        const p0 = performance.now()
        polls++
        let found = false
        try {
          const [rows] = await this.reader.query<Array<RowDataPacket>>(`SELECT seq FROM lagprobe WHERE id = ${seq}`)
          found = rows.length > 0
        } catch {
          pollErrors++
        }
        const p1 = performance.now()
        pollT.push(p1 - p0)
        if (found) {
          lag.push(p1 - t1)
          break
        }
        if (p1 - t1 > 10_000) {
          notVisible++
          break
        }
      }
      await sleep(PROBE_GAP_MS)
    }
    return {
      how: PROBE_HOW,
      samples: lag.length,
      insertErrors,
      insertErrorKinds: kinds,
      notVisible,
      pollErrors,
      pollsPerSample: r3(polls / Math.max(1, acknowledged)),
      ackMs: stats(ack),
      lagMs: stats(lag),
      pollMs: stats(pollT),
      acknowledged
    }
  }
}

// ---------------------------------------------------------------------------------------------
// sampling while sysbench runs: load average, established connections per MySQL port

/** Established TCP sockets whose local port is one of `ports` (the server side), from /proc/net/tcp. */
function establishedOn(ports: ReadonlyArray<number>): Array<number> {
  const counts = ports.map(() => 0)
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = ""
    try {
      text = readFileSync(f, "utf8")
    } catch {
      continue
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 4 || cols[3] !== "01") continue
      const local = Number.parseInt(cols[1]!.split(":")[1]!, 16)
      const i = ports.indexOf(local)
      if (i >= 0) counts[i]!++
    }
  }
  return counts
}

class Sampler {
  readonly load: Array<number> = []
  maxConns: Array<number> = [0, 0, 0]
  private timer: NodeJS.Timeout | undefined
  constructor(private readonly ports: ReadonlyArray<number>) {}
  start() {
    this.timer = setInterval(() => {
      this.load.push(os.loadavg()[0]!)
      const c = establishedOn(this.ports)
      if (c.reduce((a, b) => a + b, 0) > this.maxConns.reduce((a, b) => a + b, 0)) this.maxConns = c
    }, 1000)
  }
  stop() {
    if (this.timer) clearInterval(this.timer)
  }
}

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

interface RowCheck {
  /** Per node: total rows over sbtest1..N, and rows in lagprobe. */
  readonly sbtest: ReadonlyArray<number | string>
  readonly lagprobe: ReadonlyArray<number | string>
  readonly expectedSbtest?: number
  readonly expectedLagprobe: number
  readonly converged: boolean
  readonly note: string
}

async function countRows(t: Target, node: number): Promise<[number, number]> {
  const c = await connect(t, node, "sbtest")
  try {
    let total = 0
    for (let i = 1; i <= TABLES; i++) {
      const [rows] = await c.query<Array<RowDataPacket>>(`SELECT COUNT(*) AS n FROM sbtest${i}`)
      total += Number(rows[0]!["n"])
    }
    const [p] = await c.query<Array<RowDataPacket>>("SELECT COUNT(*) AS n FROM lagprobe")
    return [total, Number(p[0]!["n"])]
  } finally {
    c.destroy()
  }
}

/** Wait (up to 30 s) until the three nodes hold the same row counts, then compare with what was acknowledged. */
async function checkRows(t: Target, expectedSbtest: number | undefined, probeAcked: number, probeErrors: number): Promise<RowCheck> {
  let last: Array<[number, number] | string> = []
  const deadline = Date.now() + 30_000
  let converged = false
  while (Date.now() < deadline) {
    last = await Promise.all([0, 1, 2].map((i) => countRows(t, i).catch((e) => errText(e))))
    const ok = last.every((x) => typeof x !== "string")
    if (ok) {
      const [a, b, c] = last as Array<[number, number]>
      if (a![0] === b![0] && b![0] === c![0] && a![1] === b![1] && b![1] === c![1]) {
        converged = true
        break
      }
    }
    await sleep(500)
  }
  const sb = last.map((x) => (typeof x === "string" ? x : x[0]))
  const lp = last.map((x) => (typeof x === "string" ? x : x[1]))
  const notes: Array<string> = []
  if (!converged) notes.push(`nodes differ after 30 s: sbtest rows ${sb.join(" / ")}, lagprobe rows ${lp.join(" / ")}`)
  if (expectedSbtest !== undefined && sb.some((n) => n !== expectedSbtest)) {
    notes.push(`sbtest rows ${sb.join(" / ")} != prepared + acknowledged ${expectedSbtest}`)
  }
  if (lp.some((n) => typeof n === "number" && (n < probeAcked || n > probeAcked + probeErrors))) {
    notes.push(`lagprobe rows ${lp.join(" / ")} outside [acknowledged ${probeAcked}, + failed inserts ${probeErrors}]`)
  }
  return {
    sbtest: sb,
    lagprobe: lp,
    ...(expectedSbtest !== undefined ? { expectedSbtest } : {}),
    expectedLagprobe: probeAcked,
    converged,
    note: notes.length === 0 ? "all nodes equal, no lost or extra rows" : notes.join("; ")
  }
}

async function benchTarget(t: Target, setup: () => Promise<void>): Promise<TargetResult> {
  const base = { target: t.name, engine: t.engine, ports: t.ports }
  try {
    await setup()
  } catch (e) {
    return { ...base, error: `setup: ${errText(e)}`, alive: t.alive() }
  }
  // prepare through node 1, then wait until every node has the tables
  log(`   prepare (${TABLES} x ${TABLE_SIZE} rows) through node 1`)
  const p0 = Date.now()
  const prep = await runTracked("sysbench", [...sysbenchArgs(t, [t.ports[0]]), "prepare"], 600_000)
  const prepErr = errorLines(prep)
  const prepare = {
    ok: prep.code === 0 && !prep.timedOut && prepErr === "",
    seconds: (Date.now() - p0) / 1000,
    ...(prep.code === 0 && prepErr === "" ? {} : { error: `exit ${prep.code}${prep.timedOut ? " (timed out)" : ""}\n${prepErr || prep.stderr.slice(-1500)}` })
  }
  if (!prepare.ok) {
    log(`   prepare FAILED: ${prepare.error}`)
    return { ...base, prepare, alive: t.alive() }
  }
  log(`   prepared in ${prepare.seconds.toFixed(1)} s; waiting until all nodes hold the rows`)
  try {
    await until("prepared rows on every node", 120_000, async () => {
      for (const i of [0, 1, 2]) {
        const [n] = await countRows(t, i)
        if (n !== TABLES * TABLE_SIZE) return false
      }
      return true
    }, 500)
  } catch (e) {
    return { ...base, prepare, error: errText(e), alive: t.alive() }
  }

  // idle probe
  const w = await connect(t, 0, "sbtest")
  const r = await connect(t, 2, "sbtest")
  try {
    log(`   lag probe idle: ${IDLE_SAMPLES} samples`)
    const idleProbe = new LagProbe(w, r, 0)
    const idleLag = await idleProbe.run(IDLE_SAMPLES)
    log(`   idle lag p50 ${idleLag.lagMs.p50} ms, p99 ${idleLag.lagMs.p99} ms (ack p50 ${idleLag.ackMs.p50} ms)`)

    // load: sysbench over the three ports, probe alongside
    const before = loadavg()
    log(`   run ${TIME} s, ${THREADS} threads over ports ${t.ports.join(",")} (load average ${before.join(" ")})`)
    const sampler = new Sampler(t.ports)
    sampler.start()
    const sb = runTracked(
      "sysbench",
      [...sysbenchArgs(t, t.ports), `--time=${TIME}`, `--threads=${THREADS}`, "--db-ps-mode=auto", "--percentile=99",
        "--histogram=on", "--report-interval=0", "run"],
      (TIME + 120) * 1000
    )
    const loadProbe = new LagProbe(w, r, idleProbe.lastSeq)
    // start sampling once sysbench's connections are up, stop a little before it ends
    await sleep(Math.min(2000, TIME * 100))
    const probeDone = loadProbe.run(Number.MAX_SAFE_INTEGER)
    const stopAt = setTimeout(() => loadProbe.stop(), Math.max(1000, TIME * 1000 - 3000))
    const ran = await sb
    loadProbe.stop()
    clearTimeout(stopAt)
    const loadLag = await probeDone
    sampler.stop()
    const after = loadavg()
    const run = parseRun(ran)
    const during = sampler.load
    const loadAvg = {
      before,
      during1mMean: r3(during.reduce((a, b) => a + b, 0) / Math.max(1, during.length)),
      during1mMax: r3(Math.max(0, ...during)),
      after
    }
    if (!run.ok) log(`   run FAILED (exit ${run.exitCode}): ${run.errors || run.tail}`)
    log(
      `   ${run.tps ?? "-"} tx/s, p50 ${run.latencyMs?.p50 ?? "-"} ms, p99 ${run.latencyMs?.p99Sysbench ?? "-"} ms, ` +
        `ignored errors ${run.ignoredErrors ?? "-"}, reconnects ${run.reconnects ?? "-"}; connections per port ${sampler.maxConns.join("/")}`
    )
    log(
      `   lag under load: n=${loadLag.samples} p50 ${loadLag.lagMs.p50} ms, p99 ${loadLag.lagMs.p99} ms, max ${loadLag.lagMs.max} ms ` +
        `(ack p50 ${loadLag.ackMs.p50} ms, p99 ${loadLag.ackMs.p99}; poll p50 ${loadLag.pollMs.p50} ms; ${loadLag.pollsPerSample} polls/sample; ` +
        `insert errors ${loadLag.insertErrors}${loadLag.insertErrors ? ` ${JSON.stringify(loadLag.insertErrorKinds)}` : ""}, not visible in 10 s ${loadLag.notVisible})`
    )
    log(`   load average before ${before.join(" ")}, 1-min during mean ${loadAvg.during1mMean} max ${loadAvg.during1mMax}, after ${after.join(" ")}`)
    const rows = await checkRows(
      t,
      run.transactions === undefined ? undefined : TABLES * TABLE_SIZE + run.transactions,
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

// ---------------------------------------------------------------------------------------------
// marmot cluster

const marmotConfig = (peerPort: number, seedPort: number, level: string) => `
[cluster]
grpc_port = ${peerPort}
grpc_bind_address = "127.0.0.1"
seed_nodes = ["127.0.0.1:${seedPort}"]
cluster_secret = "${SECRET}"
gossip_interval_ms = 200

[replication]
default_write_consistency = "${level}"
`

async function startMarmotCluster(
  level: string
): Promise<{ target: Target; nodes: Array<RunningServer>; startupS: number; outputFrom: Array<number> }> {
  const t0 = Date.now()
  const peers = [await freePort(), await freePort(), await freePort()]
  const nodes: Array<RunningServer> = []
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  cleanups.push(stop)
  const started = await Promise.allSettled(peers.map((peer, i) =>
    startMarmot({
      config: marmotConfig(peer, peers[0]!, level),
      args: ["--node-id", String(i + 1), "--workers", String(WORKERS)],
      readyTimeoutMs: 120_000
    }).then((s) => {
      nodes[i] = s
      return s
    })
  ))
  const failed = started.find((s) => s.status === "rejected")
  if (failed) throw (failed as PromiseRejectedResult).reason
  const target: Target = {
    name: `marmot ${level}`,
    engine: "marmot-ts",
    host: nodes[0]!.host,
    ports: [nodes[0]!.port, nodes[1]!.port, nodes[2]!.port],
    user: "root",
    password: "",
    alive: () => nodes.every((n) => n.alive()),
    describeDeath: () =>
      nodes.map((n, i) => (n.alive() ? "" : `node ${i + 1} exited ${JSON.stringify(n.exitStatus())}\n${n.output().slice(-3000)}`)).join("\n")
  }
  for (const [i, n] of nodes.entries()) log(`   node ${i + 1}: mysql ${n.host}:${n.port}, peer 127.0.0.1:${peers[i]}, pid ${n.pid}`)
  // formed: CREATE DATABASE at ALL succeeds on node 1 and every node shows it
  const c = await connect(target, 0)
  try {
    await until("cluster formed (CREATE DATABASE sbtest at ALL)", 90_000, async () => {
      await c.query("SET marmot_write_consistency = 'ALL'")
      await c.query("CREATE DATABASE IF NOT EXISTS sbtest")
      return true
    })
  } finally {
    c.destroy()
  }
  for (const i of [1, 2]) {
    await until(`sbtest visible on node ${i + 1}`, 60_000, async () => {
      const d = await connect(target, i)
      try {
        const [rows] = await d.query<Array<RowDataPacket>>("SHOW DATABASES LIKE 'sbtest'")
        return rows.length === 1
      } finally {
        d.destroy()
      }
    })
  }
  // what the nodes log from here on (joining warnings before the cluster formed are expected)
  const outputFrom = nodes.map((n) => n.output().length)
  return { target, nodes, startupS: (Date.now() - t0) / 1000, outputFrom }
}

function warningsOf(output: string, node: number) {
  const lines = output.split("\n").filter((l) => /level=(WARN|ERROR|FATAL)/.test(l))
  const samples = [...new Set(lines.map((l) => (/message="([^"]*)"/.exec(l)?.[1] ?? l).slice(0, 300)))].slice(0, 20)
  return { node, count: lines.length, samples, lines: lines.slice(0, 60).map((l) => l.slice(0, 600)) }
}

async function createProbeTable(t: Target, engineClause: string) {
  const c = await connect(t, 0, "sbtest")
  try {
    await c.query("DROP TABLE IF EXISTS lagprobe")
    await c.query(`CREATE TABLE lagprobe (id BIGINT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, t BIGINT NOT NULL)${engineClause}`)
  } finally {
    c.destroy()
  }
  await until("lagprobe visible on node 3", 60_000, async () => {
    const d = await connect(t, 2, "sbtest")
    try {
      await d.query("SELECT COUNT(*) FROM lagprobe")
      return true
    } finally {
      d.destroy()
    }
  })
}

async function benchMarmot(level: string): Promise<TargetResult> {
  log(`-- marmot-ts, 3 nodes, ${WORKERS} worker(s) each, default_write_consistency = ${level}`)
  let cluster: Awaited<ReturnType<typeof startMarmotCluster>> | undefined
  try {
    cluster = await startMarmotCluster(level)
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

function galeraInstalled(): string | undefined {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Status} ${Version}", "galera-4"], { encoding: "utf8" })
  if (r.status !== 0 || !/install ok installed/.test(r.stdout)) return undefined
  return r.stdout.split(" ").pop()
}

const portBusy = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port })
    s.once("connect", () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

const galeraPids = () =>
  [1, 2, 3]
    .map((i) => {
      try {
        return Number(readFileSync(`/tmp/galera-n${i}/launcher.pid`, "utf8").trim())
      } catch {
        return NaN
      }
    })
    .filter((p) => Number.isInteger(p) && p > 0)

async function benchGalera(): Promise<TargetResult | { skipped: string }> {
  const version = galeraInstalled()
  if (version === undefined) return { skipped: "galera-4 is not installed (apt-get install -y galera-4 mariadb-backup socat)" }
  const up = path.join(GALERA_TOOLS, "galera-up.sh")
  const down = path.join(GALERA_TOOLS, "galera-down.sh")
  if (!existsSync(up) || !existsSync(down)) return { skipped: `no ${up} / ${down} (set GALERA_TOOLS)` }
  for (const p of GALERA_PORTS) if (await portBusy(p)) return { skipped: `port ${p} is in use (another Galera cluster running?)` }
  if (existsSync("/tmp/galera-n1")) return { skipped: "/tmp/galera-n1 exists (another Galera cluster, or a leftover: run galera-down.sh)" }
  log(`-- MariaDB Galera (galera-4 ${version}), 3 nodes via ${up}`)
  // stop by pid: galera-down.sh (TERM by launcher.pid, waits), then KILL whatever pid is left
  let pids: Array<number> = []
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    pids = [...new Set([...pids, ...galeraPids()])]
    await runTracked("bash", [down], 240_000).catch(() => undefined)
    for (const p of pids) if (pidAlive(p)) killPid(p, "SIGKILL")
  }
  cleanups.push(stop)
  const t0 = Date.now()
  try {
    const r = await runTracked("bash", [up], 300_000)
    pids = galeraPids()
    if (r.code !== 0) throw new Error(`galera-up.sh exit ${r.code}${r.timedOut ? " (timed out)" : ""}: ${r.stdout.slice(-1500)} ${r.stderr.slice(-1500)}`)
    const startupS = (Date.now() - t0) / 1000
    log(`   up in ${startupS.toFixed(1)} s, mariadbd pids ${pids.join(" ")}`)
    const target: Target = {
      name: "Galera",
      engine: `MariaDB Galera (galera-4 ${version})`,
      host: "127.0.0.1",
      ports: GALERA_PORTS,
      user: "sb",
      password: "sb",
      alive: () => pids.every(pidAlive),
      describeDeath: () => `mariadbd exited: ${pids.filter((p) => !pidAlive(p)).join(" ")}`
    }
    const res = await benchTarget(target, () => createProbeTable(target, " ENGINE=InnoDB"))
    return { ...res, startupS }
  } catch (e) {
    log(`   FAILED: ${errText(e)}`)
    return { target: "Galera", engine: "MariaDB Galera", ports: GALERA_PORTS, error: errText(e) }
  } finally {
    await stop()
  }
}

// ---------------------------------------------------------------------------------------------
// report

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(d))

function table(results: ReadonlyArray<TargetResult>): string {
  const rows: Array<Array<string>> = [
    ["target", "tx/s", "p50 ms", "p99 ms", "ign.err", "reconn", "conns/port", "lag p50", "lag p99", "lag max", "n", "idle lag p50/p99", "load 1m"]
  ]
  for (const r of results) {
    const ok = r.run !== undefined
    rows.push([
      r.target,
      ok ? f(r.run!.tps) + (r.run!.ok ? "" : "!") : "FAILED",
      f(r.run?.latencyMs?.p50, 2),
      f(r.run?.latencyMs?.p99Sysbench, 2),
      f(r.run?.ignoredErrors, 0),
      f(r.run?.reconnects, 0),
      r.connectionsPerPort?.join("/") ?? "-",
      f(r.loadLag?.lagMs.p50, 2),
      f(r.loadLag?.lagMs.p99, 2),
      f(r.loadLag?.lagMs.max, 2),
      f(r.loadLag?.samples, 0),
      r.idleLag ? `${f(r.idleLag.lagMs.p50, 2)}/${f(r.idleLag.lagMs.p99, 2)}` : "-",
      r.loadAvg ? f(r.loadAvg.during1mMean, 2) : "-"
    ])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n")
}

function ratios(m: TargetResult, g: TargetResult) {
  const q = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0 ? undefined : r3(a / b)
  return {
    marmot: m.target,
    tps: q(m.run?.tps, g.run?.tps),
    p50: q(m.run?.latencyMs?.p50, g.run?.latencyMs?.p50),
    p99: q(m.run?.latencyMs?.p99Sysbench, g.run?.latencyMs?.p99Sysbench),
    lagP50: q(m.loadLag?.lagMs.p50, g.loadLag?.lagMs.p50),
    lagP99: q(m.loadLag?.lagMs.p99, g.loadLag?.lagMs.p99)
  }
}

async function main(): Promise<number> {
  const onSignal = (sig: NodeJS.Signals, code: number) =>
    process.once(sig, () => {
      log(`\n${sig}: stopping everything`)
      void stopEverything().then(() => process.exit(code))
    })
  onSignal("SIGINT", 130)
  onSignal("SIGTERM", 143)
  const startedAt = new Date().toISOString()
  try {
    log(
      `cluster bench: oltp_insert ${TIME} s, ${THREADS} threads, ${TABLES}x${TABLE_SIZE} rows, levels ${LEVELS.join(",")}, ` +
        `${WORKERS} worker(s)/node; ${os.cpus().length} CPUs, load average ${loadavg().join(" ")}`
    )
    log(`lag probe: ${PROBE_HOW}`)
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
    log("(p50 from sysbench --histogram, p99 = sysbench's 99th percentile; lag = ack on node 1 -> visible on node 3, under load;")
    log(" conns/port = established server-side connections per node during the run, including the probe's 1 on node 1 and 1 on node 3;")
    log(" '!' after tx/s = sysbench reported errors or a non-zero exit)")
    const rat = galera ? results.filter((r) => r.engine === "marmot-ts").map((m) => ratios(m, galera)) : []
    for (const x of rat) {
      log(`ratio ${x.marmot} / Galera: tx/s ${f(x.tps, 3)}, p50 ${f(x.p50, 2)}, p99 ${f(x.p99, 2)}, lag p50 ${f(x.lagP50, 2)}, lag p99 ${f(x.lagP99, 2)}`)
    }
    if (galeraSkipped) log(`Galera: skipped (${galeraSkipped})`)
    const q = results.find((r) => r.target === "marmot QUORUM")
    if (q?.run?.tps !== undefined) {
      log(
        `issue 4 targets at QUORUM: tx/s ${f(q.run.tps)} (target >= 5000: ${q.run.tps >= 5000 ? "met" : "NOT met"}), ` +
          `lag p99 ${f(q.loadLag?.lagMs.p99, 2)} ms (target <= 10: ${(q.loadLag?.lagMs.p99 ?? Infinity) <= 10 ? "met" : "NOT met"})`
      )
    }
    for (const r of results) if (r.rows && r.rows.note !== "all nodes equal, no lost or extra rows") log(`ROWS ${r.target}: ${r.rows.note}`)
    for (const r of results) if (r.error) log(`ERROR ${r.target}: ${r.error.slice(0, 2000)}`)

    const stamp = new Date().toISOString().replace(/[:.]/g, "-")
    const dir = path.join(repoRoot, "bench", "results")
    mkdirSync(dir, { recursive: true })
    const file = path.join(dir, `cluster-${stamp}.json`)
    writeFileSync(
      file,
      JSON.stringify(
        {
          startedAt,
          finishedAt: new Date().toISOString(),
          config: { time: TIME, threads: THREADS, tables: TABLES, tableSize: TABLE_SIZE, workersPerNode: WORKERS, levels: LEVELS, probeGapMs: PROBE_GAP_MS, idleSamples: IDLE_SAMPLES },
          machine: { cpus: os.cpus().length, node: process.version, platform: `${os.type()} ${os.release()}`, loadavgAtEnd: loadavg() },
          probe: PROBE_HOW,
          results,
          ratiosMarmotOverGalera: rat,
          ...(galeraSkipped ? { galeraSkipped } : {})
        },
        null,
        2
      ) + "\n"
    )
    log(`results: ${path.relative(repoRoot, file)}`)
    const bad = results.filter((r) => r.error !== undefined || !r.run?.ok || !r.rows?.converged)
    return bad.length > 0 ? 1 : 0
  } finally {
    await stopEverything()
  }
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    console.error(e)
    await stopEverything()
    process.exit(1)
  }
)
