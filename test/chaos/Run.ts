/**
 * One chaos run: start 3 nodes, create the tables, run the workload while the nemesis injects the
 * seed's faults, stop both, heal everything, wait until every node holds the same rows (full dumps
 * compared, sha256 printed), then check the history against the final tables.
 */
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { RowDataPacket } from "mysql2/promise"
import { ChaosCluster, faketimeAvailable } from "./ChaosCluster.ts"
import { checkAppends, checkCounters, checkSets, type CheckResult, type FinalState } from "./Checker.ts"
import { History } from "./History.ts"
import { chooseTopology } from "./Net.ts"
import { DEFAULT_FAULTS, describeFault, type FaultKind, type NemesisLogEntry, schedule, startNemesis } from "./Nemesis.ts"
import { DB, SCHEMA, SEED_ROWS, sleep, startWorkload, TABLES, withTimeout } from "./Workload.ts"

export interface ChaosOptions {
  readonly seed: number
  /** How long the workload and the nemesis run. */
  readonly durationMs: number
  readonly clients: number
  readonly thinkMs?: number
  readonly opTimeoutMs?: number
  readonly level?: "ONE" | "QUORUM" | "ALL"
  readonly faults?: ReadonlyArray<FaultKind>
  readonly topology?: "auto" | "netns" | "loopback"
  readonly convergeTimeoutMs?: number
  readonly log?: (line: string) => void
}

export interface Convergence {
  readonly converged: boolean
  readonly ms: number
  /** sha256 of each node's dump (last poll). */
  readonly checksums: Array<string>
  /** What differs, when it did not converge. */
  readonly detail: Array<string>
}

export interface ChaosReport {
  readonly seed: number
  readonly topology: string
  readonly faketime: boolean
  readonly level: string
  readonly timings: { startMs: number; workloadMs: number; healMs: number; convergeMs: number; totalMs: number }
  readonly nemesis: Array<NemesisLogEntry>
  readonly ops: number
  readonly summary: Record<string, Record<string, number>>
  readonly errors: Array<[string, number]>
  readonly convergence: Convergence
  readonly crashes: Array<{ node: number; status: string; tail: string }>
  readonly checks: Array<CheckResult>
  /** Every anomaly of every check, plus divergence and crashes: empty means the run passed. */
  readonly anomalies: Array<string>
  /** Where node output and the history were kept (only when there were anomalies). */
  readonly keptDir?: string
}

type Dump = Record<string, Array<Record<string, unknown>>>

async function dump(cluster: ChaosCluster, i: number): Promise<Dump> {
  const c = await cluster.connect(i, DB, 5000)
  try {
    const out: Dump = {}
    for (const t of TABLES) {
      const [rows] = await withTimeout(c.query<Array<RowDataPacket>>(`SELECT * FROM ${t.name} ORDER BY ${t.orderBy}`), 10_000)
      out[t.name] = rows.map((r) => ({ ...r }))
    }
    return out
  } finally {
    c.destroy()
  }
}

const sha = (d: Dump) => createHash("sha256").update(JSON.stringify(d)).digest("hex").slice(0, 16)

function diff(dumps: Array<Dump | string>): Array<string> {
  const out: Array<string> = []
  dumps.forEach((d, i) => {
    if (typeof d === "string") out.push(`node ${i + 1} did not answer: ${d}`)
  })
  const ok = dumps.filter((d): d is Dump => typeof d !== "string")
  if (ok.length < 2) return out
  for (const t of TABLES) {
    const sets = dumps.map((d) => (typeof d === "string" ? undefined : new Set(d[t.name]!.map((r) => JSON.stringify(r)))))
    const union = new Set<string>()
    for (const s of sets) for (const r of s ?? []) union.add(r)
    const differing = [...union].filter((r) => sets.some((s) => s !== undefined && !s.has(r)))
    if (differing.length > 0) {
      out.push(`table ${t.name}: ${differing.length} rows differ; counts ${sets.map((s) => s?.size ?? "?").join("/")}`)
      for (const r of differing.slice(0, 10)) out.push(`  ${r} on nodes ${sets.map((s, i) => (s?.has(r) ? i + 1 : "")).filter((x) => x !== "").join(",")}`)
    }
  }
  return out
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((l: string) => console.log(l))
  const t0 = Date.now()
  const tag = `${process.pid}${Math.floor(Math.random() * 1000)}`
  const runDir = mkdtempSync(path.join(os.tmpdir(), "marmot-chaos-"))
  let keep = false
  // a run killed by a signal (main.ts exits on SIGINT/SIGTERM) still removes its data
  const removeRunDir = () => {
    if (!keep) rmSync(runDir, { recursive: true, force: true })
  }
  process.once("exit", removeRunDir)
  const { topology, note } = chooseTopology(3, tag, options.topology ?? "auto")
  const faketime = faketimeAvailable()
  const level = options.level ?? "QUORUM"
  const faults = schedule(options.seed, options.durationMs, 3, options.faults ?? DEFAULT_FAULTS)
  log(`chaos: seed ${options.seed}, ${options.durationMs} ms, ${options.clients} clients at ${level}; ${note}; clock skew ${faketime ? "by libfaketime" : "unavailable (no libfaketime)"}`)
  log(`chaos: schedule ${faults.map(describeFault).join("; ")}`)
  let cluster: ChaosCluster | undefined
  const history = new History()
  try {
    cluster = await ChaosCluster.start({ size: 3, topology, runDir, useFaketime: faketime, log })
    const c = cluster
    // Wait until every node has seen the other two ALIVE: a node whose seeds have not answered yet
    // acknowledges QUORUM writes alone (test/chaos/formation.test.ts), and the schema created there
    // would reach the others only by anti-entropy, after the first INSERTs were refused with 1049.
    const formedBy = Date.now() + 90_000
    const sees = (i: number, j: number) => new RegExp(`member ${j + 1} \\([^)]*\\) added as ALIVE`).test(c.nodes[i]!.server?.output() ?? "")
    while (!c.nodes.every((n) => c.nodes.every((m) => m.index === n.index || sees(n.index, m.index)))) {
      if (Date.now() > formedBy) throw new Error("the cluster did not form: not every node saw the other two ALIVE")
      await sleep(200)
    }
    const setup = await c.connect(0)
    try {
      for (const s of [...SCHEMA, ...SEED_ROWS]) {
        const deadline = Date.now() + 60_000
        for (;;) {
          const e = await setup.query(s).then(() => undefined, (x: { errno?: number }) => x)
          // a seed row whose earlier attempt was acknowledged late is there already
          if (e === undefined || e.errno === 1062) break
          if (Date.now() > deadline) throw new Error(`cluster setup failed at ${s}: ${String(e)}`)
          await sleep(300)
        }
      }
    } finally {
      setup.destroy()
    }
    // every node holds the seed rows before the clients start (a counter row missing on a node would
    // make its increments no-ops)
    for (let i = 0; i < 3; i++) {
      const deadline = Date.now() + 30_000
      for (;;) {
        const d = await dump(c, i).catch(() => undefined)
        if (d !== undefined && d["counters"]!.length + d["lists"]!.length === SEED_ROWS.length) break
        if (Date.now() > deadline) throw new Error(`node ${i + 1} did not receive the seed rows`)
        await sleep(200)
      }
    }
    const startMs = Date.now() - t0
    log(`chaos: cluster ready after ${startMs} ms`)

    const w0 = Date.now()
    const workload = startWorkload(c, history, {
      clients: options.clients,
      thinkMs: options.thinkMs ?? 20,
      opTimeoutMs: options.opTimeoutMs ?? 10_000,
      seed: options.seed,
      ...(options.level === undefined ? {} : { level: options.level })
    })
    const nemesis = startNemesis(c, faults, () => history.now(), log)
    await sleep(options.durationMs)
    const entries = await nemesis.stop()
    await workload.stop()
    const workloadMs = Date.now() - w0

    const h0 = Date.now()
    await c.healAll()
    const healMs = Date.now() - h0

    const c0 = Date.now()
    let last: Array<Dump | string> = []
    let converged = false
    const convergeTimeout = options.convergeTimeoutMs ?? 60_000
    while (Date.now() - c0 < convergeTimeout) {
      last = await Promise.all([0, 1, 2].map((i) => dump(c, i).catch((e) => String(e))))
      const hashes = last.map((d) => (typeof d === "string" ? d : sha(d)))
      if (last.every((d) => typeof d !== "string") && hashes.every((h) => h === hashes[0])) {
        converged = true
        break
      }
      await sleep(500)
    }
    const convergeMs = Date.now() - c0
    const convergence: Convergence = {
      converged,
      ms: convergeMs,
      checksums: last.map((d) => (typeof d === "string" ? "-" : sha(d))),
      detail: converged ? [] : diff(last)
    }
    log(`chaos: ${converged ? "converged" : "NOT converged"} after ${convergeMs} ms, checksums ${convergence.checksums.join(" ")}`)

    const finalDump = last.find((d): d is Dump => typeof d !== "string")
    const checks: Array<CheckResult> = []
    if (finalDump !== undefined) {
      const final = finalDump as unknown as FinalState
      checks.push(checkSets(history, final), checkCounters(history, final, level), checkAppends(history, final, level))
    }
    const anomalies = [
      ...(converged ? [] : ["divergence: the nodes did not converge", ...convergence.detail]),
      ...(finalDump === undefined ? ["no node answered after healing"] : []),
      ...c.crashes.map((x) => `crash: node ${x.node + 1} exited on its own ${x.status}`),
      ...checks.flatMap((k) => k.anomalies.map((a) => `${k.name}: ${a}`)),
      ...history.ops.filter((o) => o.outcome === undefined).map((o) => `pending: op ${o.id} ${o.f} never completed`)
    ]
    if (anomalies.length > 0) {
      keep = true
      c.nodes.forEach((n) => writeFileSync(path.join(runDir, `n${n.index + 1}.log`), n.server?.output() ?? ""))
      for (const x of c.crashes) writeFileSync(path.join(runDir, `crash-n${x.node + 1}.log`), x.tail)
      writeFileSync(path.join(runDir, "history.json"), JSON.stringify(history.ops))
    }
    const report: ChaosReport = {
      seed: options.seed,
      topology: note,
      faketime,
      level,
      timings: { startMs, workloadMs, healMs, convergeMs, totalMs: Date.now() - t0 },
      nemesis: entries,
      ops: history.ops.length,
      summary: history.summary(),
      errors: history.errors(),
      convergence,
      crashes: c.crashes,
      checks,
      anomalies,
      ...(keep ? { keptDir: runDir } : {})
    }
    return report
  } finally {
    await cluster?.destroy()
    if (cluster === undefined) topology.destroy()
    process.off("exit", removeRunDir)
    removeRunDir()
  }
}

export function formatReport(r: ChaosReport): string {
  const lines = [
    `seed ${r.seed} (replay: npm run chaos -- --seed ${r.seed})`,
    `topology: ${r.topology}; clock skew: ${r.faketime ? "libfaketime" : "unavailable"}; level ${r.level}`,
    `timings: start ${r.timings.startMs} ms, workload ${r.timings.workloadMs} ms, heal ${r.timings.healMs} ms, converge ${r.timings.convergeMs} ms, total ${r.timings.totalMs} ms`,
    `faults: ${r.nemesis.filter((e) => e.skipped === undefined).length} injected, ${r.nemesis.filter((e) => e.skipped !== undefined).length} skipped: ${r.nemesis.map((e) => `${e.fault.kind}${e.skipped === undefined ? "" : "(skipped)"}`).join(", ")}`,
    `operations: ${r.ops}`,
    ...Object.entries(r.summary).map(([f, s]) => `  ${f.padEnd(12)} ok ${s["ok"]}, fail ${s["fail"]}, unknown ${s["info"]}${s["pending"] ? `, pending ${s["pending"]}` : ""}`),
    `errors seen:`,
    ...r.errors.slice(0, 12).map(([e, n]) => `  ${n} × ${e}`),
    `convergence: ${r.convergence.converged ? "yes" : "NO"} (${r.convergence.ms} ms), checksums ${r.convergence.checksums.join(" ")}`,
    ...r.checks.flatMap((c) => [
      `check ${c.name}: ${c.anomalies.length === 0 ? "ok" : `${c.anomalies.length} anomalies`} ${JSON.stringify(c.stats)}`,
      ...(c.allowed.length === 0 ? [] : [`  allowed at ${r.level} (${c.allowed.length}), e.g.:`, ...c.allowed.slice(0, 5).map((a) => `    ${a}`)])
    ]),
    r.anomalies.length === 0 ? "RESULT: no anomalies" : `RESULT: ${r.anomalies.length} anomalies (node logs and history kept in ${r.keptDir})`,
    ...r.anomalies.slice(0, 40).map((a) => `  ${a}`)
  ]
  return lines.join("\n")
}
