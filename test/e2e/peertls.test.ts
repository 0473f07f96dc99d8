/**
 * TLS between nodes (`[cluster] tls_*`), with real processes on loopback: a 3-node cluster whose
 * peer connections are TLS with mutual verification replicates writes; a node whose certificate
 * another CA signed is refused (and logged, without the secret); a plaintext peer client with the
 * right cluster secret is refused where the same client over TLS is answered. The CAs and
 * certificates are made with the openssl CLI into a temp dir.
 */
import { Duration, Effect, Option, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PingRequest } from "../../proto-schemas/src/Gossip.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { readTlsFiles } from "../../src/config/TlsFiles.ts"
import { Reader } from "../../src/config/NodeConfig.ts"
import type { PeerTls } from "../../src/config/ClusterTls.ts"
import { GossipRpcs } from "../../src/membership/GossipRpcs.ts"
import * as ClusterAuth from "../../src/network/ClusterAuth.ts"
import { makePeerClient, PeerClientProtocol } from "../../src/network/PeerNetwork.ts"
import { awaitFormed, type ClusterNode, clusterSections, connectTo, startCluster, until } from "../support/Cluster.ts"
import { freePort, run, type RunningServer, startMarmot } from "../support/Servers.ts"

const SECRET = "tls-e2e-secret-do-not-log"
let dir: string
let nodes: Array<ClusterNode> = []
let rogue: RunningServer | undefined

const openssl = async (args: ReadonlyArray<string>) => {
  const r = await run("openssl", args, { timeoutMs: 30_000, cwd: dir })
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`)
}

/** A CA `name`.pem and a certificate `name`-node.pem (+ key) it signed for 127.0.0.1. */
const makeCa = async (name: string) => {
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`])
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}-node.key`, "-out", `${name}-node.csr`, "-subj", "/CN=marmot node"])
  await openssl([
    "x509", "-req", "-in", `${name}-node.csr`, "-CA", `${name}.pem`, "-CAkey", `${name}.key`, "-CAcreateserial",
    "-out", `${name}-node.pem`, "-days", "2", "-extfile", "san.cnf"
  ])
}

/** The `[cluster]` TLS keys of a node presenting `name`'s certificate and trusting CA `ca`. */
const tlsKeys = (name: string, ca = name) => `tls_cert_file = "${path.join(dir, `${name}-node.pem`)}"
tls_key_file = "${path.join(dir, `${name}-node.key`)}"
tls_ca_file = "${path.join(dir, `${ca}.pem`)}"
require_tls = true`

/** The same files as a node would load them. */
const peerTls = (name: string, ca = name): PeerTls => {
  const files = readTlsFiles(new Reader({
    tls_cert_file: path.join(dir, `${name}-node.pem`),
    tls_key_file: path.join(dir, `${name}-node.key`),
    tls_ca_file: path.join(dir, `${ca}.pem`)
  }, "cluster"))
  return { ...files!, ca: files!.ca! }
}

/** Pings the peer port of `node` with the right cluster secret, over TLS with `tls` or plaintext. */
const ping = (node: ClusterNode, tls: PeerTls | undefined) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function*() {
        const peers = yield* makePeerClient(GossipRpcs, { timeout: Duration.seconds(10) })
        return yield* peers.callAddress(`127.0.0.1:${node.peerPort}`, (c) => c.Ping(new PingRequest({ from: nodeId(99) })))
      }).pipe(
        Effect.provide(PeerClientProtocol.layerSocket({ tls, openTimeoutMs: 5000 })),
        Effect.provide(ClusterAuth.layerClient(Option.some(Redacted.make(SECRET))))
      )
    ).pipe(Effect.either)
  )

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "marmot-peertls-"))
  await run("sh", ["-c", "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.cnf"], { timeoutMs: 5000, cwd: dir })
  await makeCa("cluster")
  await makeCa("rogue")
  nodes = await startCluster({ size: 3, secret: SECRET, admin: true, clusterKeys: tlsKeys("cluster") })
  await awaitFormed(nodes[0]!, 90_000)
}, 180_000)

afterAll(async () => {
  await Promise.all([...nodes.map((n) => n.server.stop()), rogue?.stop()])
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

describe("TLS between nodes", () => {
  it("a 3-node cluster over mutual TLS replicates a write to every node", async () => {
    const c = await connectTo(nodes[1]!)
    try {
      await c.query("CREATE DATABASE IF NOT EXISTS tlsdb")
      await c.query("CREATE TABLE IF NOT EXISTS tlsdb.t (id INT PRIMARY KEY, v VARCHAR(20))")
      await c.query("INSERT INTO tlsdb.t VALUES (1, 'over tls')")
    } finally {
      c.destroy()
    }
    for (const node of nodes) {
      const reader = await connectTo(node)
      try {
        const seen = await until(async () => {
          const [rows] = await reader.query<Array<RowDataPacket>>("SELECT v FROM tlsdb.t WHERE id = 1")
          return rows[0]?.["v"] === "over tls"
        }, 30_000, 200)
        expect(seen, `node ${node.index + 1} has the row`).toBe(true)
      } finally {
        reader.destroy()
      }
    }
  }, 60_000)

  it("the same peer client is answered over TLS with a cluster certificate, refused over plaintext or with another CA's certificate", async () => {
    const answered = await ping(nodes[0]!, peerTls("cluster"))
    expect(answered._tag).toBe("Right")
    if (answered._tag === "Right") expect(answered.right.nodeId).toBe(1)

    const plaintext = await ping(nodes[0]!, undefined)
    expect(plaintext._tag).toBe("Left")
    if (plaintext._tag === "Left") expect(plaintext.left._tag).toBe("PeerConnectionError")

    // a client trusting the cluster CA but presenting a certificate the rogue CA signed
    const foreign = await ping(nodes[0]!, { ...peerTls("rogue"), ca: peerTls("cluster").ca })
    expect(foreign._tag).toBe("Left")
    if (foreign._tag === "Left") expect(foreign.left._tag).toBe("PeerConnectionError")

    expect(await until(async () => /peer connection refused: TLS handshake failed/.test(nodes[0]!.server.output()), 10_000)).toBe(true)
  }, 60_000)

  it("a node whose certificate another CA signed is refused: it never joins and its writes fail", async () => {
    const refusals = () => (nodes[0]!.server.output().match(/peer connection refused: TLS handshake failed/g) ?? []).length
    const before = refusals()
    rogue = await startMarmot({
      config: clusterSections({
        peerPort: await freePort(),
        seeds: [`127.0.0.1:${nodes[0]!.peerPort}`],
        secret: SECRET,
        clusterKeys: tlsKeys("rogue", "cluster")
      }),
      args: ["--node-id", "9", "--workers", "1"],
      readyTimeoutMs: 120_000
    })
    const c = await connectTo({ index: 8, server: rogue, peerPort: 0 })
    try {
      // the rogue node would need its seed for a quorum: without a TLS session with it, nothing commits
      const refused = await c.query("CREATE DATABASE rogue_db").then(() => undefined, (e: { errno?: number }) => e)
      expect(refused?.errno).toBe(1105)
    } finally {
      c.destroy()
    }
    expect(await until(async () => refusals() > before, 20_000)).toBe(true)
    const members = await fetch(`http://127.0.0.1:${nodes[0]!.adminPort}/admin/cluster/members`, { headers: { "X-Marmot-Secret": SECRET } })
    const ids = ((await members.json()) as { members: Array<{ id: number }> }).members.map((m) => m.id)
    expect(ids.sort()).toEqual([1, 2, 3])
    for (const node of [...nodes.map((n) => n.server), rogue]) expect(node.output()).not.toContain(SECRET)
  }, 180_000)
})
