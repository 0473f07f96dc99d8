/**
 * A cluster of real marmot processes on loopback for end-to-end tests: node i (id i + 1) serves
 * MySQL and peers on ephemeral ports and joins through node 0. Every process is stopped by its
 * own pid when the test ends (see Servers.ts).
 */
import mysql from "mysql2/promise"
import type { Connection } from "mysql2/promise"
import { freePort, type RunningServer, startMarmot } from "./Servers.ts"

export interface ClusterNode {
  readonly index: number
  readonly server: RunningServer
  readonly peerPort: number
  /** The admin HTTP port (`[admin] http_port`) when the cluster was started with `admin: true`. */
  readonly adminPort?: number | undefined
}

export interface ClusterOptions {
  readonly size: number
  /** `--workers` per node (default: 2 for node 0, so the supervisor path is covered, 1 for the others). */
  readonly workers?: (index: number) => number
  /** Extra TOML appended to every node's config. */
  readonly extraConfig?: string
  /** Extra TOML appended to one node's config (after `extraConfig`). */
  readonly extraConfigOf?: (index: number) => string
  /** Extra keys of every node's `[cluster]` section. */
  readonly clusterKeys?: string
  readonly secret?: string
  /** Give every node an admin HTTP port (ephemeral, picked before start). */
  readonly admin?: boolean
}

export const clusterConfig = (peerPort: number, seedPort: number, secret: string, extra = "", adminPort?: number, clusterKeys = "") =>
  clusterSections({ peerPort, seeds: [`127.0.0.1:${seedPort}`], secret, extra, clusterKeys, ...(adminPort === undefined ? {} : { adminPort }) })

/**
 * The `[cluster]`, `[replication]` and `[transaction]` sections of a test node: fast gossip and
 * anti-entropy, short timeouts. `bind`/`advertise` set `grpc_bind_address`/`grpc_advertise_address`.
 */
export const clusterSections = (o: {
  peerPort: number
  seeds: ReadonlyArray<string>
  secret: string
  bind?: string
  advertise?: string
  extra?: string
  adminPort?: number
  clusterKeys?: string
  /** Extra lines of the `[replication]` section. */
  replication?: string
}) => `
[cluster]
grpc_port = ${o.peerPort}
${o.bind === undefined ? "" : `grpc_bind_address = "${o.bind}"`}
${o.advertise === undefined ? "" : `grpc_advertise_address = "${o.advertise}"`}
seed_nodes = [${o.seeds.map((s) => `"${s}"`).join(", ")}]
cluster_secret = "${o.secret}"
${o.clusterKeys ?? ""}
gossip_interval_ms = 200
suspect_timeout_ms = 1500
dead_timeout_ms = 3000

[replication]
anti_entropy_interval_ms = 500
write_timeout_ms = 2000
${o.replication ?? ""}

[transaction]
heartbeat_timeout_seconds = 3
${o.adminPort === undefined ? "" : `
[admin]
http_port = ${o.adminPort}
`}
${o.extra ?? ""}`

export async function startCluster(options: ClusterOptions): Promise<Array<ClusterNode>> {
  const ports: Array<number> = []
  for (let i = 0; i < options.size; i++) ports.push(await freePort())
  const adminPorts: Array<number | undefined> = []
  for (let i = 0; i < options.size; i++) adminPorts.push(options.admin === true ? await freePort() : undefined)
  const secret = options.secret ?? "e2e-cluster-secret"
  const started = await Promise.allSettled(ports.map(async (peerPort, index) => {
    const server = await startMarmot({
      config: clusterConfig(peerPort, ports[0]!, secret, (options.extraConfig ?? "") + (options.extraConfigOf?.(index) ?? ""), adminPorts[index], options.clusterKeys),
      args: ["--node-id", String(index + 1), "--workers", String(options.workers?.(index) ?? (index === 0 ? 2 : 1))],
      readyTimeoutMs: 120_000
    })
    return { index, server, peerPort, adminPort: adminPorts[index] }
  }))
  const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []))
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected")
  if (failed !== undefined) {
    // the nodes that did start are stopped by their pids before the error goes up
    await Promise.all(nodes.map((n) => n.server.stop()))
    throw failed.reason
  }
  return nodes
}

export const connectTo = async (node: ClusterNode, database?: string): Promise<Connection> => {
  const c = await mysql.createConnection({
    host: node.server.host,
    port: node.server.port,
    user: "root",
    password: "",
    ...(database === undefined ? {} : { database }),
    supportBigNumbers: true,
    bigNumberStrings: true
  })
  c.on("error", () => {})
  return c
}

/** Polls `check` until it holds (true) or `ms` pass (false). */
export async function until(check: () => Promise<boolean>, ms: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      if (await check()) return true
    } catch {
      // not yet (unknown database or table on a node that has not caught up)
    }
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

/**
 * Waits until a write through `node` succeeds (CREATE DATABASE IF NOT EXISTS warmup), i.e. the
 * members see each other well enough for a quorum; throws after `ms`.
 */
export async function awaitFormed(node: ClusterNode, ms = 60_000): Promise<void> {
  const c = await connectTo(node)
  try {
    const formed = await until(async () => {
      await c.query("CREATE DATABASE IF NOT EXISTS warmup")
      return true
    }, ms, 250)
    if (!formed) throw new Error("the cluster did not form")
  } finally {
    c.destroy()
  }
}
