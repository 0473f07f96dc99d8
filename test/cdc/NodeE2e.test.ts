/**
 * End to end from MySQL statements: a real node in cluster mode (one member, so writes go through
 * its write coordinator, the ApplyQueue and the Applier into the commit logs) takes statements from
 * mysql2; a publisher on the node's data dir sends what they committed to a real nats-server.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import mysql from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { streamNameFor } from "../../src/cdc/NatsSink.ts"
import { type RunningServer, startMarmot } from "../support/Servers.ts"
import { freePort, type NatsServer, removeDir, settingsFor, sink, startNats, startPublisher, waitFor } from "./support.ts"

let nats: NatsServer
let node: RunningServer
beforeAll(async () => {
  nats = await startNats()
  node = await startMarmot({ config: `[cluster]\ngrpc_port = ${await freePort()}\n[replication]\ndefault_write_consistency = "ONE"\n` })
})
afterAll(async () => {
  await node?.stop()
  await nats?.stop()
  if (nats !== undefined) removeDir(nats.storeDir)
})

const readAll = async (prefix: string) => {
  const nc = await connect({ servers: nats.url })
  try {
    const jsm = await jetstreamManager(nc)
    const name = streamNameFor(prefix)
    const info = await jsm.streams.info(name)
    const out: Array<{ subject: string; payload: any }> = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(name, { seq })
      if (m !== null) out.push({ subject: m.subject, payload: m.json<any>().payload })
    }
    return out
  } finally {
    await nc.close()
  }
}

describe("CDC from a running node", () => {
  it("CREATE DATABASE, CREATE TABLE, a multi-row INSERT, UPDATE and DELETE arrive as schema changes and row events in order", async () => {
    const c = await mysql.createConnection({ host: node.host, port: node.port, user: "root" })
    await c.query("CREATE DATABASE shop")
    await c.query("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))")
    await c.query("INSERT INTO shop.items VALUES (1, 'tea'), (2, 'milk')")
    await c.query("UPDATE shop.items SET name = 'green tea' WHERE id = 1")
    await c.query("DELETE FROM shop.items WHERE id = 2")
    await c.end()

    const pub = await startPublisher(settingsFor(node.dataDir, [sink({ name: "js", type: "nats", natsUrl: nats.url, topicPrefix: "e2e" })]))
    try {
      await waitFor("the node's commits published", 30_000, () => pub.acks.reduce((n, a) => n + a.txns.length, 0) >= 5)
    } finally {
      await pub.stop()
    }
    const msgs = await readAll("e2e")
    const summary = msgs.map(({ subject, payload: p }) =>
      subject.endsWith(".schema_changes")
        ? `ddl ${p.ddl.startsWith("CREATE DATABASE") ? "database" : p.source.table}`
        : subject.endsWith(".transaction")
        ? `${p.status}${p.status === "END" ? ` ${p.event_count}` : ""}`
        : `${subject} ${p.op} ${JSON.stringify(p.after ?? p.before)}`
    )
    expect(summary).toEqual([
      "ddl database",
      "ddl items",
      "BEGIN",
      `e2e.shop.items c {"id":1,"name":"tea"}`,
      `e2e.shop.items c {"id":2,"name":"milk"}`,
      "END 2",
      "BEGIN",
      `e2e.shop.items u {"id":1,"name":"green tea"}`,
      "END 1",
      "BEGIN",
      `e2e.shop.items d {"id":2,"name":"milk"}`,
      "END 1"
    ])
    const update = msgs.find((m) => m.payload.op === "u")!.payload
    expect(update.before).toEqual({ id: 1, name: "tea" })
    expect(update.source).toMatchObject({ connector: "marmot", db: "shop", table: "items", commit_node: 1 })
  })
})

describe("CDC from a standalone node that runs its own publisher", () => {
  it("commits of two worker processes reach JetStream through the [publisher] of the node's config, in order", { timeout: 180_000 }, async () => {
    const standalone = await startMarmot({
      args: ["--workers", "2"],
      config: `[publisher]\nenabled = true\n[[publisher.sinks]]\nname = "js"\ntype = "nats"\nnats_url = "${nats.url}"\ntopic_prefix = "solo"\n`
    })
    try {
      const c = await mysql.createConnection({ host: standalone.host, port: standalone.port, user: "root" })
      await c.query("CREATE DATABASE shop")
      await c.query("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))")
      await c.query("INSERT INTO shop.items VALUES (1, 'tea'), (2, 'milk')")
      await c.query("BEGIN")
      await c.query("UPDATE shop.items SET name = 'green tea' WHERE id = 1")
      await c.query("DELETE FROM shop.items WHERE id = 2")
      await c.query("COMMIT")
      await c.query("CREATE TABLE shop.nokey (v INT)")
      await c.query("INSERT INTO shop.nokey VALUES (1)")
      await c.end()
      const rows = async () => (await readAll("solo").catch(() => [])).filter((m) => m.subject.startsWith("solo.shop."))
      await waitFor("the standalone node's row events", 30_000, async () => (await rows()).length >= 4)
      const events = (await rows()).map(({ subject, payload: p }) => `${subject} ${p.op} ${JSON.stringify(p.after ?? p.before)}`)
      expect(events).toEqual([
        `solo.shop.items c {"id":1,"name":"tea"}`,
        `solo.shop.items c {"id":2,"name":"milk"}`,
        `solo.shop.items u {"id":1,"name":"green tea"}`,
        `solo.shop.items d {"id":2,"name":"milk"}`
      ])
    } finally {
      await standalone.stop()
    }
  })
})
