/**
 * The formation split-brain the chaos harness found (docs/CONSISTENCY.md, "Failures the harness
 * found" 2; test/chaos/formation.test.ts) on 3 real nodes: each is started while cut off from the
 * other two (blackhole routes between their network namespaces; needs root), so none has joined,
 * and each is asked to insert a different row 1 at QUORUM. Before the fix all three answered OK and
 * after healing every node held one of them: two acknowledged QUORUM writes gone. Now they must
 * refuse (1105); the script exits 1 if more than one insert is acknowledged.
 *
 *   node --import tsx test/chaos/repro-split-brain.ts
 */
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { RowDataPacket } from "mysql2/promise"
import { ChaosCluster } from "./ChaosCluster.ts"
import { netnsTopology } from "./Net.ts"
import { sleep } from "./Workload.ts"

const topology = netnsTopology(3, `sb${process.pid}`)
topology.cut(0, 1)
topology.cut(0, 2)
topology.cut(1, 2)
const runDir = mkdtempSync(path.join(os.tmpdir(), "marmot-chaos-split-"))
const cluster = await ChaosCluster.start({ size: 3, topology, runDir, useFaketime: false, log: console.log })
let acknowledged = 0
try {
  for (const i of [0, 1, 2]) {
    const c = await cluster.connect(i)
    const outcome = await c.query("CREATE DATABASE IF NOT EXISTS app")
      .then(() => c.query("CREATE TABLE IF NOT EXISTS app.t (id INT PRIMARY KEY, v VARCHAR(20))"))
      .then(() => c.query(`INSERT INTO app.t VALUES (1, 'from node ${i + 1}')`))
      .then(() => "OK", (e: unknown) => String(e))
    if (outcome === "OK") acknowledged++
    console.log(`node ${i + 1}, cut off, at QUORUM: INSERT INTO app.t VALUES (1, 'from node ${i + 1}') -> ${outcome}`)
    c.destroy()
  }
  topology.healAll()
  await sleep(8000)
  for (const i of [0, 1, 2]) {
    const c = await cluster.connect(i)
    const rows = await c.query<Array<RowDataPacket>>("SELECT * FROM app.t").then(([r]) => JSON.stringify(r), (e: unknown) => String(e))
    console.log(`after healing, node ${i + 1}: ${rows}`)
    c.destroy()
  }
  console.log(`${acknowledged} QUORUM inserts of id 1 acknowledged; at most 1 should have been`)
  process.exitCode = acknowledged > 1 ? 1 : 0
} finally {
  await cluster.destroy()
  rmSync(runDir, { recursive: true, force: true })
}
