import { Effect, Either } from "effect"
import cluster from "node:cluster"
import { availableParallelism } from "node:os"
import { parseArgs } from "node:util"
import { load } from "./config/NodeConfig.ts"
import { exitWithSupervisor, supervise } from "./process/Supervisor.ts"
import type { Replicator } from "./replication/Replicator.ts"

const usage = `marmot-ts: a leaderless, replicated SQLite server that speaks the MySQL protocol

Usage: marmot [options]
       marmot status --admin <host:port> [--secret <secret>]   the cluster at a glance (src/cli/status.ts)
  --config <file>        TOML config file (see config/marmot.example.toml)
  --node-id <n>          node id (default 1)
  --data-dir <dir>       where the SQLite files live (default ./marmot-data)
  --mysql-port <port>    MySQL port (default 3306; 0 picks a free port)
  --mysql-bind <addr>    MySQL bind address (default 127.0.0.1)
  --unix-socket <path>   also listen on this unix socket
  --workers <n>          MySQL worker processes (default 0 = one per CPU)
  --grpc-port <port>     peer port: joins this node to a cluster (default 0 = standalone)
  --seed-nodes <list>    comma-separated host:port peers to join through
                         (the cluster secret comes from [cluster] cluster_secret or MARMOT_CLUSTER_SECRET)
  --admin-port <port>    admin/metrics HTTP port (default 0 = off; [admin] in the config)
  --follow-addresses <list>  comma-separated host:port peer addresses of cluster nodes: with [replica] enabled,
                         this node is a read-only replica of that cluster (secret: [replica] secret or MARMOT_REPLICA_SECRET)
  --pid-file <file>      write the node's pid here (removed on exit)
  --daemon               run in the background; output goes to <data-dir>/marmot.log
  --help                 this text
`

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`)
  process.exit(2)
}

if (process.argv[2] === "status") {
  const { runStatus } = await import("./cli/status.ts")
  process.exit(await runStatus(process.argv.slice(3)))
}

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        config: { type: "string" },
        "node-id": { type: "string" },
        "data-dir": { type: "string" },
        "mysql-port": { type: "string" },
        "mysql-bind": { type: "string" },
        "unix-socket": { type: "string" },
        workers: { type: "string" },
        "grpc-port": { type: "string" },
        "seed-nodes": { type: "string" },
        "admin-port": { type: "string" },
        "follow-addresses": { type: "string" },
        "pid-file": { type: "string" },
        daemon: { type: "boolean" },
        help: { type: "boolean" }
      },
      strict: true
    }).values
  } catch (e) {
    return fail(`${e instanceof Error ? e.message : String(e)}\n\n${usage}`)
  }
})()

if (parsed.help === true) {
  process.stdout.write(usage)
  process.exit(0)
}

const integer = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  return Number.isInteger(n) && n >= 0 ? n : fail(`--${flag} must be a non-negative integer, got '${v}'`)
}

const loaded = Effect.runSync(Effect.either(load(parsed.config, {
  nodeId: integer("node-id", parsed["node-id"]),
  dataDir: parsed["data-dir"],
  mysqlPort: integer("mysql-port", parsed["mysql-port"]),
  mysqlBind: parsed["mysql-bind"],
  unixSocket: parsed["unix-socket"],
  workers: integer("workers", parsed.workers),
  grpcPort: integer("grpc-port", parsed["grpc-port"]),
  seedNodes: parsed["seed-nodes"]?.split(",").map((s) => s.trim()).filter((s) => s !== ""),
  clusterSecret: process.env["MARMOT_CLUSTER_SECRET"] || undefined,
  adminPort: integer("admin-port", parsed["admin-port"]),
  adminSecret: process.env["MARMOT_ADMIN_SECRET"] || undefined,
  followAddresses: parsed["follow-addresses"]?.split(",").map((s) => s.trim()).filter((s) => s !== ""),
  replicaSecret: process.env["MARMOT_REPLICA_SECRET"] || undefined
})))
if (Either.isLeft(loaded)) fail(loaded.left.message)
const settings = Either.getOrThrow(loaded)
const workers = settings.mysql.workers === 0 ? availableParallelism() : settings.mysql.workers

if (cluster.isPrimary && parsed.daemon === true) {
  const { daemonize } = await import("./process/Daemon.ts")
  daemonize(settings.dataDir)
  process.exit(0)
}
if (cluster.isPrimary && parsed["pid-file"] !== undefined) {
  const { writePidFile } = await import("./process/Daemon.ts")
  writePidFile(parsed["pid-file"])
}

const clustered = settings.cluster.grpcPort > 0
// A read-only replica has a core too (the follower), but no peer port and no write path.
const replica = settings.replica.enabled
// A replica with write_mode = "forward" hands its writes to its core, which sends them to the cluster.
const forwarding = replica && settings.replica.writeMode === "forward"
// The MySQL workers' metrics, added up where the admin port is served (the supervisor or the only process).
const workerMetrics = cluster.isPrimary && settings.admin.httpPort > 0
  ? new (await import("./admin/WorkerMetrics.ts")).WorkerMetricsTotals()
  : undefined
if (workerMetrics !== undefined && !clustered && !replica) {
  const { startStandaloneAdmin } = await import("./admin/StandaloneHttp.ts")
  await startStandaloneAdmin(settings, workerMetrics, workers > 1 ? workers : 1).catch((e: unknown) =>
    fail(`cannot serve the admin port: ${e instanceof Error ? e.message : String(e)}`)
  )
}

// The core's storage and the MySQL side of the node hear each other through a hub.
const startCore = async () => {
  const { localHub, startCore } = await import("./app/NodeCore.ts")
  const hub = localHub()
  try {
    const core = replica
      ? await (await import("./app/ReplicaCore.ts")).startReplica(settings, hub.core, workerMetrics)
      : await startCore(settings, hub.core, workerMetrics)
    return { core, mysql: hub.mysql }
  } catch (e) {
    return fail(`cannot start the ${replica ? "replica" : "cluster"} core: ${e instanceof Error ? e.message : String(e)}`)
  }
}

// A standalone node's change publisher runs once per node: in the supervisor, or the only process.
if (cluster.isPrimary && !clustered && !replica && settings.publisher.enabled) {
  const { startPublisher } = await import("./app/NodeCore.ts")
  await startPublisher(settings).catch((e: unknown) => fail(`cannot start the change publisher: ${e instanceof Error ? e.message : String(e)}`))
}

if (cluster.isPrimary && workers > 1) {
  if (clustered || replica) {
    const { core, mysql } = await startCore()
    supervise(workers, settings.nodeId, { core, deliver: mysql.toWorkers, onBroadcast: mysql.fromWorkers }, settings.mysql.unixSocket, workerMetrics)
  } else {
    supervise(workers, settings.nodeId, undefined, settings.mysql.unixSocket, workerMetrics)
  }
} else {
  // Loaded only where MySQL is served, so the supervisor process stays small.
  const [{ MainLayer }, { ProcessBus }, NodeRuntime, { Layer }] = await Promise.all([
    import("./app/MainLayer.ts"),
    import("./process/ProcessBus.ts"),
    import("@effect/platform-node/NodeRuntime"),
    import("effect")
  ])
  let bus = cluster.isWorker
    ? ProcessBus.layerWorker(Number(process.env["MARMOT_WORKER_INDEX"] ?? 0), Number(process.env["MARMOT_WORKER_COUNT"] ?? 1))
    : workerMetrics !== undefined
    ? ProcessBus.layerSingleReporting(workerMetrics)
    : ProcessBus.layerSingle
  let replicator: Replicator | undefined
  if ((clustered || forwarding) && cluster.isWorker) {
    replicator = (await import("./replication/Replicator.ts")).ipcReplicator()
  } else if (clustered) {
    const { core, mysql } = await startCore()
    replicator = { replicate: core.replicate }
    bus = ProcessBus.layerSingleWithCore(mysql, core.readyNote, workerMetrics)
  } else if (replica && !cluster.isWorker) {
    const { core, mysql } = await startCore()
    if (forwarding) replicator = { replicate: core.replicate }
    bus = ProcessBus.layerSingleWithCore(mysql, core.readyNote, workerMetrics)
  }
  if (cluster.isWorker) exitWithSupervisor()
  NodeRuntime.runMain(
    Layer.launch(MainLayer(settings, bus, replicator)).pipe(Effect.tapErrorCause(Effect.logError)),
    { disableErrorReporting: true, disablePrettyLogger: true }
  )
}
