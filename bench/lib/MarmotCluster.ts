/**
 * A 3-node marmot-ts cluster on loopback for the benches: ephemeral MySQL and peer ports, temp data
 * dirs, a cluster secret, `[replication] default_write_consistency` = the level. Formed once CREATE
 * DATABASE sbtest at ALL succeeds on node 1 and every node shows the database.
 */
import type { RowDataPacket } from "mysql2/promise"
import { freePort, startMarmot, type RunningServer } from "../../test/support/Servers.ts"
import { connect, until, type Target } from "./Endpoints.ts"
import { atStop, log } from "./Processes.ts"

const SECRET = `bench-${process.pid}-${Date.now().toString(36)}`

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

export async function startMarmotCluster(
  level: string,
  workers: number
): Promise<{ target: Target; nodes: Array<RunningServer>; startupS: number; outputFrom: Array<number> }> {
  const t0 = Date.now()
  const peers = [await freePort(), await freePort(), await freePort()]
  const nodes: Array<RunningServer> = []
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  atStop(stop)
  const started = await Promise.allSettled(peers.map((peer, i) =>
    startMarmot({
      config: marmotConfig(peer, peers[0]!, level),
      args: ["--node-id", String(i + 1), "--workers", String(workers)],
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

export function warningsOf(output: string, node: number) {
  const lines = output.split("\n").filter((l) => /level=(WARN|ERROR|FATAL)/.test(l))
  const samples = [...new Set(lines.map((l) => (/message="([^"]*)"/.exec(l)?.[1] ?? l).slice(0, 300)))].slice(0, 20)
  return { node, count: lines.length, samples, lines: lines.slice(0, 60).map((l) => l.slice(0, 600)) }
}

