/**
 * The composition root of a node's cluster core, which exists once per node (in the supervisor
 * process, or in the only process with `--workers 1`): membership, the peer server and clients,
 * the participant, the write coordinator and anti-entropy. The transport is a parameter so the
 * same wiring runs over TCP here and over the simulated network in tests.
 */
import { ddlDefaults } from "../config/DdlSettings.ts"
import type { RpcServer } from "@effect/rpc"
import { Effect, Layer, Option, Redacted } from "effect"
import * as AdminHttp from "../admin/AdminHttp.ts"
import { nodeId, type NodeId } from "../../proto-schemas/src/NodeId.ts"
import { HlcClock } from "../clock/HlcClock.ts"
import type { PeerTls } from "../config/ClusterTls.ts"
import { gcDefaults, type GcSettings } from "../config/GcSettings.ts"
import type { NodeSettings } from "../config/NodeConfig.ts"
import { GossipRpcs } from "../membership/GossipRpcs.ts"
import { Membership, MembershipConfig } from "../membership/Membership.ts"
import { MembershipStore } from "../membership/MembershipStore.ts"
import * as ClusterAuth from "../network/ClusterAuth.ts"
import * as PeerLane from "../network/PeerLane.ts"
import * as PeerListener from "../network/PeerListener.ts"
import { PeerClientProtocol } from "../network/PeerNetwork.ts"
import * as PeerServer from "../network/PeerServer.ts"
import { AntiEntropy, AntiEntropyConfig } from "../replication/AntiEntropy.ts"
import { CursorStore } from "../replication/CursorStore.ts"
import { LogConsumers } from "../replication/LogConsumers.ts"
import { LogGc, LogGcConfig } from "../replication/LogGc.ts"
import { Participant, ParticipantConfig } from "../replication/Participant.ts"
import { CommitSignal } from "../replication/CommitSignal.ts"
import { Snapshots } from "../replication/Snapshots.ts"
import * as ReplicationHandlers from "../replication/ReplicationHandlers.ts"
import { SnapshotExports } from "../replication/SnapshotSource.ts"
import { ReplicationRpcs } from "../replication/ReplicationRpcs.ts"
import { CoordinatorConfig, WriteCoordinator } from "../replication/WriteCoordinator.ts"
import * as ReplicaRpcs from "../replica/ReplicaRpcs.ts"

export const PeerRpcs = GossipRpcs.merge(ReplicationRpcs, ReplicaRpcs.ReplicaRpcs)

export interface CoreOptions {
  readonly nodeId: NodeId
  readonly advertiseAddress: string
  readonly seedNodes: ReadonlyArray<string>
  readonly secret: string | undefined
  readonly gossip: {
    readonly gossipIntervalMs: number
    readonly gossipFanout: number
    readonly suspectTimeoutMs: number
    readonly deadTimeoutMs: number
  }
  readonly heartbeatTimeoutMs: number
  readonly writeTimeoutMs: number
  readonly antiEntropyIntervalMs: number
  readonly maxClockDriftMs: number
  /** Commit-log GC; Marmot's defaults when absent. */
  readonly gc?: GcSettings
  /** `[ddl] lock_lease_seconds` in ms; Marmot's default when absent. */
  readonly ddlLockLeaseMs?: number
  /** This node's initial membership meta (e.g. `admin`: its admin HTTP address). */
  readonly meta?: Readonly<Record<string, string>>
  /** How long a snapshot copy is shared between pullers; 30 s when absent. */
  readonly snapshotCacheTtlMs?: number
  /** `[telemetry] enabled`: spans in the coordinator and participant, traced peer calls. */
  readonly tracing?: boolean
}

/** `host:port` of the node's admin HTTP port, gossiped in its meta; undefined when it has none. */
export const adminAddressOf = (settings: NodeSettings): string | undefined =>
  settings.admin.httpPort === 0 ? undefined : settings.admin.advertiseAddress !== ""
    ? settings.admin.advertiseAddress
    : `${settings.admin.bindAddress}:${settings.admin.httpPort}`

export const coreOptions = (settings: NodeSettings, advertiseAddress: string): CoreOptions => ({
  nodeId: nodeId(settings.nodeId),
  advertiseAddress,
  seedNodes: settings.cluster.seedNodes,
  secret: settings.cluster.clusterSecret,
  gossip: settings.cluster,
  heartbeatTimeoutMs: settings.transaction.heartbeatTimeoutSeconds * 1000,
  writeTimeoutMs: settings.replication.writeTimeoutMs,
  antiEntropyIntervalMs: settings.replication.antiEntropyIntervalMs,
  maxClockDriftMs: settings.replication.maxClockDriftMs,
  gc: settings.replication.gc,
  ddlLockLeaseMs: settings.ddl.lockLeaseMs,
  meta: adminAddressOf(settings) === undefined ? {} : { admin: adminAddressOf(settings)! },
  tracing: settings.telemetry.enabled,
  snapshotCacheTtlMs: settings.replica.snapshotCacheTtlSeconds * 1000
})

/**
 * Everything of the core but storage (the node's `Storage`) and the transport: the peer server
 * protocol and the peer client protocol.
 */
const secretOf = (secret: string | undefined) => secret === undefined ? Option.none() : Option.some(Redacted.make(secret))

export const coreLayer = (options: CoreOptions) => {
  const secret = secretOf(options.secret)
  const configs = Layer.mergeAll(
    MembershipConfig.layer({
      nodeId: options.nodeId,
      advertiseAddress: options.advertiseAddress,
      seedNodes: options.seedNodes,
      ...options.gossip,
      meta: options.meta ?? {}
    }),
    Layer.succeed(ParticipantConfig, {
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      ddlLockLeaseMs: options.ddlLockLeaseMs ?? ddlDefaults.lockLeaseMs,
      tracing: options.tracing
    }),
    Layer.succeed(CoordinatorConfig, {
      nodeId: options.nodeId,
      writeTimeoutMs: options.writeTimeoutMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      advertiseAddress: options.advertiseAddress,
      seedNodes: options.seedNodes,
      tracing: options.tracing
    }),
    Layer.succeed(LogGcConfig, { nodeId: options.nodeId, ...(options.gc ?? gcDefaults) }),
    Layer.succeed(AntiEntropyConfig, { nodeId: options.nodeId, intervalMs: options.antiEntropyIntervalMs, batchSize: 500 }),
    HlcClock.layer({ nodeId: options.nodeId, maxDriftMs: options.maxClockDriftMs }),
    ClusterAuth.layer(secret),
    CommitSignal.layer
  )
  const antiEntropy = AntiEntropy.layer.pipe(Layer.provide(Snapshots.layer(options.nodeId)))
  return Layer.mergeAll(antiEntropy, LogGc.layer, PeerServer.layer(PeerRpcs, { tracing: options.tracing === true })).pipe(
    Layer.provideMerge(ReplicaRpcs.layerHandlers),
    Layer.provideMerge(WriteCoordinator.layer),
    Layer.provideMerge(ReplicationHandlers.layer),
    Layer.provideMerge(Layer.mergeAll(Participant.layer, LogConsumers.layer, SnapshotExports.layer(options.snapshotCacheTtlMs))),
    Layer.provideMerge(Membership.layer),
    Layer.provideMerge(configs)
  )
}

/**
 * The TCP transport of a node serving peers on `host:port`, RPC and the peer lane on one listener:
 * TLS both ways when `tls` is given; the lane's handshake proves the cluster secret.
 */
export const socketTransport = (options: {
  readonly host: string
  readonly port: number
  readonly tls?: PeerTls | undefined
  readonly secret: string | undefined
}): Layer.Layer<RpcServer.Protocol | PeerClientProtocol | PeerLane.PeerLane, unknown> =>
  Layer.unwrapScoped(Effect.map(PeerListener.make(options), (listener) =>
    Layer.mergeAll(
      PeerServer.layerProtocolListener(listener),
      PeerClientProtocol.layerSocket({ tls: options.tls }),
      PeerLane.layerSocket({ listener, tls: options.tls, secret: secretOf(options.secret) })
    )))

/**
 * The admin HTTP API (`[admin] http_port`), on the core's membership, anti-entropy and storage;
 * nothing when the port is 0. Its secret is `[admin] secret`, else the cluster secret.
 */
export const adminLayer = (settings: NodeSettings, advertiseAddress: string) => {
  if (settings.admin.httpPort === 0) return Layer.empty
  const secret = settings.admin.secret ?? settings.cluster.clusterSecret
  return AdminHttp.layer({
    port: settings.admin.httpPort,
    host: settings.admin.bindAddress,
    secret: secret === undefined ? Option.none() : Option.some(Redacted.make(secret)),
    expectsPeers: settings.cluster.seedNodes.some((seed) => seed !== advertiseAddress)
  })
}

/** The node's durable state files: membership and anti-entropy cursors. */
export const fileStores = (dataDir: string) => Layer.merge(MembershipStore.layerFile(dataDir), CursorStore.layerFile(dataDir))
