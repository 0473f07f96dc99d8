/**
 * The command line flags the operator guide names (issue 7), on real processes: `--help` lists
 * them; `--config`, `--node-id`, `--data-dir`, `--mysql-port`, `--grpc-port`, `--seed-nodes` and
 * `--admin-port` make a cluster node with that id on that peer port; `--follow-addresses` makes a
 * replica follow it; a bad value or an unknown flag exits 2 naming it. (`--daemon` and `--pid-file`:
 * daemon.test.ts.)
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { until } from "../support/Cluster.ts"
import { freePort, type RunningServer, run, startMarmot } from "../support/Servers.ts"

const servers: Array<RunningServer> = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
})

const marmot = (args: ReadonlyArray<string>) => run(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { timeoutMs: 60_000 })

const json = async (port: number, path: string, secret?: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, secret === undefined ? {} : { headers: { "x-marmot-secret": secret } })
  return { status: response.status, body: await response.json() as Record<string, unknown> }
}

describe("command line", { timeout: 240_000 }, () => {
  it("--help lists every flag and exits 0", async () => {
    const help = await marmot(["--help"])
    expect(help.code).toBe(0)
    for (
      const flag of [
        "--config",
        "--node-id",
        "--data-dir",
        "--mysql-port",
        "--grpc-port",
        "--seed-nodes",
        "--follow-addresses",
        "--admin-port",
        "--workers",
        "--daemon",
        "--pid-file",
        "--help"
      ]
    ) expect(help.stdout, flag).toContain(`${flag} `)
  })

  it("a bad value or an unknown flag exits 2 and says which", async () => {
    const bad = await marmot(["--grpc-port", "seven"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--grpc-port must be a non-negative integer, got 'seven'")
    const unknown = await marmot(["--grpc", "7000"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/Unknown option '--grpc'/)
    expect(unknown.stderr).toContain("Usage: marmot")
  })

  it("--node-id, --grpc-port, --seed-nodes, --admin-port make a cluster node; --follow-addresses a replica of it", async () => {
    const peerPort = await freePort()
    const adminPort = await freePort()
    const secret = "cli-secret"
    const node = await startMarmot({
      config: `[cluster]\ncluster_secret = "${secret}"\n`,
      args: ["--node-id", "7", "--grpc-port", String(peerPort), "--seed-nodes", `127.0.0.1:${peerPort}`, "--admin-port", String(adminPort), "--workers", "1"],
      readyTimeoutMs: 120_000
    })
    servers.push(node)
    expect(node.output()).toContain(`peer=127.0.0.1:${peerPort}`)
    expect(existsSync(join(node.dataDir, "databases"))).toBe(true)
    const members = await json(adminPort, "/admin/cluster/members", secret)
    expect(members.status).toBe(200)
    expect(members.body["local_node_id"]).toBe(7)
    expect(members.body["members"]).toMatchObject([{ id: 7, address: `127.0.0.1:${peerPort}`, self: true }])

    const replicaAdmin = await freePort()
    const replica = await startMarmot({
      config: `[replica]\nenabled = true\nsecret = "${secret}"\npoll_interval_ms = 100\n`,
      args: ["--node-id", "70", "--follow-addresses", `127.0.0.1:${peerPort}`, "--admin-port", String(replicaAdmin), "--workers", "1"],
      readyTimeoutMs: 120_000
    })
    servers.push(replica)
    expect(replica.output()).toContain(`replica-of=127.0.0.1:${peerPort}`)
    expect(await until(async () => (await json(replicaAdmin, "/readyz")).status === 200, 60_000, 200)).toBe(true)
    expect((await json(replicaAdmin, "/readyz")).body["source"]).toEqual({ id: 7, address: `127.0.0.1:${peerPort}` })
  })
})
