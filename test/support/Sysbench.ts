/**
 * Running sysbench 1.0 (Debian's, MySQL driver = libmariadb) against a server and reading its report.
 */
import { run, type RunResult } from "./Servers.ts"

export interface SysbenchTarget {
  readonly host: string
  /** One port, or several: sysbench hands its connections out over them round-robin. */
  readonly port: number | ReadonlyArray<number>
  readonly user?: string
  readonly password?: string
  readonly db?: string
}

export interface SysbenchOptions {
  readonly tables: number
  readonly tableSize: number
  readonly threads?: number
  readonly time?: number
  readonly psMode?: "auto" | "disable"
  readonly timeoutMs?: number
  /** Print the latency histogram (for percentiles other than the 95th: see `histogramPercentile`). */
  readonly histogram?: boolean
  /** AUTO_INCREMENT ids: default only for oltp_insert (see `sysbenchArgs`). */
  readonly autoInc?: boolean
}

/** The command line of `sysbench <workload> … <command>`. */
export function sysbenchArgs(
  workload: string,
  command: "prepare" | "run" | "cleanup",
  target: SysbenchTarget,
  opts: SysbenchOptions
): Array<string> {
  const ports = typeof target.port === "number" ? [target.port] : target.port
  const args = [
    workload,
    "--db-driver=mysql",
    `--mysql-host=${target.host}`,
    `--mysql-port=${ports.join(",")}`,
    `--mysql-user=${target.user ?? "root"}`,
    ...(target.password ? [`--mysql-password=${target.password}`] : []),
    `--mysql-db=${target.db ?? "sbtest"}`,
    `--tables=${opts.tables}`,
    `--table-size=${opts.tableSize}`,
    // The read workloads look rows up by `id = <1..table-size>`: their tables get client-side ids
    // 1..table-size, as with AUTO_INCREMENT the rows would get our cluster-unique (time-based) ids
    // and the lookups would find nothing. oltp_insert keeps AUTO_INCREMENT (each event inserts id 0)
    // unless told otherwise (with it off, each event inserts a unique random id).
    ...((opts.autoInc ?? workload === "oltp_insert") ? [] : ["--auto-inc=off"])
  ]
  if (command === "run") {
    args.push(
      `--time=${opts.time ?? 10}`,
      `--threads=${opts.threads ?? 4}`,
      `--db-ps-mode=${opts.psMode ?? "auto"}`,
      "--percentile=95",
      ...(opts.histogram ? ["--histogram=on"] : []),
      "--report-interval=0"
    )
  }
  args.push(command)
  return args
}

export function sysbench(
  workload: string,
  command: "prepare" | "run" | "cleanup",
  target: SysbenchTarget,
  opts: SysbenchOptions
): Promise<RunResult> {
  return run("sysbench", sysbenchArgs(workload, command, target, opts), {
    timeoutMs: opts.timeoutMs ?? ((opts.time ?? 10) + 120) * 1000
  })
}

export interface SysbenchReport {
  readonly reads: number
  readonly writes: number
  readonly other: number
  readonly queries: number
  readonly qps: number
  readonly transactions: number
  readonly tps: number
  readonly ignoredErrors: number
  readonly reconnects: number
  readonly totalTimeS: number
  readonly events: number
  readonly latencyMs: { readonly min: number; readonly avg: number; readonly max: number; readonly p95: number }
}

/** Parse the "SQL statistics" / "General statistics" / "Latency" sections of `sysbench … run`. */
export function parseSysbench(stdout: string): SysbenchReport | undefined {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(stdout)
    return m ? Number(m[1]) : undefined
  }
  const pair = (re: RegExp): [number, number] | undefined => {
    const m = re.exec(stdout)
    return m ? [Number(m[1]), Number(m[2])] : undefined
  }
  const tx = pair(/^\s*transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)/m)
  const q = pair(/^\s*queries:\s+(\d+)\s+\(([\d.]+) per sec\.\)/m)
  const ign = pair(/^\s*ignored errors:\s+(\d+)\s+\(([\d.]+) per sec\.\)/m)
  const rec = pair(/^\s*reconnects:\s+(\d+)\s+\(([\d.]+) per sec\.\)/m)
  const reads = num(/^\s*read:\s+(\d+)/m)
  const writes = num(/^\s*write:\s+(\d+)/m)
  const other = num(/^\s*other:\s+(\d+)/m)
  const totalTimeS = num(/^\s*total time:\s+([\d.]+)s/m)
  const events = num(/^\s*total number of events:\s+(\d+)/m)
  const min = num(/^\s*min:\s+([\d.]+)/m)
  const avg = num(/^\s*avg:\s+([\d.]+)/m)
  const max = num(/^\s*max:\s+([\d.]+)/m)
  const p95 = num(/^\s*95th percentile:\s+([\d.]+)/m)
  if (
    tx === undefined || q === undefined || ign === undefined || rec === undefined || reads === undefined ||
    writes === undefined || other === undefined || totalTimeS === undefined || events === undefined ||
    min === undefined || avg === undefined || max === undefined || p95 === undefined
  ) {
    return undefined
  }
  return {
    reads,
    writes,
    other,
    queries: q[0],
    qps: q[1],
    transactions: tx[0],
    tps: tx[1],
    ignoredErrors: ign[0],
    reconnects: rec[0],
    totalTimeS,
    events,
    latencyMs: { min, avg, max, p95 }
  }
}

/**
 * The lines sysbench prints when a statement or a step fails ("FATAL: mysql_stmt_execute() returned
 * error 1146 …", "FATAL: `thread_run' function failed …", Lua errors), or "" when there are none.
 * The report's "ignored errors:" line is not one of them.
 */
export function sysbenchErrors(r: Pick<RunResult, "stdout" | "stderr">): string {
  return `${r.stdout}\n${r.stderr}`
    .split("\n")
    .filter((l) => !/^\s*ignored errors:/.test(l) && /FATAL|ALERT|returned error|[Ee]rror:|failed/.test(l))
    .slice(0, 20)
    .join("\n")
}

/**
 * The p-th percentile (ms) from the table `--histogram=on` prints (bucket value | bar count): the
 * first bucket at which the running count reaches p % of all events. sysbench's own "95th
 * percentile" line is computed from the same buckets.
 */
export function histogramPercentile(stdout: string, p: number): number | undefined {
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
