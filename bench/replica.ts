/**
 * `node --import tsx bench/replica.ts`: a read-only replica of a one-node cluster (real processes
 * on loopback, stopped by their pids).
 *
 * 1. Catch-up: REPLICA_TXNS transactions of 10 rows each are committed on the node first; then the
 *    replica starts (empty) and gets them: by a snapshot when the log holds more than
 *    REPLICA_SNAPSHOT_THRESHOLD entries ([replica] snapshot_threshold_transactions, default 1000),
 *    else by replaying the log; transactions/s = REPLICA_TXNS / time from its ready line to the last row.
 * 2. Lag: REPLICA_SAMPLES one-row inserts on the node, one at a time; each is timed from the
 *    node's OK until the replica shows the row (polled every 5 ms). poll_interval_ms = REPLICA_POLL_MS.
 */
import mysql from "mysql2/promise"
import type { RowDataPacket } from "mysql2/promise"
import { connectTo, startCluster, until } from "../test/support/Cluster.ts"
import { startMarmot } from "../test/support/Servers.ts"

const env = (k: string, d: number) => (process.env[k] === undefined ? d : Number(process.env[k]))
const txns = env("REPLICA_TXNS", 2000)
const samples = env("REPLICA_SAMPLES", 50)
const pollMs = env("REPLICA_POLL_MS", 100)
const snapshotThreshold = env("REPLICA_SNAPSHOT_THRESHOLD", 1000)
const secret = "bench-replica-secret"

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

const main = async () => {
  const [node] = await startCluster({ size: 1, secret, workers: () => 1 })
  const stops: Array<() => Promise<void>> = [() => node!.server.stop()]
  try {
    const c = await connectTo(node!)
    await c.query("CREATE DATABASE bench")
    await c.query("CREATE TABLE bench.items (id INT PRIMARY KEY, v VARCHAR(100))")
    for (let t = 0; t < txns; t++) {
      const values = Array.from({ length: 10 }, (_, i) => `(${t * 10 + i}, 'row ${t * 10 + i}')`).join(", ")
      await c.query(`INSERT INTO bench.items VALUES ${values}`)
    }
    const started = Date.now()
    const replica = await startMarmot({
      config: `[replica]\nenabled = true\nfollow_addresses = ["127.0.0.1:${node!.peerPort}"]\nsecret = "${secret}"\npoll_interval_ms = ${pollMs}\nsnapshot_threshold_transactions = ${snapshotThreshold}\n`,
      args: ["--node-id", "100", "--workers", "1"],
      readyTimeoutMs: 120_000
    })
    stops.push(() => replica.stop())
    const ready = Date.now()
    const r = await mysql.createConnection({ host: replica.host, port: replica.port, user: "root", password: "" })
    const count = async () => Number((await r.query<Array<RowDataPacket>>("SELECT count(*) AS n FROM bench.items"))[0][0]?.["n"])
    if (!(await until(async () => (await count()) === txns * 10, 600_000, 20))) throw new Error("the replica did not catch up")
    const caughtUp = Date.now()
    const lags: Array<number> = []
    for (let i = 0; i < samples; i++) {
      const id = 1_000_000 + i
      await c.query(`INSERT INTO bench.items VALUES (${id}, 'live')`)
      const committed = Date.now()
      await until(async () => (await r.query<Array<RowDataPacket>>(`SELECT 1 FROM bench.items WHERE id = ${id}`))[0].length === 1, 60_000, 5)
      lags.push(Date.now() - committed)
    }
    lags.sort((a, b) => a - b)
    const catchUpS = (caughtUp - ready) / 1000
    console.log(JSON.stringify({
      transactions: txns,
      snapshot_threshold: snapshotThreshold,
      rows: txns * 10,
      replica_start_s: (ready - started) / 1000,
      catch_up_s: catchUpS,
      catch_up_txns_per_s: Math.round(txns / catchUpS),
      poll_interval_ms: pollMs,
      lag_ms: { p50: percentile(lags, 50), p95: percentile(lags, 95), max: lags.at(-1) },
      load_average: (await import("node:os")).loadavg().map((l) => Math.round(l * 10) / 10)
    }))
    c.destroy()
    r.destroy()
  } finally {
    for (const stop of stops.reverse()) await stop()
  }
}

await main()
