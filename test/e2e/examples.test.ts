/**
 * examples/replication-demo.sh starts three nodes with examples/start-seed.sh's and
 * examples/join-cluster.sh's recipe (daemons with pid files), shows DDL and DML replicating
 * between them with the mariadb client, and stops them: run it on free ports and check what
 * every node printed.
 */
import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { freePort, repoRoot } from "../support/Servers.ts"

describe("examples/", () => {
  it("replication-demo.sh: every node ends with the same rows, the new column included", async () => {
    // Node N uses BASE + N: pick bases whose next three ports were free a moment ago.
    const baseMysql = (await freePort()) - 1
    const baseGrpc = (await freePort()) - 1
    const run = spawnSync("bash", ["examples/replication-demo.sh"], {
      cwd: repoRoot,
      env: { ...process.env, BASE_MYSQL: String(baseMysql), BASE_GRPC: String(baseGrpc) },
      encoding: "utf8",
      timeout: 240_000
    })
    const output = run.stdout + run.stderr
    expect(run.status, output).toBe(0)
    const table = [
      "|  1 | changed on node 3 |    1 | none        |",
      "|  3 | written on node 3 |    3 | from-node-2 |"
    ]
    for (const n of [1, 2, 3]) {
      const section = output.split(`== node ${n} sees:`)[1]?.split("== node")[0] ?? ""
      for (const line of table) expect(section, output).toContain(line)
    }
    expect(spawnSync("pgrep", ["-f", `--mysql-port ${baseMysql + 1}`]).status, "the nodes were stopped").not.toBe(0)
  }, 300_000)
})
