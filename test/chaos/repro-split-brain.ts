/**
 * Reproduction of known failure 2 (docs/CONSISTENCY.md, test/chaos/formation.test.ts) on 3 real
 * nodes: each is started while cut off from the other two (blackhole routes between their network
 * namespaces; needs root), so none has joined; each acknowledges at QUORUM a different row 1; after
 * healing every node holds one of them and the other two acknowledged QUORUM writes are gone.
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
    const [rows] = await c.query<Array<RowDataPacket>>("SELECT * FROM app.t")
    console.log(`after healing, node ${i + 1}: ${JSON.stringify(rows)}`)
    c.destroy()
  }
  console.log(`${acknowledged} QUORUM inserts of id 1 acknowledged; at most 1 should have been`)
  process.exitCode = acknowledged > 1 ? 1 : 0
} finally {
  await cluster.destroy()
  rmSync(runDir, { recursive: true, force: true })
}
