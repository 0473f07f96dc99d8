/**
 * The node-to-node transport. Subsystems declare their peer RPCs as `@effect/rpc` groups (gossip now,
 * 2PC and anti-entropy later), serve them with `PeerServer`, and call them with a `PeerClient` made for
 * their group. What carries the bytes is the `PeerClientProtocol` tag: TCP + msgpack in production
 * (`layerSocket`), the in-process `SimNetwork` in simulation (`layerSim`). See DESIGN.md.
 */
import { NodeSocket } from "@effect/platform-node"
import { Socket } from "@effect/platform"
import { type Rpc, RpcClient, RpcClientError, type RpcGroup, RpcSerialization } from "@effect/rpc"
import { Context, Data, Deferred, Duration, Effect, Exit, Layer, Predicate, Scope } from "effect"
import { PeerUnavailable } from "../../proto-schemas/src/Errors.ts"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import * as PeerTls from "./PeerTls.ts"
import { SimNetwork } from "./SimNetwork.ts"
import { framedMsgPack } from "./FramedMsgPack.ts"

export { PeerUnavailable }

/**
 * A call to an address got no answer: the connection was refused or broke, the answer could not be
 * decoded, or the deadline passed. `PeerClient.call` reports it for a cluster member as the wire
 * error `PeerUnavailable` (proto-schemas/src/Errors.ts); `callAddress` (seeds) reports it as is.
 */
export class PeerConnectionError extends Data.TaggedError("PeerConnectionError")<{
  readonly address: string
  readonly reason: "Transport" | "Timeout"
  readonly cause?: unknown
}> {
  override get message() {
    return this.reason === "Timeout" ? `peer ${this.address} did not answer in time` : `peer ${this.address} is unreachable`
  }
}

/** Who to call: a cluster member (a `MemberState` is one). */
export interface Peer {
  readonly nodeId: NodeId
  readonly address: string
}

/** Splits `host:port` (or `[v6]:port`); undefined when it is not one. */
export const parseAddress = (address: string): { readonly host: string; readonly port: number } | undefined => {
  const colon = address.lastIndexOf(":")
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1")
  const port = Number(address.slice(colon + 1))
  return colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535 ? undefined : { host, port }
}

/** A protocol whose every request fails at once (an address that cannot be dialled). */
const unreachable = (message: string) =>
  RpcClient.Protocol.make(() =>
    Effect.succeed({
      send: () => Effect.fail(new RpcClientError.RpcClientError({ reason: "Protocol", message })),
      supportsAck: true,
      supportsTransferables: false
    })
  )

/**
 * Opens the RPC client protocol to one peer address. The protocol lives as long as the scope; a
 * `PeerClient` keeps one per address for the life of its cached client.
 */
export class PeerClientProtocol extends Context.Tag("marmot/network/PeerClientProtocol")<
  PeerClientProtocol,
  (address: string) => Effect.Effect<RpcClient.Protocol["Type"], never, Scope.Scope>
>() {
  /**
   * TCP with msgpack framing (TLS with this node's certificate when `tls` is given). A refused or
   * broken connection, or a failed TLS handshake, fails the pending calls at once.
   */
  static readonly layerSocket = (options?: {
    readonly openTimeoutMs?: number | undefined
    readonly tls?: PeerTls.PeerTls | undefined
  }): Layer.Layer<PeerClientProtocol> =>
    Layer.succeed(PeerClientProtocol, (address) =>
      Effect.gen(function*() {
        const parsed = parseAddress(address)
        if (parsed === undefined) return yield* unreachable(`invalid peer address ${JSON.stringify(address)}`)
        const { host, port } = parsed
        const openTimeoutMs = options?.openTimeoutMs ?? 1000
        const socket = options?.tls === undefined
          ? yield* NodeSocket.makeNet({ host, port, openTimeout: openTimeoutMs, noDelay: true })
          : yield* PeerTls.connect({ host, port, tls: options.tls, openTimeoutMs })
        return yield* RpcClient.makeProtocolSocket().pipe(
          Effect.provideService(Socket.Socket, socket),
          Effect.provideService(RpcSerialization.RpcSerialization, framedMsgPack)
        )
      }).pipe(Effect.orDie))

  /** Connections from node `self` through the simulated network. */
  static readonly layerSim = (self: string): Layer.Layer<PeerClientProtocol, never, SimNetwork> =>
    Layer.effect(PeerClientProtocol, Effect.map(SimNetwork, (network) => (address) => network.connect(self, address)))
}

export type Client<Rpcs extends Rpc.Any> = RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>

export interface CallOptions {
  /** Deadline of this call; the client's default otherwise. */
  readonly timeout?: Duration.DurationInput | undefined
}

export interface PeerClient<Rpcs extends Rpc.Any> {
  /**
   * Runs `f` with the cached client of the member `peer`. No answer (refused, reset, undecodable,
   * too late) is `PeerUnavailable` for its node id; a broken connection is also dropped from the
   * cache so the next call reconnects. The RPC's own errors (and `Unauthorized`) pass through.
   */
  readonly call: <A, E>(
    peer: Peer,
    f: (client: Client<Rpcs>) => Effect.Effect<A, E>,
    options?: CallOptions
  ) => Effect.Effect<A, Exclude<E, RpcClientError.RpcClientError> | PeerUnavailable>
  /** The same by address, for a peer whose node id is not known yet (a seed). */
  readonly callAddress: <A, E>(
    address: string,
    f: (client: Client<Rpcs>) => Effect.Effect<A, E>,
    options?: CallOptions
  ) => Effect.Effect<A, Exclude<E, RpcClientError.RpcClientError> | PeerConnectionError>
}

export interface PeerClientOptions {
  /** Per call, unless the call says otherwise. Default 5 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Trace each call as a child of the caller's span, and send the span context along. Default off. */
  readonly tracing?: boolean | undefined
}

const isTransportError = (e: unknown): e is RpcClientError.RpcClientError => Predicate.isTagged(e, "RpcClientError")

/**
 * Clients for one RPC group, one per peer address, opened on first use and kept until the connection
 * breaks (the next call reconnects) or the scope closes. A plain map rather than an RcMap: a call
 * does not take and release a reference, which was a large part of a peer call's cost.
 */
export const makePeerClient = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  options?: PeerClientOptions
): Effect.Effect<PeerClient<Rpcs>, never, Scope.Scope | PeerClientProtocol | Rpc.MiddlewareClient<Rpcs>> =>
  Effect.gen(function*() {
    const openProtocol = yield* PeerClientProtocol
    const defaultTimeout = options?.timeout ?? Duration.seconds(5)
    const context = yield* Effect.context<PeerClientProtocol | Rpc.MiddlewareClient<Rpcs>>()
    interface Entry {
      readonly client: Deferred.Deferred<Client<Rpcs>>
      readonly scope: Scope.CloseableScope
    }
    const entries = new Map<string, Entry>()
    const close = (entry: Entry) => Effect.forkDaemon(Scope.close(entry.scope, Exit.void))
    yield* Effect.addFinalizer(() => Effect.forEach([...entries.values()], (e) => Scope.close(e.scope, Exit.void), { discard: true }))

    const clientFor = (address: string) =>
      Effect.suspend(() => {
        const known = entries.get(address)
        if (known !== undefined) return Deferred.await(known.client)
        return Effect.uninterruptible(Effect.gen(function*() {
          const entry: Entry = { client: yield* Deferred.make<Client<Rpcs>>(), scope: yield* Scope.make() }
          entries.set(address, entry)
          const client = yield* openProtocol(address).pipe(
            Effect.flatMap((protocol) =>
              RpcClient.make(group, { disableTracing: options?.tracing !== true, spanPrefix: "PeerClient" }).pipe(Effect.provideService(RpcClient.Protocol, protocol))
            ),
            Scope.extend(entry.scope),
            Effect.provide(context)
          )
          yield* Deferred.succeed(entry.client, client)
          return client
        }))
      })
    const forget = (address: string) =>
      Effect.suspend(() => {
        const entry = entries.get(address)
        if (entry === undefined) return Effect.void
        entries.delete(address)
        return close(entry)
      })

    const callAddress = <A, E>(
      address: string,
      f: (client: Client<Rpcs>) => Effect.Effect<A, E>,
      options?: CallOptions
    ) =>
      clientFor(address).pipe(
        Effect.flatMap(f),
        Effect.catchIf(isTransportError, (cause) =>
          forget(address).pipe(
            Effect.zipRight(Effect.fail(new PeerConnectionError({ address, reason: "Transport", cause })))
          )),
        Effect.timeoutFail({
          duration: options?.timeout ?? defaultTimeout,
          onTimeout: () => new PeerConnectionError({ address, reason: "Timeout" })
        })
      ) as Effect.Effect<A, Exclude<E, RpcClientError.RpcClientError> | PeerConnectionError>
    const call = <A, E>(peer: Peer, f: (client: Client<Rpcs>) => Effect.Effect<A, E>, options?: CallOptions) =>
      callAddress(peer.address, f, options).pipe(
        Effect.catchIf(
          (e): e is PeerConnectionError => e instanceof PeerConnectionError,
          (e) => Effect.zipRight(Effect.logDebug(e.message), Effect.fail(new PeerUnavailable({ nodeId: peer.nodeId })))
        )
      ) as Effect.Effect<A, Exclude<E, RpcClientError.RpcClientError> | PeerUnavailable>
    return { call, callAddress }
  })
