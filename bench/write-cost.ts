/**
 * CPU cost of a replicated write: 3 marmot-ts nodes (1 process each), WRITE_COST_N autocommit
 * single-row INSERTs at the level given (WRITE_COST_LEVEL, QUORUM) from WRITE_COST_CONNS connections
 * spread over the three nodes. Reports the CPU time (user + system, from /proc/<pid>/stat) the three
 * node processes spent per acknowledged write, minus what they spend idle over the same wall time
 * (gossip, anti-entropy), and the same for a single node with the same client load. CPU time per
 * write does not depend on how busy the machine is, so the figure is comparable between runs on a
 * shared machine where tx/s is not.
 *
 *   node --import tsx bench/write-cost.ts
 *
 * Environment: WRITE_COST_N (2000), WRITE_COST_CONNS (6), WRITE_COST_LEVEL (QUORUM|ONE|ALL).
 */
import { readFileSync } from "node:fs"
import { connect, type Target } from "./lib/Endpoints.ts"
import { startMarmotCluster } from "./lib/MarmotCluster.ts"
import { log, runMain, sleep } from "./lib/Processes.ts"
import { startMarmot } from "../test/support/Servers.ts"

const N = Number(process.env["WRITE_COST_N"] ?? 2000)
const CONNS = Number(process.env["WRITE_COST_CONNS"] ?? 6)
const LEVEL = (process.env["WRITE_COST_LEVEL"] ?? "QUORUM").toUpperCase()
const TICK_MS = 10 // USER_HZ = 100 on Linux

const cpuMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}
const cpuOf = (pids: ReadonlyArray<number>) => pids.reduce((s, p) => s + cpuMs(p), 0)

async function writeLoad(target: Target, nodes: number): Promise<{ ms: number; errors: number }> {
  const conns = await Promise.all(Array.from({ length: CONNS }, (_, i) => connect(target, i % nodes, "bench")))
  let next = 0
  let errors = 0
  const t0 = performance.now()
  await Promise.all(conns.map(async (c) => {
    for (let id = next++; id < N; id = next++) {
      try {
        await c.query("INSERT INTO t (id, k, v) VALUES (?, ?, ?)", [id, id % 97, `value-${id}`])
      } catch {
        errors++
      }
    }
  }))
  const ms = performance.now() - t0
  for (const c of conns) c.destroy()
  return { ms, errors }
}

async function measure(name: string, target: Target, pids: ReadonlyArray<number>, nodes: number) {
  const setup = await connect(target, 0)
  await setup.query("CREATE DATABASE IF NOT EXISTS bench")
  await setup.query("CREATE TABLE IF NOT EXISTS bench.t (id INT PRIMARY KEY, k INT, v VARCHAR(64))")
  setup.destroy()
  await sleep(3000)
  const idleWallMs = 5000
  const idle0 = cpuOf(pids)
  await sleep(idleWallMs)
  const idlePerMs = (cpuOf(pids) - idle0) / idleWallMs
  const c0 = cpuOf(pids)
  const { ms, errors } = await writeLoad(target, nodes)
  await sleep(1000) // let the last applies on the other nodes finish
  const spent = cpuOf(pids) - c0 - idlePerMs * (ms + 1000)
  const acked = N - errors
  log(`${name}: ${acked} writes (${errors} errors) in ${(ms / 1000).toFixed(1)} s = ${(acked / ms * 1000).toFixed(0)} tx/s; ` +
    `CPU ${(spent / acked * 1000).toFixed(0)} µs per write over all node processes ` +
    `(idle ${(idlePerMs * 100).toFixed(1)}% of a core)`)
  return spent / acked
}

runMain(async () => {
  log(`write cost: ${N} autocommit INSERTs from ${CONNS} connections`)
  const single = await startMarmot({ args: ["--workers", "1"] })
  const singleTarget: Target = {
    name: "single", engine: "marmot-ts", host: single.host, ports: [single.port], user: "root", password: "",
    alive: () => single.alive(), describeDeath: () => single.output().slice(-2000)
  }
  const one = await measure("single node", singleTarget, [single.pid], 1)
  await single.stop()
  const { target, nodes } = await startMarmotCluster(LEVEL, 1)
  const three = await measure(`3 nodes ${LEVEL}`, target, nodes.map((n) => n.pid), 3)
  log(`cluster / single CPU per write: ${(three / one).toFixed(1)}x`)
  return 0
})
