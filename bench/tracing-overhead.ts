/**
 * What tracing costs a write: one node's cluster core in-process (a real peer port and real SQLite
 * files, no peers, so no network time hides the cost), N QUORUM writes through its coordinator,
 * one after the other, with `[telemetry]` off, and on without export. The tree to measure is the
 * argument (so an older checkout runs the same workload): `node --import tsx bench/tracing-overhead.ts [tree] [writes]`.
 */
import { Effect, Layer } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const tree = resolve(process.argv[2] ?? ".")
const writes = Number(process.argv[3] ?? 3000)
const mod = (path: string) => import(join(tree, path))

const { coreLayer, fileStores, socketTransport } = await mod("src/app/CoreLayer.ts")
const { defaults, NodeConfig } = await mod("src/config/NodeConfig.ts")
const { ProcessBus } = await mod("src/process/ProcessBus.ts")
const { Storage } = await mod("src/storage/Storage.ts")
const { WriteCoordinator } = await mod("src/replication/WriteCoordinator.ts")
const { appSchema, upsert } = await mod("test/replication/SimReplication.ts")
const { nodeId } = await mod("proto-schemas/src/NodeId.ts")
const hasTelemetry = existsSync(join(tree, "src/telemetry/Telemetry.ts"))
const Telemetry = hasTelemetry ? await mod("src/telemetry/Telemetry.ts") : undefined

const run = (mode: "off" | "on") =>
  Effect.gen(function*() {
    const coordinator = yield* WriteCoordinator
    yield* coordinator.write(appSchema)
    for (let i = 0; i < 200; i++) yield* coordinator.write(upsert(BigInt(i % 100), BigInt(i))) // warm-up
    const started = performance.now()
    for (let i = 0; i < writes; i++) yield* coordinator.write(upsert(BigInt(i % 100), BigInt(i)))
    const ms = performance.now() - started
    return `${mode}: ${writes} writes in ${ms.toFixed(0)} ms = ${(ms * 1000 / writes).toFixed(1)} µs/write`
  })

const measure = async (mode: "off" | "on") => {
  const dir = mkdtempSync(join(tmpdir(), "marmot-trace-bench-"))
  const settings = { ...defaults, nodeId: 1, dataDir: dir }
  const telemetry = Telemetry === undefined
    ? Layer.empty
    : Telemetry.layer({ enabled: mode === "on", otlpEndpoint: "", serviceName: "bench", sampleRatio: 1 }, { nodeId: 1, process: "core" })
  const core = coreLayer({
    nodeId: nodeId(1),
    advertiseAddress: "127.0.0.1:0",
    seedNodes: [],
    secret: "bench",
    gossip: { gossipIntervalMs: 1000, gossipFanout: 3, suspectTimeoutMs: 5000, deadTimeoutMs: 10000 },
    heartbeatTimeoutMs: 10000,
    writeTimeoutMs: 5000,
    antiEntropyIntervalMs: 60000,
    maxClockDriftMs: 5000,
    tracing: mode === "on"
  }).pipe(
    Layer.provide(socketTransport({ host: "127.0.0.1", port: 0, secret: "bench" })),
    Layer.provide(fileStores(dir)),
    Layer.provideMerge(Storage.layer),
    Layer.provide(NodeConfig.layer(settings)),
    Layer.provide(ProcessBus.layerSingle),
    Layer.provide(telemetry)
  )
  try {
    const program = Layer.build(core).pipe(Effect.flatMap((ctx) => Effect.provide(run(mode), ctx))) as Effect.Effect<string, unknown, never>
    return await Effect.runPromise(Effect.scoped(program))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The span machinery alone: what one `withSpan` adds with the tracer switched off (telemetry off). */
const spanCost = () => {
  const n = 200_000
  const time = (effect: Effect.Effect<void>) => {
    const started = performance.now()
    Effect.runSync(Effect.forEach(Array.from({ length: n }), () => effect, { discard: true }).pipe(Effect.withTracerEnabled(false)))
    return ((performance.now() - started) * 1e6) / n
  }
  time(Effect.void) // warm-up
  const plain = time(Effect.void)
  const spanned = time(Effect.void.pipe(Effect.withSpan("coordinator.write", { captureStackTrace: false, attributes: { "marmot.node_id": 1 } })))
  return `withSpan with the tracer off: ${(spanned - plain).toFixed(0)} ns per span (${plain.toFixed(0)} ns for the effect alone)`
}

console.log(`${tree} (telemetry module: ${hasTelemetry ? "yes" : "no"})`)
if (hasTelemetry) console.log(spanCost())
console.log(await measure("off"))
if (hasTelemetry) console.log(await measure("on"))
