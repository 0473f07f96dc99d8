/**
 * `npm run bench:catchup`: how long a node that was down while the cluster took writes needs,
 * once restarted, to be identical again (issue 5's target: at most 15 s after 5 minutes of writes at
 * half the cluster's throughput).
 *
 * Three real nodes on loopback (one MySQL worker each). First the cluster's throughput is measured:
 * CATCHUP_CLIENTS connections (8) write as fast as they can for 10 s, half to node 1, half to node 2
 * (an insert of a new row or an update of an existing one, autocommit, QUORUM). Node 3 is stopped
 * by its pid; the same clients write at half that rate for CATCHUP_MINUTES (5; CATCHUP_SECONDS
 * overrides); writes stop, node 3 restarts on its data directory, and the time until every node's
 * per-table checksums (admin API) are equal is reported, from the restart and from node 3's ready
 * line. Results: printed, and written to bench/results/catchup-<timestamp>.json.
 */
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { Connection } from "mysql2/promise"
import { writeResults } from "./lib/Results.ts"
import { clusterSections, connectTo, until } from "../test/support/Cluster.ts"
import { freePort, type RunningServer, startMarmot } from "../test/support/Servers.ts"

const seconds = Number(process.env["CATCHUP_SECONDS"] ?? Number(process.env["CATCHUP_MINUTES"] ?? 5) * 60)
const clients = Number(process.env["CATCHUP_CLIENTS"] ?? 8)
const probeSeconds = 10
const secret = "bench-catchup"
const root = mkdtempSync(path.join(os.tmpdir(), "marmot-catchup-"))

interface Node {
  readonly index: number
  readonly peerPort: number
  readonly adminPort: number
  readonly dataDir: string
  server: RunningServer
}

const start = async (node: Omit<Node, "server">, seedPort: number): Promise<RunningServer> =>
  startMarmot({
    config: clusterSections({ peerPort: node.peerPort, seeds: [`127.0.0.1:${seedPort}`], secret, adminPort: node.adminPort }),
    args: ["--node-id", String(node.index + 1), "--workers", "1"],
    dataDir: node.dataDir,
    readyTimeoutMs: 120_000
  })

const checksums = async (node: Node): Promise<string> => {
  const response = await fetch(`http://127.0.0.1:${node.adminPort}/admin/checksums`, { headers: { "x-marmot-secret": secret } })
  const body = await response.json() as { databases?: Record<string, unknown> }
  return JSON.stringify(body.databases?.["bench"] ?? null)
}

const identical = async (nodes: ReadonlyArray<Node>): Promise<boolean> => {
  const sums = await Promise.all(nodes.map(checksums))
  return sums[0] !== "null" && sums.every((s) => s === sums[0])
}

let nextId = 0
/** One write: a new row, or an update of a row written earlier. */
const write = async (c: Connection): Promise<void> => {
  if (nextId > 100 && nextId % 2 === 0) {
    await c.query("UPDATE items SET n = n + 1, note = ? WHERE id = ?", [`u${nextId++}`, Math.floor(Math.random() * (nextId - 1))])
  } else {
    const id = nextId++
    await c.query("INSERT INTO items (id, n, note) VALUES (?, 0, ?)", [id, `row ${id} ${"x".repeat(80)}`])
  }
}

/**
 * Every client writes until `untilMs`, at most `perClientRate` writes a second (unpaced when
 * undefined); returns the writes that succeeded. A failed write (a conflict) is counted out.
 */
const drive = async (conns: ReadonlyArray<Connection>, untilMs: number, perClientRate?: number): Promise<number> => {
  let done = 0
  await Promise.all(conns.map(async (c) => {
    const startedMs = performance.now()
    let sent = 0
    while (performance.now() < untilMs) {
      if (perClientRate !== undefined) {
        const dueMs = startedMs + (sent / perClientRate) * 1000
        const waitMs = dueMs - performance.now()
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs))
      }
      sent++
      try {
        await write(c)
        done++
      } catch {
        // a lost conflict: the next write goes on
      }
    }
  }))
  return done
}

const main = async () => {
  const nodes: Array<Node> = []
  try {
    for (let index = 0; index < 3; index++) {
      const spec = { index, peerPort: await freePort(), adminPort: await freePort(), dataDir: path.join(root, `node-${index + 1}`) }
      nodes.push({ ...spec, server: await start(spec, nodes[0]?.peerPort ?? spec.peerPort) })
    }
    const admin = await connectTo({ index: 0, server: nodes[0]!.server, peerPort: 0 })
    await until(async () => {
      await admin.query("CREATE DATABASE IF NOT EXISTS bench")
      return true
    }, 60_000, 250)
    await admin.query("CREATE TABLE IF NOT EXISTS bench.items (id BIGINT PRIMARY KEY, n INT NOT NULL, note VARCHAR(200))")
    admin.destroy()
    if (!(await until(() => identical(nodes), 60_000, 250))) throw new Error("the schema did not reach every node")
    const conns = await Promise.all(
      Array.from({ length: clients }, (_, i) => connectTo({ index: 0, server: nodes[i % 2]!.server, peerPort: 0 }, "bench"))
    )

    const probed = await drive(conns, performance.now() + probeSeconds * 1000)
    const throughput = probed / probeSeconds
    const rate = throughput / 2
    process.stdout.write(`cluster throughput ${throughput.toFixed(0)} writes/s; node 3 stops; writing ${rate.toFixed(0)}/s for ${seconds} s\n`)

    await nodes[2]!.server.stop()
    const written = await drive(conns, performance.now() + seconds * 1000, rate / clients)
    for (const c of conns) c.destroy()
    process.stdout.write(`${written} writes while node 3 was down (${(written / seconds).toFixed(0)}/s); restarting it\n`)

    const restartedAt = performance.now()
    nodes[2]!.server = await start(nodes[2]!, nodes[0]!.peerPort)
    const readyAt = performance.now()
    const converged = await until(() => identical(nodes), 300_000, 100)
    const doneAt = performance.now()
    if (!converged) throw new Error("node 3 was not identical 5 minutes after its restart")
    const result = {
      throughput: Math.round(throughput),
      writeRate: Math.round(written / seconds),
      downSeconds: seconds,
      writesWhileDown: written,
      startMs: Math.round(readyAt - restartedAt),
      untilIdenticalFromReadyMs: Math.round(doneAt - readyAt),
      untilIdenticalFromRestartMs: Math.round(doneAt - restartedAt),
      cpus: os.cpus().length,
      node: process.version
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
    writeResults("catchup", result)
  } finally {
    await Promise.all(nodes.map((n) => n.server.stop()))
    rmSync(root, { recursive: true, force: true })
  }
}

await main()
