/**
 * A bench target as MySQL endpoints (one server, or a cluster's three nodes): connecting, waiting,
 * checking that the nodes hold the same rows, and what the machine does while sysbench runs.
 */
import { readFileSync } from "node:fs"
import os from "node:os"
import mysql from "mysql2/promise"
import type { Connection, RowDataPacket } from "mysql2/promise"
import { sleep } from "./Processes.ts"

export interface Target {
  readonly name: string
  readonly host: string
  /** One port per node. */
  readonly ports: ReadonlyArray<number>
  readonly user: string
  readonly password: string
  readonly engine: string
  /** True while all its server processes run. */
  alive(): boolean
  describeDeath(): string
}

export const connect = async (t: Target, node: number, database?: string): Promise<Connection> => {
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

export const errText = (e: unknown) => {
  const x = e as { errno?: number; code?: string; message?: string }
  return `${x.errno ?? x.code ?? ""} ${x.message ?? String(e)}`.trim()
}

export async function until(what: string, ms: number, check: () => Promise<boolean>, stepMs = 250): Promise<void> {
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

export const loadavg = () => os.loadavg().map((x) => Number(x.toFixed(2))) as [number, number, number]
export const r3 = (x: number) => Math.round(x * 1000) / 1000

/** Run one statement on node `node` (a fresh connection). */
export async function execOn(t: Target, node: number, sql: string, database?: string): Promise<void> {
  const c = await connect(t, node, database)
  try {
    await c.query(sql)
  } finally {
    c.destroy()
  }
}

/** Rows in sbtest1..`tables` on `node`. */
export async function sbtestRows(t: Target, node: number, tables: number): Promise<number> {
  const c = await connect(t, node, "sbtest")
  try {
    let total = 0
    for (let i = 1; i <= tables; i++) {
      const [rows] = await c.query<Array<RowDataPacket>>(`SELECT COUNT(*) AS n FROM sbtest${i}`)
      total += Number(rows[0]!["n"])
    }
    return total
  } finally {
    c.destroy()
  }
}

/** Wait until every node holds `rows` rows over sbtest1..`tables` (after a prepare through node 1). */
export const untilPrepared = (t: Target, tables: number, rows: number) =>
  until("prepared rows on every node", 120_000, async () => {
    for (const i of t.ports.keys()) if ((await sbtestRows(t, i, tables)) !== rows) return false
    return true
  }, 500)

export interface RowCheck {
  /** Per node: total rows over sbtest1..N, and rows in lagprobe. */
  readonly sbtest: ReadonlyArray<number | string>
  readonly lagprobe: ReadonlyArray<number | string>
  readonly expectedSbtest?: number
  readonly expectedLagprobe: number
  readonly converged: boolean
  readonly note: string
}

async function countRows(t: Target, node: number, tables: number): Promise<[number, number]> {
  const total = await sbtestRows(t, node, tables)
  const c = await connect(t, node, "sbtest")
  try {
    const [p] = await c.query<Array<RowDataPacket>>("SELECT COUNT(*) AS n FROM lagprobe")
    return [total, Number(p[0]!["n"])]
  } finally {
    c.destroy()
  }
}

/** Wait (up to 30 s) until the three nodes hold the same row counts, then compare with what was acknowledged. */
export async function checkRows(t: Target, tables: number, expectedSbtest: number | undefined, probeAcked: number, probeErrors: number): Promise<RowCheck> {
  let last: Array<[number, number] | string> = []
  const deadline = Date.now() + 30_000
  let converged = false
  while (Date.now() < deadline) {
    last = await Promise.all([0, 1, 2].map((i) => countRows(t, i, tables).catch((e) => errText(e))))
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

/** The lag probe's table, created through node 1; returns once the last node has it. */
export async function createProbeTable(t: Target, engineClause: string) {
  await execOn(t, 0, "DROP TABLE IF EXISTS lagprobe", "sbtest")
  await execOn(t, 0, `CREATE TABLE lagprobe (id BIGINT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, t BIGINT NOT NULL)${engineClause}`, "sbtest")
  await until(`lagprobe visible on node ${t.ports.length}`, 60_000, async () => {
    await execOn(t, t.ports.length - 1, "SELECT COUNT(*) FROM lagprobe", "sbtest")
    return true
  })
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

export class Sampler {
  readonly load: Array<number> = []
  maxConns: Array<number>
  private timer: NodeJS.Timeout | undefined
  constructor(private readonly ports: ReadonlyArray<number>) {
    this.maxConns = ports.map(() => 0)
  }
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
  /** The 1-minute load average over the samples: mean and max. */
  load1m() {
    const xs = this.load
    return { during1mMean: r3(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)), during1mMax: r3(Math.max(0, ...xs)) }
  }
}

