/**
 * A 3-node cluster of real marmot processes for the chaos harness: every node keeps its data dir
 * across kill -9 and restart, can be paused (SIGSTOP/SIGCONT of the node and its workers) and, when
 * libfaketime is installed, runs under it with a per-node offset file so the nemesis can skew its
 * wall clock while it runs (monotonic time is left alone, so timers still fire on time). Clients
 * reach node i through its unix socket, which partitions do not touch. Every process is stopped by
 * its pid (Servers.ts); `destroy()` also removes the namespaces and the run dir.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import mysql from "mysql2/promise"
import type { Connection } from "mysql2/promise"
import { descendants, freePort, pidAlive, type RunningServer, startMarmot } from "../support/Servers.ts"
import { clusterSections } from "../support/Cluster.ts"
import type { Topology } from "./Net.ts"

export const FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

export interface ChaosNodeState {
  readonly index: number
  server: RunningServer | undefined
  paused: Array<number>
  /** Set while the nemesis holds the node down; a node that exits otherwise has crashed. */
  killedByNemesis: boolean
  skewMs: number
  starts: number
}

export interface ChaosClusterOptions {
  readonly size: number
  readonly topology: Topology
  readonly runDir: string
  /** Extra TOML for every node. */
  readonly extraConfig?: string
  readonly useFaketime: boolean
  readonly log: (line: string) => void
}

export class ChaosCluster {
  readonly nodes: Array<ChaosNodeState>
  private readonly peerPorts: Array<number> = []
  /** Exits the nemesis did not cause: (node, status, last output). */
  readonly crashes: Array<{ node: number; status: string; tail: string }> = []

  private constructor(readonly options: ChaosClusterOptions) {
    this.nodes = Array.from({ length: options.size }, (_, index) => ({
      index,
      server: undefined,
      paused: [],
      killedByNemesis: false,
      skewMs: 0,
      starts: 0
    }))
  }

  static async start(options: ChaosClusterOptions): Promise<ChaosCluster> {
    mkdirSync(options.runDir, { recursive: true })
    const c = new ChaosCluster(options)
    for (let i = 0; i < options.size; i++) {
      c.peerPorts.push(options.topology.kind === "netns" ? 7000 : await freePort())
      c.writeSkew(i, 0)
    }
    await Promise.all(c.nodes.map((n) => c.startNode(n.index)))
    return c
  }

  get faketime(): boolean {
    return this.options.useFaketime
  }

  socketOf(i: number): string {
    return path.join(this.options.runDir, `n${i + 1}.sock`)
  }

  dataDirOf(i: number): string {
    return path.join(this.options.runDir, `data-n${i + 1}`)
  }

  private peerAddress(i: number): string {
    return `${this.options.topology.peerHost(i)}:${this.peerPorts[i]}`
  }

  private config(i: number): string {
    // [mysql] first: clusterSections ends with [transaction] and the caller's extra TOML
    return `
[mysql]
unix_socket = "${this.socketOf(i)}"
lock_wait_timeout_seconds = 5
max_connections = 200
${clusterSections({
      peerPort: this.peerPorts[i]!,
      bind: this.options.topology.peerHost(i),
      advertise: this.peerAddress(i),
      seeds: this.nodes.map((_, j) => this.peerAddress(j)),
      secret: "chaos-secret",
      ...(this.options.extraConfig === undefined ? {} : { extra: this.options.extraConfig })
    })}`
  }

  private skewFile(i: number): string {
    return path.join(this.options.runDir, `skew-n${i + 1}`)
  }

  private writeSkew(i: number, ms: number) {
    // libfaketime's relative offset syntax: "+2.5" / "-1.25" seconds
    const s = ms / 1000
    writeFileSync(this.skewFile(i), `${s >= 0 ? "+" : ""}${s}\n`)
    this.nodes[i]!.skewMs = ms
  }

  async startNode(i: number): Promise<void> {
    const n = this.nodes[i]!
    const dataDir = this.dataDirOf(i)
    mkdirSync(dataDir, { recursive: true })
    const env: Record<string, string> = this.options.useFaketime
      ? {
        LD_PRELOAD: FAKETIME_LIB,
        FAKETIME_TIMESTAMP_FILE: this.skewFile(i),
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
        FAKETIME_CACHE_DURATION: "1"
      }
      : {}
    // a stale socket file from a killed node would make the new one fail to listen
    rmSync(this.socketOf(i), { force: true })
    n.server = await startMarmot({
      dataDir,
      config: this.config(i),
      // One MySQL worker per node: with --workers 2 each worker unlinks and rebinds the unix socket
      // and the socket file ends up missing (reported to the lead); the clients need the socket.
      args: ["--node-id", String(i + 1), "--workers", "1"],
      readyTimeoutMs: 120_000,
      wrapper: this.options.topology.wrapper(i),
      env
    })
    n.starts++
    n.killedByNemesis = false
    const server = n.server
    const watch = setInterval(() => {
      if (n.server !== server) return clearInterval(watch)
      if (!server.alive()) {
        clearInterval(watch)
        if (!n.killedByNemesis) {
          const status = JSON.stringify(server.exitStatus())
          this.crashes.push({ node: i, status, tail: server.output().slice(-4000) })
          this.options.log(`!! node ${i + 1} exited on its own: ${status}`)
        }
      }
    }, 200)
    watch.unref()
  }

  /** kill -9 of the node and all its processes, by pid. */
  async kill(i: number): Promise<void> {
    const n = this.nodes[i]!
    const server = n.server
    if (server === undefined) return
    n.killedByNemesis = true
    const family = [server.pid, ...descendants(server.pid)]
    for (const pid of family) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // gone
      }
    }
    n.paused = []
    await server.stop()
    for (const pid of family) if (pidAlive(pid)) throw new Error(`node ${i + 1}: pid ${pid} survived SIGKILL`)
    n.server = undefined
  }

  async restart(i: number): Promise<void> {
    await this.startNode(i)
  }

  /** SIGSTOP the node and its workers (each by pid). */
  pause(i: number): void {
    const n = this.nodes[i]!
    if (n.server === undefined || n.paused.length > 0) return
    const family = [n.server.pid, ...descendants(n.server.pid)]
    for (const pid of family) {
      try {
        process.kill(pid, "SIGSTOP")
        n.paused.push(pid)
      } catch {
        // gone
      }
    }
  }

  resume(i: number): void {
    const n = this.nodes[i]!
    for (const pid of n.paused.splice(0)) {
      try {
        process.kill(pid, "SIGCONT")
      } catch {
        // gone
      }
    }
  }

  skew(i: number, ms: number): void {
    this.writeSkew(i, ms)
  }

  /** Undo every fault: resume paused nodes, clocks back to 0, partitions healed, dead nodes restarted. */
  async healAll(): Promise<void> {
    for (const n of this.nodes) this.resume(n.index)
    for (const n of this.nodes) if (n.skewMs !== 0) this.writeSkew(n.index, 0)
    this.options.topology.healAll()
    await Promise.all(this.nodes.filter((n) => n.server === undefined).map((n) => this.restart(n.index)))
  }

  async connect(i: number, database?: string, connectTimeout = 3000): Promise<Connection> {
    const c = await mysql.createConnection({
      socketPath: this.socketOf(i),
      user: "root",
      password: "",
      connectTimeout,
      ...(database === undefined ? {} : { database }),
      supportBigNumbers: true,
      bigNumberStrings: true
    })
    c.on("error", () => {})
    return c
  }

  async destroy(): Promise<void> {
    for (const n of this.nodes) this.resume(n.index)
    await Promise.all(this.nodes.map(async (n) => {
      n.killedByNemesis = true
      await n.server?.stop()
    }))
    this.options.topology.destroy()
  }
}

export const faketimeAvailable = (): boolean => existsSync(FAKETIME_LIB)

export const defaultRunDir = (tag: string): string => path.join(os.tmpdir(), `marmot-chaos-${tag}`)
