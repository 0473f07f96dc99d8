/**
 * `npm run bench:cdc`: change data capture to NATS JetStream (Debian's nats-server -js, started on
 * a loopback port and stopped by its pid).
 *
 * 1. Drain: CDC_BACKLOG one-row transactions are committed through the Applier first, then the
 *    publisher starts; sustained events/s = events acknowledged by JetStream / time to drain.
 * 2. Live: a writer commits CDC_RATE one-row transactions per second for CDC_SECONDS while the
 *    publisher runs (the writer, the Applier and the publisher share one process, as in the node's
 *    supervisor); commit-to-ack latency = JetStream ack of the transaction's END event (its batch's
 *    cursor saved) minus the moment the transaction was handed to the ApplyQueue (it commits in
 *    the next microtask). Each group commit of the ApplyQueue wakes the
 *    publisher through a CommitSignal, as in a cluster node; CDC_NOTIFY=0 leaves it to poll
 *    (poll_interval_ms, default 10), as a standalone node's publisher does.
 *
 * Knobs: CDC_BACKLOG (20000), CDC_RATE (1000), CDC_SECONDS (15), CDC_BATCH (100), CDC_POLL_MS (10), CDC_NOTIFY (1).
 * Results: printed, and written to bench/results/cdc-<timestamp>.json.
 */
import { Effect } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { CommitSignal } from "../src/replication/CommitSignal.ts"
import { removeDir, settingsFor, sink, sleep, startNats, startPublisher, TestDatabase, tempDir, waitFor } from "../test/cdc/support.ts"

const env = (k: string, d: number) => (process.env[k] === undefined ? d : Number(process.env[k]))
const backlog = env("CDC_BACKLOG", 20_000)
const rate = env("CDC_RATE", 1_000)
const seconds = env("CDC_SECONDS", 15)
const batchSize = env("CDC_BATCH", 100)
const pollIntervalMs = env("CDC_POLL_MS", 10)
const notify = env("CDC_NOTIFY", 1) === 1

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

const main = async () => {
  const nats = await startNats()
  const dir = tempDir("bench")
  try {
    const commits = Effect.runSync(CommitSignal.make)
    const db = new TestDatabase(dir, "bench", ["CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT, n INT)"], 1, commits.committed)
    const settings = settingsFor(dir, [sink({ name: "js", type: "nats", natsUrl: nats.url, topicPrefix: "bench", batchSize, pollIntervalMs })])
    const payload = "x".repeat(100)

    // 1. drain a backlog
    for (let i = 1; i <= backlog; i++) await db.insert("items", [BigInt(i), payload, BigInt(i)])
    const t0 = performance.now()
    const drain = await startPublisher(settings)
    await waitFor("backlog drained", 600_000, () => drain.acked(BigInt(backlog)))
    const drainMs = performance.now() - t0
    const drainEvents = drain.acks.reduce((n, a) => n + a.events, 0)
    await drain.stop()

    // 2. live at a fixed rate
    const live = await startPublisher(settings, notify ? commits : undefined)
    const committedAt = new Map<string, number>()
    const total = rate * seconds
    const burst = Math.max(1, Math.ceil(rate / 100))
    let next = backlog + 1
    const began = performance.now()
    const cpuBefore = process.cpuUsage()
    while (next <= backlog + total) {
      // At most a few ms of commits per turn of the event loop, so a writer behind schedule does
      // not starve the publisher (in the node, applies arrive as separate events too).
      const due = Math.min(backlog + total, backlog + Math.floor(((performance.now() - began) / 1000) * rate), next + burst - 1)
      while (next <= due) {
        // Taken before the insert is queued: the commit runs in a microtask, and the writer may resume
        // after the publisher (woken by the commit) already has the ack.
        const queuedAt = performance.now() + performance.timeOrigin
        const txn = await db.insert("items", [BigInt(next), payload, BigInt(next)])
        committedAt.set(txn.txnId, queuedAt)
        next++
      }
      await sleep(1)
    }
    const writeMs = performance.now() - began
    if (total > 0) await waitFor("live transactions acknowledged", 120_000, () => live.acked(BigInt(backlog + total)))
    const cpu = process.cpuUsage(cpuBefore)
    const liveMs = performance.now() - began
    await live.stop()
    const latencies: Array<number> = []
    for (const a of live.acks) {
      for (const t of a.txns) {
        const c = committedAt.get(t.txnId)
        if (c !== undefined) latencies.push(a.ackedAtMs - c)
      }
    }
    latencies.sort((a, b) => a - b)
    const result = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      settings: { backlog, rate, seconds, batchSize, pollIntervalMs, notify },
      drain: { txns: backlog, events: drainEvents, ms: Math.round(drainMs), eventsPerSec: Math.round(drainEvents / (drainMs / 1000)), txnsPerSec: Math.round(backlog / (drainMs / 1000)) },
      live: {
        txns: latencies.length,
        achievedRate: Math.round(total / (writeMs / 1000)),
        /** CPU of this process (writer + Applier + publisher) over the live phase, in % of one core. */
        cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / liveMs) * 100),
        latencyMs: {
          p50: Math.round(percentile(latencies, 50) * 10) / 10,
          p90: Math.round(percentile(latencies, 90) * 10) / 10,
          p99: Math.round(percentile(latencies, 99) * 10) / 10,
          max: Math.round((latencies[latencies.length - 1] ?? 0) * 10) / 10
        }
      }
    }
    db.close()
    console.log(`drain: ${result.drain.events} events (${backlog} txns) in ${result.drain.ms} ms = ${result.drain.eventsPerSec} events/s (${result.drain.txnsPerSec} txns/s)`)
    console.log(
      `live: ${result.live.txns} txns at ${result.live.achievedRate}/s (process CPU ${result.live.cpuPercent}% of a core), commit-to-ack p50 ${result.live.latencyMs.p50} ms, p90 ${result.live.latencyMs.p90} ms, p99 ${result.live.latencyMs.p99} ms, max ${result.live.latencyMs.max} ms`
    )
    console.log(`load average: ${result.machine.loadavg.join(" ")}`)
    const out = path.join("bench", "results")
    mkdirSync(out, { recursive: true })
    const file = path.join(out, `cdc-${result.at.replace(/[:.]/g, "-")}.json`)
    writeFileSync(file, JSON.stringify(result, null, 2) + "\n")
    console.log(`written: ${file}`)
  } finally {
    await nats.stop()
    removeDir(nats.storeDir)
    removeDir(dir)
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
