/**
 * The admin port of a standalone node (no cluster), real processes on loopback: /healthz, /readyz
 * (ready once every MySQL worker listens) and /metrics with the MySQL workers' statements by kind,
 * errors by code, connections and latency added up over every worker process. A cluster node's
 * /metrics carries the same worker figures.
 */
import type { Connection } from "mysql2/promise"
import mysql from "mysql2/promise"
import { afterAll, describe, expect, it } from "vitest"
import { awaitFormed, clusterSections, until } from "../support/Cluster.ts"
import { freePort, type RunningServer, startMarmot } from "../support/Servers.ts"

const servers: Array<RunningServer> = []
const conns: Array<Connection> = []

afterAll(async () => {
  for (const c of conns) c.destroy()
  await Promise.all(servers.map((s) => s.stop()))
})

const get = async (port: number, path: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: response.status, text: await response.text() }
}

/** The value of the sample `name{labels}` (exactly as written), 0 when absent. */
const sample = (text: string, series: string): number => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

const start = async (workers: number, config = "") => {
  const adminPort = await freePort()
  const server = await startMarmot({ config, args: ["--workers", String(workers), "--admin-port", String(adminPort)], readyTimeoutMs: 120_000 })
  servers.push(server)
  return { server, adminPort }
}

const connect = async (server: RunningServer) => {
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", password: "" })
  conns.push(c)
  return c
}

/**
 * Statements on `n` connections (spread over the workers): each runs 4 selects (the last fails with
 * 1146), 1 insert and a statement that does not parse (1064).
 */
const workload = async (server: RunningServer, n: number) => {
  const setup = await connect(server)
  await setup.query("CREATE DATABASE IF NOT EXISTS app")
  await setup.query("CREATE TABLE IF NOT EXISTS app.t (id INT PRIMARY KEY)")
  const open = await Promise.all(Array.from({ length: n }, () => connect(server)))
  await Promise.all(open.map(async (c, i) => {
    for (let j = 0; j < 3; j++) await c.query("SELECT 1")
    await c.query(`INSERT INTO app.t VALUES (${i})`)
    await c.query("SELECT * FROM app.nope").catch(() => undefined) // 1146
    await c.query("SELEC 1").catch(() => undefined) // 1064
  }))
  return open
}

describe("the admin port of a standalone node", { timeout: 240_000 }, () => {
  it("two workers: probes, and the workers' MySQL metrics added up", async () => {
    const { server, adminPort } = await start(2)
    const health = await get(adminPort, "/healthz")
    expect(health.status).toBe(200)
    expect(JSON.parse(health.text)).toMatchObject({ status: "ok", standalone: true })
    expect(await until(async () => (await get(adminPort, "/readyz")).status === 200, 30_000, 200)).toBe(true)
    expect(JSON.parse((await get(adminPort, "/readyz")).text)).toEqual({ ready: true, workers: 2 })

    const n = 8
    const open = await workload(server, n)
    // every worker reports each second: wait until the sums include everything
    const metrics = async () => (await get(adminPort, "/metrics")).text
    const complete = (text: string) =>
      sample(text, `marmot_mysql_queries_total{kind="select"}`) === 4 * n &&
      sample(text, `marmot_mysql_errors_total{code="1146"}`) === n
    expect(await until(async () => complete(await metrics()), 30_000, 250)).toBe(true)
    const text = await metrics()
    expect(sample(text, `marmot_mysql_queries_total{kind="insert"}`)).toBe(n)
    expect(sample(text, `marmot_mysql_queries_total{kind="create_database"}`)).toBe(1)
    expect(sample(text, `marmot_mysql_queries_total{kind="ddl"}`)).toBe(1)
    expect(sample(text, `marmot_mysql_queries_total{kind="invalid"}`)).toBe(n)
    expect(sample(text, `marmot_mysql_errors_total{code="1064"}`)).toBe(n)
    const statements = 3 * n + n + 2 + n + n
    expect(sample(text, "marmot_mysql_statement_latency_ms_count")).toBe(statements)
    expect(sample(text, `marmot_mysql_statement_latency_ms_bucket{le="+Inf"}`)).toBe(statements)
    expect(sample(text, "marmot_mysql_statement_latency_ms_sum")).toBeGreaterThan(0)
    expect(sample(text, "marmot_mysql_connections")).toBe(n + 1)
    expect(sample(text, "marmot_mysql_connections_total")).toBe(n + 1)
    expect(text).toContain("# TYPE marmot_mysql_statement_latency_ms histogram")
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0)

    for (const c of open) c.destroy()
    expect(await until(async () => sample(await metrics(), "marmot_mysql_connections") === 1, 30_000, 250)).toBe(true)
  })

  it("one process: the same probes and metrics", async () => {
    const { server, adminPort } = await start(1)
    expect(await until(async () => (await get(adminPort, "/readyz")).status === 200, 30_000, 200)).toBe(true)
    await workload(server, 2)
    expect(await until(async () => sample((await get(adminPort, "/metrics")).text, `marmot_mysql_queries_total{kind="select"}`) === 8, 30_000, 250))
      .toBe(true)
    expect((await get(adminPort, "/healthz")).status).toBe(200)
  })

  it("a cluster node's /metrics has the workers' figures too", async () => {
    const peerPort = await freePort()
    const adminPort = await freePort()
    const server = await startMarmot({
      config: clusterSections({ peerPort, seeds: [`127.0.0.1:${peerPort}`], secret: "s", adminPort }),
      args: ["--node-id", "1", "--workers", "2"],
      readyTimeoutMs: 120_000
    })
    servers.push(server)
    await awaitFormed({ index: 0, server, peerPort, adminPort }, 90_000)
    const c = await connect(server)
    await c.query("SELECT * FROM warmup.nope").catch(() => undefined)
    expect(await until(async () => sample((await get(adminPort, "/metrics")).text, `marmot_mysql_errors_total{code="1146"}`) === 1, 30_000, 250))
      .toBe(true)
    expect(sample((await get(adminPort, "/metrics")).text, "marmot_cluster_quorum_size")).toBe(1)
  })
})
