/**
 * Clock faults on a real node (libfaketime: the node's wall clock is moved while it runs; monotonic
 * time is left alone). One clustered node is enough: it coordinates its own writes.
 *
 * Fixed; found by the chaos harness (seed 4242, 26 writes): when a node's wall clock steps
 * back by more than `max_clock_drift_ms` (an NTP step, a VM restore), the node refuses its own
 * writes until its wall clock has caught up with its HLC. The coordinator takes the start HLC
 * (which never goes back, so it is ahead of the wall clock), then its own participant's PREPARE
 * "observes" that timestamp against the wall clock and fails with ClockSkewError ("clock of node 1
 * is 6243 ms ahead"): the drift guard meant for peers' clocks is applied to the node's own HLC. The
 * error is raised through `Effect.orDie` in WriteCoordinator (local prepare), so the client gets
 * 1105 "replication failed: ClockSkewError … at Module.receive (…/Hlc.ts:92:24) …": a stack trace,
 * and no word on whether anything was written. Expected: the write commits (HLC ticks past its
 * last value whatever the wall clock does), or at least a clean error saying nothing was written.
 */
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ChaosCluster, faketimeAvailable } from "./ChaosCluster.ts"
import { loopbackTopology } from "./Net.ts"
import { SCHEMA, SEED_ROWS, sleep } from "./Workload.ts"

const runDir = mkdtempSync(path.join(os.tmpdir(), "marmot-chaos-clock-"))
let cluster: ChaosCluster | undefined

afterAll(async () => {
  await cluster?.destroy()
  rmSync(runDir, { recursive: true, force: true })
})

describe.skipIf(!faketimeAvailable())("a node's wall clock steps back", () => {
  it("by 8 s (more than max_clock_drift_ms = 5 s): the node's next write still commits", async () => {
    cluster = await ChaosCluster.start({ size: 1, topology: loopbackTopology(), runDir, useFaketime: true, log: () => {} })
    const c = await cluster.connect(0)
    try {
      for (const s of [...SCHEMA, ...SEED_ROWS]) await c.query(s)
      await c.query("UPDATE chaos.counters SET v = v + 1 WHERE k = 1")
      const offset = async () => {
        const [rows] = await c.query("SELECT UNIX_TIMESTAMP(NOW(3)) AS t")
        return Number((rows as Array<{ t: string }>)[0]!.t) * 1000 - Date.now()
      }
      cluster.skew(0, -8000)
      // libfaketime rereads the offset file about once a second
      for (let k = 0; k < 40 && (await offset()) > -5000; k++) await sleep(250)
      expect(await offset()).toBeLessThan(-5000)
      const outcome = await c.query("UPDATE chaos.counters SET v = v + 1 WHERE k = 1").then(
        () => "ok",
        (e: { errno?: number; message?: string }) => `${e.errno} ${e.message?.split("\n")[0]}`
      )
      expect(outcome).toBe("ok")
    } finally {
      c.destroy()
    }
  }, 120_000)
})
