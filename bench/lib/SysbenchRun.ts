/**
 * One `sysbench … run` as the benches record it: sysbench's report, p50/p95/p99 latency from its
 * histogram, and whether it counts (exit 0, a report with transactions, no error lines).
 */
import {
  histogramPercentile, parseSysbench, sysbenchArgs, sysbenchErrors, type SysbenchOptions, type SysbenchReport
} from "../../test/support/Sysbench.ts"
import { untilPrepared, type Target } from "./Endpoints.ts"
import { log, runTracked, type Ran } from "./Processes.ts"

export interface Percentiles {
  readonly p50: number
  readonly p95: number
  readonly p99: number
}

export interface SysbenchRun {
  readonly ok: boolean
  readonly exitCode: number | null
  readonly report?: SysbenchReport
  /** From `--histogram=on` (ms); p95 falls back to sysbench's own line. */
  readonly latencyMs?: Percentiles
  /** FATAL / error lines sysbench printed (first 20). */
  readonly errors: string
  /** The end of stdout and stderr when the run did not count. */
  readonly tail?: string
}

export function readRun(r: Ran): SysbenchRun {
  const report = parseSysbench(r.stdout)
  const errors = sysbenchErrors(r)
  const ok = r.code === 0 && !r.timedOut && report !== undefined && report.transactions > 0 && errors === ""
  const p = (n: number) => histogramPercentile(r.stdout, n)
  const latencyMs = report === undefined ? undefined : {
    p50: p(50) ?? NaN,
    p95: p(95) ?? report.latencyMs.p95,
    p99: p(99) ?? NaN
  }
  return {
    ok,
    exitCode: r.code,
    ...(report ? { report } : {}),
    ...(latencyMs ? { latencyMs } : {}),
    errors,
    ...(ok ? {} : { tail: `${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}${r.timedOut ? "\n(timed out)" : ""}` })
  }
}

/** A step that is not a measured run (prepare, cleanup): did it succeed, how long it took. */
export interface StepResult {
  readonly ok: boolean
  readonly seconds: number
  readonly error?: string
}

export function readStep(r: Ran, seconds: number): StepResult {
  const errors = sysbenchErrors(r)
  const ok = r.code === 0 && !r.timedOut && errors === ""
  return {
    ok,
    seconds,
    ...(ok ? {} : { error: `exit ${r.code}${r.timedOut ? " (timed out)" : ""}\n${errors || r.stderr.slice(-1500)}` })
  }
}

const endpoint = (t: Target, ports: ReadonlyArray<number>) => ({ host: t.host, port: ports, user: t.user, password: t.password })

/**
 * `sysbench <workload> prepare` through node 1, then wait until every node holds the rows. The
 * error, if any, says which of the two failed.
 */
export async function prepareTables(t: Target, workload: string, opts: SysbenchOptions): Promise<StepResult> {
  log(`   prepare (${opts.tables} x ${opts.tableSize} rows) through node 1`)
  const t0 = Date.now()
  const ran = await runTracked("sysbench", sysbenchArgs(workload, "prepare", endpoint(t, [t.ports[0]!]), opts), 600_000)
  const prepared = readStep(ran, (Date.now() - t0) / 1000)
  if (!prepared.ok) {
    log(`   prepare FAILED: ${prepared.error}`)
    return prepared
  }
  log(`   prepared in ${prepared.seconds.toFixed(1)} s`)
  if (t.ports.length === 1) return prepared
  try {
    await untilPrepared(t, opts.tables, opts.tables * opts.tableSize)
    return { ...prepared, seconds: (Date.now() - t0) / 1000 }
  } catch (e) {
    return { ok: false, seconds: (Date.now() - t0) / 1000, error: String(e) }
  }
}

/** `sysbench <workload> run` with its connections spread over all of the target's ports, latency histogram on. */
export async function runSysbench(t: Target, workload: string, opts: SysbenchOptions & { readonly time: number }): Promise<SysbenchRun> {
  const args = sysbenchArgs(workload, "run", endpoint(t, t.ports), { ...opts, histogram: true })
  return readRun(await runTracked("sysbench", args, (opts.time + 120) * 1000))
}

/** One line: throughput, latency, errors. */
export const describeRun = (run: SysbenchRun) =>
  `${run.report?.tps.toFixed(1) ?? "-"} tx/s, ${run.report?.qps.toFixed(1) ?? "-"} q/s, ` +
  `p50/p95/p99 ${run.latencyMs?.p50 ?? "-"}/${run.latencyMs?.p95 ?? "-"}/${run.latencyMs?.p99 ?? "-"} ms, ` +
  `ignored errors ${run.report?.ignoredErrors ?? "-"}, reconnects ${run.report?.reconnects ?? "-"}` +
  (run.ok ? "" : `; FAILED (exit ${run.exitCode}): ${run.errors || run.tail}`)
