/**
 * The composition root of a read-only replica's core (`[replica] enabled`), once per node like a
 * cluster node's core (in the supervisor, or in the only process with `--workers 1`): its storage,
 * a participant that only applies what the follower pulls, the follower, and the admin port.
 * No membership, no peer server, no coordinator: the replica is not a member.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import * as ReplicaHttp from "../admin/ReplicaHttp.ts"
import { HlcClock } from "../clock/HlcClock.ts"
import type { NodeSettings } from "../config/NodeConfig.ts"
import * as ClusterAuth from "../network/ClusterAuth.ts"
import { PeerClientProtocol } from "../network/PeerNetwork.ts"
import type { BusHub } from "../process/ProcessBus.ts"
import { Bootstrap } from "../replica/Bootstrap.ts"
import { Follower, FollowerConfig } from "../replica/Follower.ts"
import { Forwarder, ForwarderConfig } from "../replica/Forwarder.ts"
import { CommitSignal } from "../replication/CommitSignal.ts"
import { CursorStore } from "../replication/CursorStore.ts"
import { reviveRequest } from "../replication/Replicator.ts"
import { Participant, ParticipantConfig } from "../replication/Participant.ts"
import { type RunningCore, startOnStorage, workerMetricsLayer } from "./NodeCore.ts"
import type { WorkerMetricsTotals } from "../admin/WorkerMetrics.ts"


/** The follower and everything it needs but storage and the transport. */
export const replicaLayer = (settings: NodeSettings, workers?: WorkerMetricsTotals) => {
  const replica = settings.replica
  const secret = replica.secret === undefined ? Option.none() : Option.some(Redacted.make(replica.secret))
  const admin = settings.admin.httpPort === 0
    ? Layer.empty
    : ReplicaHttp.layer({ port: settings.admin.httpPort, host: settings.admin.bindAddress }).pipe(Layer.provide(workerMetricsLayer(workers)))
  return Layer.merge(admin, Forwarder.layer).pipe(
    Layer.provideMerge(Follower.layer),
    Layer.provide(Bootstrap.layerSnapshot(nodeId(settings.nodeId))),
    Layer.provide(Participant.layer.pipe(Layer.provide(CommitSignal.layer))),
    Layer.provide(Layer.mergeAll(
      Layer.succeed(FollowerConfig, {
        nodeId: nodeId(settings.nodeId),
        followAddresses: replica.followAddresses,
        replicateDatabases: replica.replicateDatabases,
        pollIntervalMs: replica.pollIntervalMs,
        discoveryIntervalMs: replica.discoveryIntervalMs,
        batchSize: 500,
        snapshotThresholdTransactions: replica.snapshotThresholdTransactions
      }),
      Layer.succeed(ParticipantConfig, { heartbeatTimeoutMs: settings.transaction.heartbeatTimeoutSeconds * 1000 }),
      HlcClock.layer({ nodeId: nodeId(settings.nodeId), maxDriftMs: settings.replication.maxClockDriftMs }),
      ClusterAuth.layerClient(secret),
      Layer.succeed(ForwarderConfig, { timeoutMs: replica.forwardTimeoutMs })
    ))
  )
}

/** Starts the replica's core on TCP with its own storage connections. */
export const startReplica = async (settings: NodeSettings, hub: BusHub, workers?: WorkerMetricsTotals): Promise<RunningCore> => {
  const runtime = await startOnStorage(
    settings,
    hub,
    replicaLayer(settings, workers).pipe(Layer.provide(PeerClientProtocol.layerSocket()), Layer.provide(CursorStore.layerFile(settings.dataDir)))
  )
  return {
    readyNote: `replica-of=${settings.replica.followAddresses.join(",")}`,
    // with write_mode = "reject" the workers refuse writes themselves and never get here
    replicate: (request) => runtime.runPromise(Effect.flatMap(Forwarder, (f) => f.forward(reviveRequest(request)))),
    dispose: () => runtime.dispose()
  }
}
