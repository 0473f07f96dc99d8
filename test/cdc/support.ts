/**
 * CDC test support: commit logs written by the real Applier into real database files (the way a
 * node writes them), and real brokers on loopback: Debian's nats-server with JetStream and
 * librdkafka's mock Kafka cluster (test/support/kafka-mock-cluster.c, built with gcc into a temp
 * dir). Every process started here is stopped by its own pid (SIGTERM, SIGKILL after 5 s), and a
 * process `exit` hook SIGKILLs any that a failed test left behind.
 */
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Queue } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { RowChange } from "../../proto-schemas/src/RowChange.ts"
import type { SqlValue } from "../../proto-schemas/src/Values.ts"
import { CommittedTransaction, txnIdOf } from "../../proto-schemas/src/Transaction.ts"
import { CursorStore, cursorsPath } from "../../src/cdc/CursorStore.ts"
import { eventIdHeader } from "../../src/cdc/KafkaSink.ts"
import { type Acked, connectSink, Publisher } from "../../src/cdc/Publisher.ts"
import type { CommitSignal } from "../../src/replication/CommitSignal.ts"
import { defaults, NodeConfig, type NodeSettings } from "../../src/config/NodeConfig.ts"
import { type SinkSettings, sinkDefaults } from "../../src/config/PublisherSettings.ts"
import { primaryKeyOf } from "../../src/replication/Applier.ts"
import { ApplyQueue } from "../../src/replication/ApplyQueue.ts"
import { dmlKey } from "../../src/replication/IntentKey.ts"
import { collect } from "../../src/replication/LogGc.ts"
import { DatabaseHandle } from "../../src/storage/Storage.ts"
import { freePort, repoRoot } from "../support/Servers.ts"

export { freePort, repoRoot }

// ---------------------------------------------------------------------------------------------
// process bookkeeping

const live = new Set<ChildProcess>()

process.on("exit", () => {
  for (const c of live) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, "SIGKILL")
      } catch {
        // gone
      }
    }
  }
})

const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((resolve) => c.once("exit", () => resolve()))

/** Stops a child by its own pid: SIGTERM, then SIGKILL after 5 s. */
export const stopChild = async (c: ChildProcess): Promise<void> => {
  if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
    c.kill("SIGTERM")
    const timer = setTimeout(() => c.kill("SIGKILL"), 5_000)
    await exited(c)
    clearTimeout(timer)
  }
  live.delete(c)
}

const track = (c: ChildProcess): ChildProcess => {
  live.add(c)
  c.once("exit", () => live.delete(c))
  return c
}

export const tempDir = (label: string): string => mkdtempSync(path.join(os.tmpdir(), `marmot-cdc-${label}-`))

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const waitFor = async (what: string, ms: number, probe: () => boolean | Promise<boolean>): Promise<void> => {
  const deadline = Date.now() + ms
  for (;;) {
    if (await probe()) return
    if (Date.now() > deadline) throw new Error(`${what}: not reached after ${ms} ms`)
    await sleep(25)
  }
}

// ---------------------------------------------------------------------------------------------
// commit logs

/**
 * A node's database file written like the node writes it: a DatabaseHandle (capture triggers) and
 * the replication ApplyQueue (group commits through the Applier, DDL run before the row changes).
 */
export class TestDatabase {
  readonly handle: DatabaseHandle
  private readonly queue: ApplyQueue
  private wall = 1_700_000_000_000
  private logical = 0
  private readonly shapes = new Map<string, { columns: Array<string>; pk: Array<string> }>()

  constructor(
    readonly dataDir: string,
    readonly name: string,
    ddl: ReadonlyArray<string>,
    readonly node = 1,
    /** Called after each group commit, as the node's ApplyQueue signals its publisher (CommitSignal). */
    onCommitted?: () => void
  ) {
    mkdirSync(path.join(dataDir, "databases"), { recursive: true })
    this.handle = new DatabaseHandle(name, path.join(dataDir, "databases", `${name}.db`))
    for (const sql of ddl) this.handle.writer.exec(sql)
    this.queue = new ApplyQueue(this.handle, () => this.shapes.clear(), onCommitted)
  }

  private nextHlc(wallMs?: number): Hlc.Hlc {
    const now = wallMs ?? Date.now()
    if (now > this.wall) {
      this.wall = now
      this.logical = 0
    } else this.logical++
    return Hlc.make(this.wall, this.logical, nodeId(this.node))
  }

  private shape(table: string) {
    let s = this.shapes.get(table)
    if (s === undefined) {
      const columns = (this.handle.writer.db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name)
      s = { columns, pk: [...primaryKeyOf(this.handle.writer.db, table)] }
      this.shapes.set(table, s)
    }
    return s
  }

  change(table: string, op: "I" | "U" | "D", before: ReadonlyArray<SqlValue> | undefined, after: ReadonlyArray<SqlValue> | undefined): RowChange {
    const { columns, pk } = this.shape(table)
    const image = (op === "I" ? after : before)!
    return new RowChange({
      database: this.name,
      table,
      op,
      key: dmlKey(table, pk.map((c) => image[columns.indexOf(c)] as never)),
      columns,
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after })
    })
  }

  /** Commits one transaction through the ApplyQueue; resolves once it is in the file and its log. */
  async commit(
    changes: ReadonlyArray<RowChange>,
    opts: { wallMs?: number; ddl?: ReadonlyArray<string>; databaseOp?: "create"; hlc?: Hlc.Hlc } = {}
  ): Promise<CommittedTransaction> {
    const hlc = opts.hlc ?? this.nextHlc(opts.wallMs)
    const txn = new CommittedTransaction({
      txnId: txnIdOf(hlc),
      commitHlc: hlc,
      coordinator: hlc.nodeId,
      database: this.name,
      changes,
      schemaVersion: 0,
      ...(opts.ddl === undefined ? {} : { ddl: opts.ddl }),
      ...(opts.databaseOp === undefined ? {} : { databaseOp: opts.databaseOp })
    })
    await this.queue.push(txn)
    return txn
  }

  insert(table: string, row: ReadonlyArray<SqlValue>, opts: { hlc?: Hlc.Hlc } = {}) {
    return this.commit([this.change(table, "I", undefined, row)], opts)
  }

  update(table: string, before: ReadonlyArray<SqlValue>, after: ReadonlyArray<SqlValue>) {
    return this.commit([this.change(table, "U", before, after)])
  }

  delete(table: string, row: ReadonlyArray<SqlValue>) {
    return this.commit([this.change(table, "D", row, undefined)])
  }

  /** Log GC (src/replication/LogGc.ts) deletes every entry now, as if every peer had pulled it long ago. */
  collectWholeLog(): bigint {
    const done = collect(this.handle, { nowMs: Date.now() + 86_400_000, minRetentionMs: 0, maxRetentionMs: 0, consumed: 1n << 62n })
    if (done === undefined) throw new Error("log GC found the file busy")
    return done.horizon
  }

  close() {
    this.handle.close()
  }
}

export const sink = (over: Partial<SinkSettings> & Pick<SinkSettings, "name" | "type">): SinkSettings => ({
  ...sinkDefaults(),
  brokers: [],
  natsUrl: "",
  topicPrefix: "cdc",
  retryInitialMs: 20,
  retryMaxMs: 200,
  ...over
})

export const settingsFor = (dataDir: string, sinks: ReadonlyArray<SinkSettings>, node = 1): NodeSettings => ({
  ...defaults,
  nodeId: node,
  dataDir,
  publisher: { enabled: true, sinks }
})

// ---------------------------------------------------------------------------------------------
// nats-server

export interface NatsServer {
  readonly url: string
  readonly port: number
  readonly storeDir: string
  pid(): number | undefined
  /** Stops the server (by its pid) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port and store. */
  start(): Promise<void>
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    import("node:net").then((net) => {
      const s = net.connect(port, "127.0.0.1")
      s.once("connect", () => {
        s.destroy()
        resolve(true)
      })
      s.once("error", () => resolve(false))
    })
  })

export const startNats = async (): Promise<NatsServer> => {
  const dir = tempDir("nats")
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    const c = track(spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", path.join(dir, "js")], {
      stdio: ["ignore", "pipe", "pipe"]
    }))
    let out = ""
    c.stdout?.on("data", (b: Buffer) => (out += b))
    c.stderr?.on("data", (b: Buffer) => (out += b))
    child = c
    await waitFor(`nats-server on ${port} (${out})`, 10_000, async () => {
      if (c.exitCode !== null) throw new Error(`nats-server exited: ${out}`)
      return /Server is ready/.test(out) && await portOpen(port)
    })
  }
  await start()
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: dir,
    pid: () => child?.pid,
    start,
    stop: async () => {
      if (child !== undefined) await stopChild(child)
    }
  }
}

export const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true })

// ---------------------------------------------------------------------------------------------
// librdkafka mock cluster

let mockBinary: string | undefined
let mockBuildDir: string | undefined

/** Removes the built mock (call in afterAll). */
export const removeKafkaMockBinary = () => {
  if (mockBuildDir !== undefined) removeDir(mockBuildDir)
  mockBinary = undefined
  mockBuildDir = undefined
}

/** Builds test/support/kafka-mock-cluster.c with gcc against librdkafka-dev, once per test process. */
export const kafkaMockBinary = (): string => {
  if (mockBinary !== undefined) return mockBinary
  const dir = tempDir("kmock-build")
  const out = path.join(dir, "kafka-mock-cluster")
  const r = spawnSync("gcc", ["-O2", "-o", out, path.join(repoRoot, "test/support/kafka-mock-cluster.c"), "-lrdkafka"], { encoding: "utf8" })
  mockBuildDir = dir
  if (r.status !== 0) throw new Error(`gcc kafka-mock-cluster.c failed (is librdkafka-dev installed?): ${r.stderr}`)
  mockBinary = out
  return out
}

export interface KafkaMock {
  readonly brokers: ReadonlyArray<string>
  /** Sends a fault command ("down 1", "up 1", "err 0 6 3", "rtt 1 300") and waits for its answer. */
  command(line: string): Promise<string>
  stop(): Promise<void>
}

export const startKafkaMock = async (brokerCount: number, topics: ReadonlyArray<string>): Promise<KafkaMock> => {
  const c = track(spawn(kafkaMockBinary(), [String(brokerCount), ...topics], { stdio: ["pipe", "pipe", "pipe"] }))
  let out = ""
  let err = ""
  c.stdout?.on("data", (b: Buffer) => (out += b))
  c.stderr?.on("data", (b: Buffer) => (err += b))
  await waitFor("kafka mock BOOTSTRAP", 10_000, () => {
    if (c.exitCode !== null) throw new Error(`kafka-mock-cluster exited: ${err}`)
    return /BOOTSTRAP \S+\n/.test(out)
  })
  const brokers = /BOOTSTRAP (\S+)/.exec(out)![1]!.split(",")
  return {
    brokers,
    command: async (line) => {
      const mark = out.length
      c.stdin!.write(line + "\n")
      let answer = ""
      await waitFor(`kafka mock command ${line}`, 5_000, () => {
        const m = new RegExp(`^${line} -> (.*)$`, "m").exec(out.slice(mark))
        if (m !== null) answer = m[1]!
        return m !== null
      })
      return answer
    },
    stop: async () => {
      c.stdin?.end()
      await stopChild(c)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// a Kafka consumer

export interface Consumed {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly key: any
  readonly value: any
  readonly id: string
}

/** A kafkajs consumer group reading `topics` from the beginning; `messages` fills as they come. */
export const consume = async (brokers: ReadonlyArray<string>, topics: ReadonlyArray<string>) => {
  const kafka = new Kafka({ clientId: "cdc-test-consumer", brokers: [...brokers], logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `cdc-test-${Math.random()}`, sessionTimeout: 6_000, heartbeatInterval: 500 })
  const messages: Array<Consumed> = []
  await consumer.connect()
  await consumer.subscribe({ topics: [...topics], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      messages.push({
        topic,
        partition,
        offset: Number(message.offset),
        key: message.key === null ? null : JSON.parse(message.key.toString()),
        value: message.value === null ? null : JSON.parse(message.value.toString()),
        id: message.headers?.[eventIdHeader]?.toString() ?? ""
      })
    }
  })
  return { messages, stop: () => consumer.disconnect() }
}

// ---------------------------------------------------------------------------------------------
// the crash child

/** Runs test/cdc/crash-child.ts until it SIGKILLs itself after publishing up to `crashAtSeq`; returns its output. */
export const runCrashChild = async (settings: NodeSettings, crashAtSeq: number): Promise<string> => {
  const c = track(spawn(process.execPath, ["--import", "tsx", "test/cdc/crash-child.ts", JSON.stringify({ settings, crashAtSeq })], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"]
  }))
  let out = ""
  c.stdout?.on("data", (b: Buffer) => (out += b))
  c.stderr?.on("data", (b: Buffer) => (out += b))
  const timer = setTimeout(() => c.kill("SIGKILL"), 30_000)
  await exited(c)
  clearTimeout(timer)
  if (c.signalCode !== "SIGKILL" || !/crashing after publishing/.test(out)) {
    throw new Error(`crash child ended with ${c.signalCode ?? c.exitCode} without crashing where asked: ${out}`)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// workloads and a running publisher

/**
 * `count` transactions on `items (id INT PRIMARY KEY, v TEXT)` over `keys` keys: insert a missing
 * row, else delete it when i % deleteEvery = 0, else update it. Returns each key's history as
 * "c:v", "u:v" or "d", in commit order, and the number of deletes.
 */
export const mixedWorkload = async (db: TestDatabase, count: number, keys: number, deleteEvery: number) => {
  const history = new Map<number, Array<string>>()
  const rows = new Map<number, string>()
  let deletes = 0
  for (let i = 0; i < count; i++) {
    const id = i % keys
    const old = rows.get(id)
    const list = history.get(id) ?? []
    history.set(id, list)
    if (old === undefined) {
      await db.insert("items", [BigInt(id), `v${i}`])
      rows.set(id, `v${i}`)
      list.push(`c:v${i}`)
    } else if (i % deleteEvery === 0) {
      await db.delete("items", [BigInt(id), old])
      rows.delete(id)
      list.push("d")
      deletes++
    } else {
      await db.update("items", [BigInt(id), old], [BigInt(id), `v${i}`])
      rows.set(id, `v${i}`)
      list.push(`u:v${i}`)
    }
  }
  return { history, deletes }
}

/** The node's real Publisher layer in this process (woken by `commits` when given), with every acknowledged batch collected. */
export const startPublisher = async (settings: NodeSettings, commits?: CommitSignal["Type"]) => {
  const layer = commits === undefined ? Publisher.layer : Publisher.layerWith({ connect: connectSink, commits })
  const rt = ManagedRuntime.make(layer.pipe(Layer.provide(NodeConfig.layer(settings)), Layer.provide(Logger.minimumLogLevel(LogLevel.Error))))
  const pub = await rt.runPromise(Publisher)
  const acks: Array<Acked> = []
  const fiber = rt.runFork(Effect.scoped(Effect.gen(function*() {
    const q = yield* pub.acks
    for (;;) acks.push(yield* Queue.take(q))
  })))
  return {
    pub,
    acks,
    /** True once a batch covering commit-log entry `seq` was acknowledged. */
    acked: (seq: bigint) => acks.some((a) => a.txns.some((t) => t.seq === seq)),
    stop: async () => {
      await rt.runPromise(Effect.asVoid(fiber.interruptAsFork(fiber.id())))
      await rt.dispose()
    }
  }
}

/** The cursors saved under `dataDir`. */
export const savedCursors = (dataDir: string) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(CursorStore.makeAt(cursorsPath(dataDir)), (s) => s.all)))
