/**
 * Tracing with real processes: a 3-node cluster with `[telemetry]` on exports its spans by
 * OTLP/HTTP to a small collector this test serves on loopback. One INSERT through node 1 (two
 * MySQL workers, so the write crosses the worker → supervisor IPC hop) gives one trace whose spans
 * come from node 1's worker and core and from the other two nodes, parent to child. A read is a
 * `mysql.read` span of its own.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { awaitFormed, type ClusterNode, connectTo, startCluster, until } from "../support/Cluster.ts"

interface ExportedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly name: string
  /** `service.instance.id` of the process that exported it (node-<id>-worker / node-<id>-core). */
  readonly instance: string
  readonly service: string
  readonly attributes: ReadonlyArray<OtlpAttribute>
}

interface OtlpValue {
  readonly stringValue?: string
  readonly intValue?: number | string
}
interface OtlpAttribute {
  readonly key: string
  readonly value: OtlpValue
}
interface OtlpRequest {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource: { readonly attributes: ReadonlyArray<OtlpAttribute> }
    readonly scopeSpans: ReadonlyArray<{ readonly spans: ReadonlyArray<Omit<ExportedSpan, "instance" | "service">> }>
  }>
}

const received: Array<ExportedSpan> = []
const posts: Array<{ path: string; contentType: string }> = []
let collector: Server
let nodes: Array<ClusterNode> = []

const attribute = (attributes: ReadonlyArray<OtlpAttribute>, key: string) => attributes.find((a) => a.key === key)?.value.stringValue ?? ""

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      posts.push({ path: req.url ?? "", contentType: req.headers["content-type"] ?? "" })
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpRequest
      for (const { resource, scopeSpans } of body.resourceSpans) {
        const instance = attribute(resource.attributes, "service.instance.id")
        const service = attribute(resource.attributes, "service.name")
        for (const { spans } of scopeSpans) for (const s of spans) received.push({ ...s, parentSpanId: s.parentSpanId ?? "", instance, service })
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve))
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`
  nodes = await startCluster({
    size: 3,
    extraConfig: `[telemetry]\nenabled = true\notlp_endpoint = "${endpoint}"\nservice_name = "marmot-e2e"\nsample_ratio = 1.0\n`
  })
  await awaitFormed(nodes[0]!, 90_000)
}, 180_000)

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.server.stop()))
  await new Promise((resolve) => collector?.close(resolve))
})

describe("tracing across nodes (OTLP/HTTP)", () => {
  it("one INSERT is one trace: node 1's worker and coordinator, and the prepare, commit and apply of all three nodes", async () => {
    const c = await connectTo(nodes[0]!)
    try {
      await c.query("CREATE DATABASE IF NOT EXISTS traced")
      await c.query("CREATE TABLE IF NOT EXISTS traced.t (id INT PRIMARY KEY, v INT)")
      await c.query("INSERT INTO traced.t VALUES (42, 1)")
    } finally {
      c.destroy()
    }
    // The trace of the INSERT: the one whose root statement span carries one row for `traced`.
    const traceOfInsert = () =>
      received.find((s) =>
        s.name === "mysql.write" && s.instance === "node-1-worker" && attribute(s.attributes, "db.name") === "traced" &&
        String(s.attributes.find((a) => a.key === "marmot.rows")?.value.intValue) === "1"
      )?.traceId
    const complete = () => {
      const traceId = traceOfInsert()
      if (traceId === undefined) return false
      const applies = received.filter((s) => s.traceId === traceId && s.name === "participant.apply").map((s) => s.instance)
      return new Set(applies).size === 3
    }
    expect(await until(async () => complete(), 30_000, 250)).toBe(true)

    expect(posts.every((p) => p.path === "/v1/traces" && p.contentType.startsWith("application/json"))).toBe(true)
    const traceId = traceOfInsert()!
    const spans = received.filter((s) => s.traceId === traceId)
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const parentOf = (s: ExportedSpan) => byId.get(s.parentSpanId)
    const one = (name: string, instance: string) => {
      const found = spans.filter((s) => s.name === name && s.instance === instance)
      expect(found, `${name} on ${instance}`).toHaveLength(1)
      return found[0]!
    }

    const root = one("mysql.write", "node-1-worker")
    expect(root.parentSpanId).toBe("")
    expect(root.service).toBe("marmot-e2e")
    // worker → supervisor over IPC: the coordinator's span is the statement's child
    const write = one("coordinator.write", "node-1-core")
    expect(parentOf(write)?.spanId).toBe(root.spanId)
    for (const node of [2, 3]) {
      for (const [phase, rpc] of [["prepare", "Prepare"], ["commit", "Commit"]] as const) {
        const participant = one(`participant.${phase}`, `node-${node}-core`)
        const server = parentOf(participant)!
        expect(server.name).toBe(`PeerServer.${rpc}`)
        expect(server.instance).toBe(`node-${node}-core`)
        const client = parentOf(server)!
        expect(client.name).toBe(`PeerClient.${rpc}`)
        expect(client.instance).toBe("node-1-core")
        expect(parentOf(client)?.name).toBe(`coordinator.${phase}`)
        expect(parentOf(parentOf(client)!)?.spanId).toBe(write.spanId)
      }
      expect(parentOf(one("participant.apply", `node-${node}-core`))?.name).toBe("participant.commit")
    }
    expect(parentOf(one("participant.prepare", "node-1-core"))?.name).toBe("coordinator.prepare")
    expect(new Set(spans.map((s) => s.instance))).toEqual(new Set(["node-1-worker", "node-1-core", "node-2-core", "node-3-core"]))
    // gossip and anti-entropy run all along, and start no trace of their own
    expect(received.filter((s) => /^Peer(Server|Client)\./.test(s.name) && s.parentSpanId === "")).toEqual([])
  }, 90_000)

  it("a read is a span of its own (mysql.read), failed when the client got an error", async () => {
    const c = await connectTo(nodes[1]!, "traced")
    try {
      await c.query("SELECT v FROM t WHERE id = 42")
      await c.query("SELECT * FROM missing").catch(() => undefined)
    } finally {
      c.destroy()
    }
    const reads = () => received.filter((s) => s.name === "mysql.read" && s.instance === "node-2-worker")
    expect(await until(async () => reads().length >= 2, 30_000, 250)).toBe(true)
    for (const read of reads()) {
      expect(read.parentSpanId).toBe("")
      expect(attribute(read.attributes, "db.name")).toBe("traced")
      expect(attribute(read.attributes, "db.operation")).toBe("select")
    }
    const statuses = reads().map((s) => (s as unknown as { status?: { code?: number } }).status?.code ?? 0)
    expect(statuses).toContain(2) // ERROR: the unknown table
    expect(statuses).toContain(1) // OK
  }, 90_000)
})