/**
 * Who GC keeps a commit log for (LogGc.ts): members, read-only replicas within gc_max, and this
 * node's CDC sinks, read from the publisher's real cursor file.
 */
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { CursorStore, cursorsPath } from "../../src/cdc/CursorStore.ts"
import { defaults } from "../../src/config/NodeConfig.ts"
import { sinkDefaults } from "../../src/config/PublisherSettings.ts"
import { makeCdcPositions } from "../../src/replication/CdcPositions.ts"
import type { Consumer } from "../../src/replication/LogConsumers.ts"
import { lowestConsumed, type LogReaders } from "../../src/replication/LogGc.ts"

const root = mkdtempSync(join(tmpdir(), "marmot-loggc-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const hourMs = 3_600_000
const consumer = (id: number, lastPullMs: number, positions: Record<string, bigint>): Consumer => ({
  nodeId: nodeId(id),
  lastPullMs,
  positions: new Map(Object.entries(positions))
})
const readers = (over: Partial<LogReaders>): LogReaders => ({
  self: nodeId(1),
  members: [{ nodeId: nodeId(1), status: "ALIVE" }, { nodeId: nodeId(2), status: "ALIVE" }, { nodeId: nodeId(3), status: "DEAD" }],
  consumers: [consumer(2, 0, { app: 50n }), consumer(3, 0, { app: 40n })],
  cdc: undefined,
  nowMs: 10 * hourMs,
  maxRetentionMs: 24 * hourMs,
  ...over
})

describe("GC keeps the log for", () => {
  it("every member but REMOVED ones, a member that never pulled the database counting as 0", () => {
    expect(lowestConsumed("app", readers({}))).toBe(40n)
    expect(lowestConsumed("other", readers({}))).toBe(0n)
    const removed = readers({ members: [{ nodeId: nodeId(1), status: "ALIVE" }, { nodeId: nodeId(2), status: "ALIVE" }, { nodeId: nodeId(3), status: "REMOVED" }] })
    expect(lowestConsumed("app", removed)).toBe(50n)
    expect(lowestConsumed("app", readers({ members: [{ nodeId: nodeId(1), status: "ALIVE" }], consumers: [] }))).toBeUndefined()
  })

  it("a replica for the databases it follows, while its last pull is within gc_max (always when gc_max is 0)", () => {
    const replica = consumer(100, 9 * hourMs, { app: 7n })
    const consumers = [consumer(2, 0, { app: 50n }), consumer(3, 0, { app: 40n }), replica]
    expect(lowestConsumed("app", readers({ consumers }))).toBe(7n)
    expect(lowestConsumed("other", readers({ consumers, members: [{ nodeId: nodeId(1), status: "ALIVE" }] }))).toBeUndefined()
    const gone = readers({ consumers, nowMs: 9 * hourMs + 24 * hourMs + 1 })
    expect(lowestConsumed("app", gone)).toBe(40n)
    expect(lowestConsumed("app", { ...gone, maxRetentionMs: 0 })).toBe(7n)
  })

  it("the CDC sinks of this node, from the publisher's saved cursors", async () => {
    const dataDir = join(root, "node")
    const sink = (name: string, filterDatabases: ReadonlyArray<string>) => ({
      ...sinkDefaults(), name, type: "nats" as const, brokers: [], natsUrl: "nats://127.0.0.1:1", topicPrefix: "t", filterDatabases
    })
    const config = {
      ...defaults,
      dataDir,
      publisher: { enabled: true, sinks: [sink("all", ["*"]), sink("shop-only", ["shop"])] }
    }
    const positions = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const store = yield* CursorStore.makeAt(cursorsPath(dataDir))
      const cdc = yield* makeCdcPositions(config)
      const before = cdc("app")
      yield* store.save("all", "app", { seq: 12n, txnId: "a" })
      yield* store.save("all", "shop", { seq: 30n, txnId: "b" })
      yield* store.save("shop-only", "shop", { seq: 9n, txnId: "c" })
      return { before, app: cdc("app"), shop: cdc("shop"), other: cdc("other") }
    })))
    expect(positions).toEqual({ before: 0n, app: 12n, shop: 9n, other: 0n })
    const off = await Effect.runPromise(Effect.scoped(Effect.map(makeCdcPositions({ ...config, publisher: { enabled: false, sinks: [] } }), (cdc) => cdc("app"))))
    expect(off).toBeUndefined()
  })
})
