/**
 * Serving peer RPCs. A node serves ONE RPC group on its peer port: the composition root merges the
 * subsystems' groups (`GossipRpcs.merge(ReplicationRpcs, …)`) and provides each subsystem's handler
 * layer, the `ClusterAuth` middleware, and one protocol layer:
 *
 *   PeerServer.layer(Group).pipe(
 *     Layer.provide([handlers…, ClusterAuth.layer(secret)]),
 *     Layer.provide(PeerServer.layerProtocolSocket({ host, port })))   // or layerProtocolSim(address)
 */
import { SocketServer } from "@effect/platform"
import { NodeSocketServer } from "@effect/platform-node"
import { type Rpc, type RpcGroup, RpcServer } from "@effect/rpc"
import { Effect, Layer } from "effect"
import { layerFramedMsgPack } from "./FramedMsgPack.ts"
import * as PeerTls from "./PeerTls.ts"
import { SimNetwork } from "./SimNetwork.ts"

/**
 * Serves `group` on whatever `RpcServer.Protocol` is provided. A handler defect fails only its own
 * request (not every request of the connection). With `tracing`, a request that carries a span
 * context (a traced write's PREPARE/COMMIT) is handled in a child span of it; the sampler records
 * no trace that would start here (gossip, log pulls).
 */
export const layer = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  options?: {
    readonly concurrency?: number | "unbounded" | undefined
    /** Trace requests that carry a span context (telemetry on). Default off. */
    readonly tracing?: boolean | undefined
  }
): Layer.Layer<never, never, RpcServer.Protocol | Rpc.ToHandler<Rpcs> | Rpc.Context<Rpcs> | Rpc.Middleware<Rpcs>> =>
  RpcServer.layer(group, {
    disableTracing: options?.tracing !== true,
    disableFatalDefects: true,
    spanPrefix: "PeerServer",
    concurrency: options?.concurrency
  })

/**
 * TCP on `host:port` (port 0 picks a free one; read it from `SocketServer.address`), msgpack framing;
 * with `tls`, only TLS connections whose client certificate the cluster CA signed (PeerTls.ts).
 * The listening socket closes with the layer.
 */
export const layerProtocolSocket = (options: {
  readonly host: string
  readonly port: number
  readonly tls?: PeerTls.PeerTls | undefined
}): Layer.Layer<RpcServer.Protocol | SocketServer.SocketServer, SocketServer.SocketServerError> =>
  RpcServer.layerProtocolSocketServer.pipe(
    // noDelay: a request and its answer are small writes; Nagle would hold each one back.
    Layer.provideMerge(
      options.tls === undefined
        ? NodeSocketServer.layer({ host: options.host, port: options.port, noDelay: true })
        : Layer.scoped(SocketServer.SocketServer, PeerTls.makeServer({ host: options.host, port: options.port, tls: options.tls }))
    ),
    Layer.provide(layerFramedMsgPack)
  )

/** Registers this node's server at `address` in the simulated network until the layer is released. */
export const layerProtocolSim = (address: string): Layer.Layer<RpcServer.Protocol, never, SimNetwork> =>
  Layer.scoped(RpcServer.Protocol, Effect.flatMap(SimNetwork, (network) => network.listen(address)))
