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
import { type Rpc, type RpcGroup, RpcServer } from "@effect/rpc"
import { Effect, Layer } from "effect"
import { layerFramedMsgPack } from "./FramedMsgPack.ts"
import * as PeerListener from "./PeerListener.ts"
import type * as PeerTls from "./PeerTls.ts"
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

/** The RPC side of a node's peer listener (PeerListener.ts), msgpack framing. */
export const layerProtocolListener = (
  listener: PeerListener.PeerListener
): Layer.Layer<RpcServer.Protocol | SocketServer.SocketServer> =>
  RpcServer.layerProtocolSocketServer.pipe(
    Layer.provideMerge(Layer.succeed(SocketServer.SocketServer, listener.socketServer)),
    Layer.provide(layerFramedMsgPack)
  )

/**
 * TCP on `host:port` (port 0 picks a free one; read it from `SocketServer.address`), msgpack framing;
 * with `tls`, only TLS connections whose client certificate the cluster CA signed (PeerListener.ts).
 * RPC only (no peer lane). The listening socket closes with the layer.
 */
export const layerProtocolSocket = (options: {
  readonly host: string
  readonly port: number
  readonly tls?: PeerTls.PeerTls | undefined
}): Layer.Layer<RpcServer.Protocol | SocketServer.SocketServer, SocketServer.SocketServerError> =>
  Layer.unwrapScoped(Effect.map(PeerListener.make(options), layerProtocolListener))

/** Registers this node's server at `address` in the simulated network until the layer is released. */
export const layerProtocolSim = (address: string): Layer.Layer<RpcServer.Protocol, never, SimNetwork> =>
  Layer.scoped(RpcServer.Protocol, Effect.flatMap(SimNetwork, (network) => network.listen(address)))
