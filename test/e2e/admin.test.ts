/**
 * The admin HTTP API and `marmot status` on three real nodes (node 0 runs two MySQL workers, so
 * its admin API is served by the supervisor's core): every endpoint with and without the secret,
 * remove/allow changing the membership everywhere, /readyz, /metrics after writes through mysql2,
 * checksums that agree across nodes, and the status command's view of it all.
 */
import type { Connection } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { awaitFormed, type ClusterNode, clusterConfig, connectTo, startCluster, until } from "../support/Cluster.ts"
import { freePort, run, type RunningServer, startMarmot } from "../support/Servers.ts"

const secret = "admin-e2e-secret"
let nodes: Array<ClusterNode> = []
const extra: Array<RunningServer> = []
const conns: Array<Connection> = []

const base = (i: number) => `http://127.0.0.1:${nodes[i]!.adminPort}`

const call = async (i: number, path: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
  const response = await fetch(`${base(i)}${path}`, { method: init.method ?? "GET", headers: init.headers ?? {} })
  const text = await response.text()
  return { status: response.status, text, headers: response.headers, json: () => JSON.parse(text) as Record<string, unknown> }
}

const withSecret = { "X-Marmot-Secret": secret }

interface MemberView {
  readonly id: number
  readonly status: string
  readonly address: string
  readonly admin: string | null
  readonly incarnation: number
  readonly lag: unknown
}

const membersOf = async (i: number): Promise<Array<MemberView>> =>
  (await call(i, "/admin/cluster/members", { headers: withSecret })).json()["members"] as Array<MemberView>

const statusOf = async (i: number, id: number) => (await membersOf(i)).find((m) => m.id === id)?.status

beforeAll(async () => {
  nodes = await startCluster({ size: 3, admin: true, secret })
  await awaitFormed(nodes[0]!)
}, 180_000)

afterAll(async () => {
  for (const c of conns) c.destroy()
  await Promise.all([...nodes.map((n) => n.server.stop()), ...extra.map((s) => s.stop())])
})

describe("admin HTTP API of a 3-node cluster", { timeout: 120_000 }, () => {
  it("/healthz answers without a secret; /readyz turns ready on every node", async () => {
    for (const i of [0, 1, 2]) {
      const health = await call(i, "/healthz")
      expect(health.status).toBe(200)
      expect(health.json()).toEqual({ status: "ok", node_id: i + 1 })
      expect(await until(async () => (await call(i, "/readyz")).status === 200, 30_000, 200), `node ${i + 1} ready`).toBe(true)
      expect((await call(i, "/readyz")).json()).toEqual({ ready: true })
    }
  })

  it("a node whose seeds do not answer is not ready: 503 with the reason", async () => {
    const [peerPort, deadSeed, adminPort] = [await freePort(), await freePort(), await freePort()]
    const lonely = await startMarmot({
      config: clusterConfig(peerPort, deadSeed, secret, "", adminPort),
      args: ["--node-id", "9", "--workers", "1"],
      readyTimeoutMs: 120_000
    })
    extra.push(lonely)
    const response = await fetch(`http://127.0.0.1:${adminPort}/readyz`)
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({ ready: false, reason: "not joined: no other member is ALIVE" })
    expect((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status).toBe(200)
    await lonely.stop()
  })

  it("/admin/ endpoints refuse a missing or wrong secret with 401 and accept either header form", async () => {
    for (const [method, path] of [["GET", "/admin/cluster/members"], ["GET", "/admin/checksums"], ["POST", "/admin/cluster/remove/3"], ["POST", "/admin/cluster/allow/3"]] as const) {
      const none = await call(0, path, { method })
      expect(none.status, `${method} ${path}`).toBe(401)
      expect(none.json()).toEqual({ error: "missing authentication header" })
      expect(none.headers.get("www-authenticate")).toBe("Bearer")
      for (const headers of [{ "X-Marmot-Secret": "wrong" }, { Authorization: "Bearer wrong" }, { Authorization: `Basic ${secret}` }]) {
        expect((await call(0, path, { method, headers })).status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401)
      }
    }
    expect((await call(1, "/admin/cluster/members", { headers: withSecret })).status).toBe(200)
    expect((await call(1, "/admin/cluster/members", { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(200)
    // the refusals were logged without any presented value
    for (const node of nodes) {
      expect(node.server.output()).not.toContain(secret)
      expect(node.server.output()).not.toContain("Basic ")
    }
    expect(nodes[0]!.server.output()).toContain("admin request refused: invalid secret")
  })

  it("/admin/cluster/members lists every member with its status, incarnation, admin address and lag", async () => {
    expect(await until(async () => (await membersOf(0)).every((m) => m.lag !== null || m.id === 1), 10_000)).toBe(true)
    const view = (await call(0, "/admin/cluster/members", { headers: withSecret })).json()
    expect(view).toMatchObject({ local_node_id: 1, total_membership: 3, alive_count: 3, quorum_size: 2 })
    const members = view["members"] as Array<MemberView & { self: boolean }>
    expect(members.map((m) => [m.id, m.status, m.admin, m.address])).toEqual(nodes.map((n) => [
      n.index + 1,
      "ALIVE",
      `127.0.0.1:${n.adminPort}`,
      `127.0.0.1:${n.peerPort}`
    ]))
    expect(members[0]).toMatchObject({ self: true, lag: null })
    expect(members[1]!.lag).toMatchObject({ transactions: expect.any(Number), ms: expect.any(Number), last_error: null })
  })

  it("remove and allow change the membership on every node; bad requests say why", async () => {
    expect((await call(0, "/admin/cluster/remove/1", { method: "POST", headers: withSecret })).status).toBe(409) // self
    expect((await call(0, "/admin/cluster/remove/99", { method: "POST", headers: withSecret })).status).toBe(404)
    expect((await call(0, "/admin/cluster/remove/abc", { method: "POST", headers: withSecret })).status).toBe(400)
    expect((await call(0, "/admin/cluster/allow/2", { method: "POST", headers: withSecret })).status).toBe(409) // not removed

    const removed = await call(0, "/admin/cluster/remove/3", { method: "POST", headers: withSecret })
    expect(removed.status).toBe(200)
    expect(removed.json()).toMatchObject({ ok: true, id: 3, status: "REMOVED" })
    for (const i of [0, 1]) {
      expect(await until(async () => (await statusOf(i, 3)) === "REMOVED", 10_000), `node ${i + 1} sees 3 REMOVED`).toBe(true)
    }
    expect((await call(0, "/admin/cluster/members", { headers: withSecret })).json()).toMatchObject({ total_membership: 2, quorum_size: 2 })
    const metrics = (await call(0, "/metrics")).text
    expect(metrics).toContain("marmot_cluster_members{status=\"REMOVED\"} 1")

    const allowed = await call(1, "/admin/cluster/allow/3", { method: "POST", headers: withSecret })
    expect(allowed.status).toBe(200)
    for (const i of [0, 1, 2]) {
      expect(await until(async () => (await statusOf(i, 3)) === "ALIVE", 20_000), `node ${i + 1} sees 3 ALIVE again`).toBe(true)
    }
  })

  it("/metrics shows the writes coordinated through mysql2, the latency histogram, gossip and process gauges", async () => {
    const c = await connectTo(nodes[0]!)
    conns.push(c)
    await c.query("CREATE DATABASE IF NOT EXISTS shop")
    await c.query("CREATE TABLE IF NOT EXISTS shop.items (id INT PRIMARY KEY, name VARCHAR(40))")
    for (let i = 1; i <= 5; i++) await c.query("INSERT INTO shop.items VALUES (?, ?)", [i, `item ${i}`])
    const response = await call(0, "/metrics")
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4")
    const text = response.text
    const committed = /^marmot_writes_total\{level="QUORUM",outcome="committed"\} (\d+)$/m.exec(text)
    expect(committed, text.slice(0, 3000)).not.toBeNull()
    expect(Number(committed![1])).toBeGreaterThanOrEqual(5)
    expect(text).toContain("# TYPE marmot_writes_total counter")
    expect(text).toMatch(/^marmot_write_latency_ms_bucket\{le="\+Inf"\} \d+$/m)
    expect(text).toMatch(/^marmot_write_latency_ms_count \d+$/m)
    expect(text).toContain("marmot_cluster_members{status=\"ALIVE\"} 3")
    expect(text).toContain("marmot_cluster_quorum_available 1")
    expect(text).toMatch(/^marmot_peer_lag_transactions\{peer="2"\} \d+$/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m)
    expect(text).toContain("marmot_node_info{node_id=\"1\"} 1")
  })

  it("checksums agree across nodes once the writes have spread, and `marmot status` shows it all", async () => {
    const sums = async (i: number) => (await call(i, "/admin/checksums", { headers: withSecret })).json()["databases"]
    const expected = await sums(0)
    expect(expected).toMatchObject({ shop: { items: { rows: 5, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } } })
    for (const i of [1, 2]) {
      expect(await until(async () => JSON.stringify(await sums(i)) === JSON.stringify(expected), 15_000), `node ${i + 1}`).toBe(true)
    }

    const status = await run(process.execPath, ["--import", "tsx", "src/main.ts", "status", "--admin", `127.0.0.1:${nodes[1]!.adminPort}`, "--secret", secret], {
      timeoutMs: 60_000
    })
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const lines = status.stdout.split("\n")
    expect(lines[0]).toBe(`cluster seen from node 2 (127.0.0.1:${nodes[1]!.adminPort}): 3 members, 3 ALIVE, quorum 2 of 3`)
    for (const n of nodes) {
      const row = lines.find((l) => l.startsWith(`${n.index + 1}${n.index === 1 ? "*" : ""} `))
      expect(row, status.stdout).toBeDefined()
      expect(row).toMatch(/ ALIVE /)
      expect(row).toContain(`127.0.0.1:${n.adminPort}`)
      expect(row).toContain(" yes ")
    }
    expect(lines.find((l) => l.startsWith("shop.items "))).toMatch(/ 5 [0-9a-f]{16} .* 5 [0-9a-f]{16} .* 5 [0-9a-f]{16} +yes$/)
    expect(status.stdout).toContain("checksums: all 1 table(s) agree on 3 node(s)")

    const refused = await run(process.execPath, ["--import", "tsx", "src/main.ts", "status", "--admin", `127.0.0.1:${nodes[0]!.adminPort}`], {
      timeoutMs: 60_000,
      env: { MARMOT_ADMIN_SECRET: "", MARMOT_CLUSTER_SECRET: "" }
    })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("HTTP 401: missing authentication header")
  })
})
