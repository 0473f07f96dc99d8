/**
 * What a point SELECT costs end to end on a standalone node (one MySQL worker process, real
 * socket), with `[telemetry]` off and on (spans made, no export, sample_ratio 1): the cost of the
 * worker's metrics and of a `mysql.read` span per read. The tree to measure is the argument, so an
 * older checkout runs the same workload:
 * `node --import tsx bench/read-overhead.ts [tree] [selects] [rounds]`.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import mysql from "mysql2/promise"

const tree = resolve(process.argv[2] ?? ".")
const selects = Number(process.argv[3] ?? 20_000)
const rounds = Number(process.argv[4] ?? 3)

const measure = async (telemetry: boolean): Promise<number> => {
  const dir = mkdtempSync(join(tmpdir(), "marmot-read-bench-"))
  const config = join(dir, "marmot.toml")
  writeFileSync(config, telemetry ? "[telemetry]\nenabled = true\nsample_ratio = 1.0\n" : "")
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--config", config, "--data-dir", join(dir, "data"), "--mysql-port", "0", "--workers", "1"], {
    cwd: tree,
    stdio: ["ignore", "pipe", "inherit"]
  })
  try {
    const port = await new Promise<number>((ok, fail) => {
      let out = ""
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString()
        const m = /mysql=[\d.]+:(\d+)/.exec(out)
        if (m) ok(Number(m[1]))
      })
      child.once("exit", (code) => fail(new Error(`exited ${code}`)))
    })
    const c = await mysql.createConnection({ host: "127.0.0.1", port, user: "root", password: "" })
    await c.query("CREATE DATABASE bench")
    await c.query("CREATE TABLE bench.t (id INT PRIMARY KEY, v VARCHAR(20))")
    await c.query(`INSERT INTO bench.t VALUES ${Array.from({ length: 100 }, (_, i) => `(${i}, 'v${i}')`).join(", ")}`)
    await c.query("USE bench")
    for (let i = 0; i < 2000; i++) await c.query(`SELECT v FROM t WHERE id = ${i % 100}`)
    const started = performance.now()
    for (let i = 0; i < selects; i++) await c.query(`SELECT v FROM t WHERE id = ${i % 100}`)
    const us = ((performance.now() - started) * 1000) / selects
    c.destroy()
    return us
  } finally {
    child.kill("SIGTERM")
    await new Promise((r) => child.once("exit", r))
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The pieces alone, in this process (steadier than the end-to-end figures on a loaded machine): ns per statement. */
const pieces = async () => {
  const { QueryMetrics } = await import(join(tree, "src/mysql/server/QueryMetrics.ts")) as typeof import("../src/mysql/server/QueryMetrics.ts")
  const { readSpans } = await import(join(tree, "src/telemetry/ReadSpans.ts")) as typeof import("../src/telemetry/ReadSpans.ts")
  const Telemetry = await import(join(tree, "src/telemetry/Telemetry.ts")) as typeof import("../src/telemetry/Telemetry.ts")
  const { Effect } = await import("effect")
  const time = (n: number, f: () => void) => {
    for (let i = 0; i < n / 10; i++) f()
    const started = performance.now()
    for (let i = 0; i < n; i++) f()
    return ((performance.now() - started) * 1e6) / n
  }
  const metrics = new QueryMetrics(() => performance.now())
  const metricsNs = time(1_000_000, () => metrics.statement("select", metrics.now()))
  const spanNs = async (ratio: number) => {
    const layer = Telemetry.layer({ enabled: true, otlpEndpoint: "", serviceName: "bench", sampleRatio: ratio }, { nodeId: 1, process: "worker" })
    const spans = await Effect.runPromise(Effect.provide(readSpans, layer))
    return time(200_000, () => spans.start("bench", "select").end())
  }
  console.log(
    `per statement: metrics ${metricsNs.toFixed(0)} ns; mysql.read span ${(await spanNs(1)).toFixed(0)} ns sampled, ` +
      `${(await spanNs(0)).toFixed(0)} ns sampled out; tracing off: no span at all`
  )
}
// an older tree has neither piece: only the end-to-end figures
if (existsSync(join(tree, "src/telemetry/ReadSpans.ts"))) await pieces()

console.log(`${tree}: ${selects} point selects on one connection, ${rounds} round(s), µs/select`)
for (let round = 1; round <= rounds; round++) {
  const off = await measure(false)
  const on = await measure(true)
  console.log(`round ${round}: telemetry off ${off.toFixed(1)}, on ${on.toFixed(1)}`)
}
