/**
 * `npm run bench:bootstrap`: how long a brand-new node takes to get a database of BOOTSTRAP_MB
 * megabytes from a cluster (snapshot stream + SHA-256 check + install), on loopback.
 *
 * Node 1 starts alone; a table of 1 KB rows is filled through MySQL until its file holds
 * BOOTSTRAP_MB; then node 2 starts with an empty data dir. Reported: the install time node 2 logs
 * (download + check + install of the database), and from node 2's ready line until its copy of
 * the table matches node 1's (row count and byte sum over MySQL). Every process is stopped by its pid.
 *
 * Knobs: BOOTSTRAP_MB (100); BOOTSTRAP_PROFILE_DIR=dir writes each node's CPU profiles (node --cpu-prof) under dir/node<i>. Results: printed, and written to bench/results/bootstrap-<timestamp>.json.
 */
import { statSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { RowDataPacket } from "mysql2/promise"
import { writeResults } from "./lib/Results.ts"
import { clusterSections, connectTo, until } from "../test/support/Cluster.ts"
import { freePort, type RunningServer, startMarmot } from "../test/support/Servers.ts"

const megabytes = Number(process.env["BOOTSTRAP_MB"] ?? 100)
const rowBytes = 1024
const rowsPerInsert = 1000

const profileDir = process.env["BOOTSTRAP_PROFILE_DIR"]

const node = async (index: number, peerPort: number, seedPort: number): Promise<RunningServer> =>
  startMarmot({
    ...(profileDir === undefined
      ? {}
      : { wrapper: ["sh", "-c", `exec "$0" --cpu-prof --cpu-prof-dir=${profileDir}/node${index + 1} "$@"`] }),
    config: clusterSections({ peerPort, seeds: [`127.0.0.1:${seedPort}`], secret: "bench" }),
    args: ["--node-id", String(index + 1), "--workers", "1"],
    readyTimeoutMs: 120_000
  })

const summary = async (server: RunningServer) => {
  const c = await connectTo({ index: 0, server, peerPort: 0 }, "bench")
  try {
    const [rows] = await c.query<Array<RowDataPacket>>("SELECT COUNT(*) AS n, SUM(LENGTH(payload)) AS bytes FROM items")
    return JSON.stringify(rows[0])
  } finally {
    c.destroy()
  }
}

const main = async () => {
  const servers: Array<RunningServer> = []
  try {
    const ports = [await freePort(), await freePort()]
    const source = await node(0, ports[0]!, ports[0]!)
    servers.push(source)
    const c = await connectTo({ index: 0, server: source, peerPort: ports[0]! })
    await c.query("CREATE DATABASE bench")
    await c.query("CREATE TABLE bench.items (id BIGINT PRIMARY KEY, payload BLOB NOT NULL)")
    const file = path.join(source.dataDir, "databases", "bench.db")
    const fillStarted = performance.now()
    let next = 0
    while (statSync(file).size < megabytes * 1048576) {
      const rows = Array.from({ length: rowsPerInsert }, () => [next, Buffer.alloc(rowBytes, next++ % 251)])
      await c.query("INSERT INTO bench.items (id, payload) VALUES ?", [rows])
    }
    c.destroy()
    const fillSeconds = (performance.now() - fillStarted) / 1000
    const sizeMb = statSync(file).size / 1048576
    process.stdout.write(`filled ${next} rows, ${sizeMb.toFixed(1)} MB file, in ${fillSeconds.toFixed(1)} s\n`)
    const expected = await summary(source)

    process.stdout.write(`node 1: ${expected}; starting node 2\n`)
    const fresh = await node(1, ports[1]!, ports[0]!)
    servers.push(fresh)
    const readyAt = performance.now()
    process.stdout.write(`node 2 ready at ${new Date().toISOString()}\n`)
    const convergeMs = Math.max(120_000, megabytes * 600)
    const converged = await until(async () => (await summary(fresh)) === expected, convergeMs, 50)
    const untilIdenticalMs = Math.round(performance.now() - readyAt)
    for (const line of fresh.output().split("\n")) {
      if (/joined|restor|installed|snapshot|WARN|ERROR/.test(line)) process.stdout.write(`node 2: ${line.slice(0, 300)}\n`)
    }
    if (!converged) throw new Error(`the new node did not converge in ${convergeMs / 1000} s`)
    const installed = /installed bench from node 1: ([\d.]+) MB in (\d+) ms/.exec(fresh.output())
    const result = {
      megabytes: Number(sizeMb.toFixed(1)),
      rows: next,
      installMs: installed === null ? undefined : Number(installed[2]),
      untilIdenticalMs,
      cpus: os.cpus().length,
      node: process.version
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
    writeResults("bootstrap", result)
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
  }
}

await main()
