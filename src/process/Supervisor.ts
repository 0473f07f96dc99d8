import { existsSync, rmSync } from "node:fs"
import cluster, { type Worker } from "node:cluster"
import type { WorkerMetricsTotals } from "../admin/WorkerMetrics.ts"
import type { RunningCore } from "../app/NodeCore.ts"
import type { ReplicatedMessage } from "../replication/Replicator.ts"
import type { BusMessage, SupervisorMessage } from "./ProcessBus.ts"

/** The node's cluster core, when it has one: replicates the workers' writes; hears their broadcasts. */
export interface SupervisedCore {
  readonly core: RunningCore
  /** Hands a worker's broadcast to the core's storage. */
  readonly deliver: (message: BusMessage) => void
  /** Registers where the core's own broadcasts go (every worker). */
  readonly onBroadcast: (send: (message: BusMessage) => void) => void
}

const log = (message: string) => process.stderr.write(`marmot-ts supervisor: ${message}\n`)

/**
 * The node's first process when it runs several MySQL workers. It forks the workers (they share
 * the listening socket through node:cluster and the SQLite files through SQLite's own locking),
 * relays their broadcasts, prints one ready line when all listen, restarts a worker that dies,
 * and stops them all on SIGTERM/SIGINT. Workers exit by themselves if this process dies.
 */
export const supervise = (
  workerCount: number,
  nodeId: number,
  cluster_?: SupervisedCore,
  unixSocket?: string,
  metrics?: WorkerMetricsTotals
): void => {
  // The workers share one unix socket file: it is made and removed here, never by a worker.
  const removeSocket = () => {
    if (unixSocket !== undefined && existsSync(unixSocket)) rmSync(unixSocket)
  }
  removeSocket()
  process.on("exit", removeSocket)
  cluster.setupPrimary({ exec: process.argv[1]!, execArgv: process.execArgv, args: process.argv.slice(2), serialization: "advanced" })
  const workers = new Map<number, Worker>()
  const ready = new Set<number>()
  let announced = false
  let stopping = false
  let exitCode = 0

  const fork = (index: number) => {
    const worker = cluster.fork({ MARMOT_WORKER_INDEX: String(index), MARMOT_WORKER_COUNT: String(workerCount) })
    workers.set(index, worker)
    const pid = String(worker.process.pid)
    worker.on("message", (m: SupervisorMessage) => {
      if (m._tag === "WorkerMetrics") {
        metrics?.update(pid, m.snapshot)
      } else if (m._tag === "Broadcast") {
        for (const [i, w] of workers) if (i !== index && w.isConnected()) w.send(m.message)
        cluster_?.deliver(m.message)
      } else if (m._tag === "Replicate") {
        if (cluster_ === undefined) return
        void cluster_.core.replicate(m.request, m.trace).then((reply) => {
          if (worker.isConnected()) worker.send({ _tag: "Replicated", id: m.id, reply } satisfies ReplicatedMessage)
        })
      } else if (m._tag === "Ready") {
        ready.add(index)
        if (!announced && ready.size === workerCount) {
          announced = true
          const note = cluster_ === undefined ? "" : ` ${cluster_.core.readyNote}`
          process.stdout.write(`marmot-ts ready: node=${nodeId} mysql=${m.host}:${m.port} workers=${workerCount}${note}\n`)
        }
      }
    })
    worker.on("exit", (code, signal) => {
      metrics?.workerExited(pid)
      workers.delete(index)
      ready.delete(index)
      if (stopping) {
        if (workers.size === 0) process.exit(exitCode)
        return
      }
      if (!announced) {
        log(`worker ${index} exited during startup (code ${code}, signal ${signal}); stopping`)
        stop(1)
        return
      }
      log(`worker ${index} exited (code ${code}, signal ${signal}); restarting it`)
      setTimeout(() => {
        if (!stopping) fork(index)
      }, 500)
    })
  }

  cluster_?.onBroadcast((message) => {
    for (const w of workers.values()) if (w.isConnected()) w.send(message)
  })

  const stop = (code: number) => {
    if (stopping) return
    stopping = true
    exitCode = code
    if (cluster_ !== undefined) {
      // The core leaves the cluster (gossip LEAVING) and closes its files while the workers stop.
      void cluster_.core.dispose().catch(() => {})
    }
    if (workers.size === 0) process.exit(code)
    for (const w of workers.values()) w.process.kill("SIGTERM")
    setTimeout(() => {
      for (const w of workers.values()) w.process.kill("SIGKILL")
      process.exit(code)
    }, 10_000).unref()
  }

  process.on("SIGTERM", () => stop(0))
  process.on("SIGINT", () => stop(0))
  for (let i = 0; i < workerCount; i++) fork(i)
}

/** In a worker: the supervisor is gone (even by kill -9), so this process must go too. */
export const exitWithSupervisor = (): void => {
  process.on("disconnect", () => process.exit(0))
}
