/**
 * One write's trace across three nodes of the simulated cluster (the production core on the
 * simulated network under TestClock), captured by an in-memory span exporter: the coordinator's
 * spans, the PREPARE/COMMIT RPCs and every participant's prepare, commit and apply share the trace
 * of the statement that started it, with the expected parents.
 */
import { assert, describe, it } from "@effect/vitest"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, HashMap, Layer, Logger } from "effect"
import * as Telemetry from "../../src/telemetry/Telemetry.ts"
import { eventually, whileAdvancing } from "../membership/SimCluster.ts"
import { appSchema, makeReplicationCluster, upsert } from "../replication/SimReplication.ts"

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
const nodeOf = (span: ReadableSpan) => span.attributes["marmot.node_id"]

describe("tracing a write", () => {
  it.scoped("one trace id from the statement through the coordinator to the prepare, commit and apply of all 3 nodes", () => {
    const exporter = new InMemorySpanExporter()
    const telemetry = Telemetry.layerWith({ serviceName: "sim", sampleRatio: 1 }, { nodeId: 0, process: "core" }, new SimpleSpanProcessor(exporter))
    return Effect.gen(function*() {
      const cluster = yield* makeReplicationCluster({ size: 3, seed: "tracing", core: { tracing: true } })
      yield* eventually("everyone ALIVE", Effect.map(Effect.flatMap(cluster.node(2), (n) => n.membership.alive), (a) => a.length === 3), 5000)
      yield* whileAdvancing(cluster.write(0, appSchema))
      yield* eventually("schema everywhere", Effect.map(cluster.rows(2, "app", "SELECT 1 FROM t"), () => true), 3000)
      exporter.reset()

      yield* whileAdvancing(cluster.write(0, upsert(1n, 7n)).pipe(Effect.withSpan("mysql.write", { root: true })))
      const applied = (spans: ReadonlyArray<ReadableSpan>) => new Set(spans.filter((s) => s.name === "participant.apply").map(nodeOf)).size === 3
      yield* eventually("every node applied it", Effect.sync(() => applied(exporter.getFinishedSpans())), 3000)

      const spans = exporter.getFinishedSpans()
      const root = spans.find((s) => s.name === "mysql.write")!
      const traceId = root.spanContext().traceId
      const inTrace = spans.filter((s) => s.spanContext().traceId === traceId)
      const byId = new Map(inTrace.map((s) => [s.spanContext().spanId, s]))
      const named = (name: string) => inTrace.filter((s) => s.name === name)
      const parentName = (s: ReadableSpan) => byId.get(parentOf(s) ?? "")?.name

      // No stray traces: gossip and anti-entropy RPCs start none, and every write span is in this one.
      assert.deepStrictEqual(spans.filter((s) => s.spanContext().traceId !== traceId).map((s) => s.name), [])
      const write = named("coordinator.write")
      assert.strictEqual(write.length, 1)
      assert.strictEqual(parentOf(write[0]!), root.spanContext().spanId)
      assert.strictEqual(nodeOf(write[0]!), 1)
      assert.strictEqual(parentName(named("coordinator.prepare")[0]!), "coordinator.write")
      assert.strictEqual(parentName(named("coordinator.commit")[0]!), "coordinator.write")

      for (const phase of ["prepare", "commit"] as const) {
        const rpc = phase === "prepare" ? "Prepare" : "Commit"
        const clientSpans = named(`PeerClient.${rpc}`)
        const serverSpans = named(`PeerServer.${rpc}`)
        assert.strictEqual(clientSpans.length, 2, `two PeerClient.${rpc}`)
        for (const c of clientSpans) assert.strictEqual(parentName(c), `coordinator.${phase}`)
        assert.strictEqual(serverSpans.length, 2, `two PeerServer.${rpc}`)
        for (const s of serverSpans) assert.strictEqual(parentName(s), `PeerClient.${rpc}`)
        const participants = named(`participant.${phase}`)
        assert.deepStrictEqual(participants.map(nodeOf).sort(), [1, 2, 3], `participant.${phase} on every node`)
        for (const p of participants) {
          assert.strictEqual(parentName(p), nodeOf(p) === 1 ? `coordinator.${phase}` : `PeerServer.${rpc}`, `parent of ${p.name} on node ${nodeOf(p)}`)
        }
      }
      for (const apply of named("participant.apply")) assert.strictEqual(parentName(apply), "participant.commit")
      assert.deepStrictEqual(named("participant.prepare").map((s) => s.attributes["marmot.vote"]), ["Prepared", "Prepared", "Prepared"])
    }).pipe(Effect.provide(Layer.fresh(telemetry)))
  }, 60_000)

  it.effect("log lines written inside a traced span carry its trace_id and span_id; others do not", () => {
    const lines: Array<string> = []
    const capture = Telemetry.withTraceIds(Logger.make(({ annotations, message }) => {
      lines.push(`${String(message)} ${JSON.stringify(Object.fromEntries(HashMap.toEntries(annotations)))}`)
    }))
    const telemetry = Telemetry.layerWith({ serviceName: "log", sampleRatio: 1 }, { nodeId: 1, process: "core" }, new SimpleSpanProcessor(new InMemorySpanExporter()))
    return Effect.gen(function*() {
      const span = yield* Effect.logInfo("inside").pipe(Effect.zipRight(Effect.currentSpan), Effect.withSpan("coordinator.write"))
      yield* Effect.logInfo("outside")
      assert.deepStrictEqual(lines, [`inside {"trace_id":"${span.traceId}","span_id":"${span.spanId}"}`, "outside {}"])
      assert.match(span.traceId, /^[0-9a-f]{32}$/)
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)), Effect.provide(Layer.fresh(telemetry)))
  })
})
