/**
 * The peer port's listening socket, shared by the two protocols a node speaks on it: `@effect/rpc`
 * (gossip, log pulls, snapshots) and the peer lane (2PC exchanges, PeerLane.ts). The first byte a
 * client sends tells them apart: the lane opens with 0xC1, a byte msgpack never uses, so every other
 * connection is handed to the RPC server untouched (the byte is pushed back first).
 *
 * Plain TCP, or TLS when `tls` is given: then only connections whose client certificate the cluster
 * CA signed get that far. A failed handshake is logged with the remote address and the TLS reason
 * (no payload was read, so nothing secret).
 */
import { NodeSocket } from "@effect/platform-node"
import { type Socket, SocketServer } from "@effect/platform"
import { Cause, Deferred, Effect, Exit, FiberSet, Runtime, Scope } from "effect"
import net from "node:net"
import tls from "node:tls"
import type { PeerTls as PeerTlsFiles } from "../config/ClusterTls.ts"
import * as PeerTls from "./PeerTls.ts"

/** The first byte of a peer lane connection. */
export const laneMagic = 0xc1

const reasonOf = (error: Error & { readonly code?: string }) =>
  error.code === undefined ? error.message : `${error.code}: ${error.message}`

export interface PeerListener {
  /** The RPC side, for `RpcServer.layerProtocolSocketServer`. */
  readonly socketServer: SocketServer.SocketServer["Type"]
  /** Hands every lane connection (its magic byte still unread) to `accept` from now on. */
  readonly onLane: (accept: (socket: net.Socket) => void) => void
}

export const make = (options: {
  readonly host: string
  readonly port: number
  readonly tls?: PeerTlsFiles | undefined
}): Effect.Effect<PeerListener, SocketServer.SocketServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const listenError = yield* Deferred.make<never, Error>()
    // Connections of either kind that arrived before their consumer was ready.
    const early: { rpc: Array<net.Socket>; lane: Array<net.Socket> } = { rpc: [], lane: [] }
    let onRpc: (socket: net.Socket) => void = (socket) => void early.rpc.push(socket)
    let onLane: (socket: net.Socket) => void = (socket) => void early.lane.push(socket)

    const open = new Set<net.Socket>()
    const sniff = (socket: net.Socket) => {
      open.add(socket)
      socket.once("close", () => open.delete(socket))
      socket.setNoDelay(true)
      socket.on("error", () => {}) // a reset before the first byte: nothing to serve
      const onReadable = () => {
        const chunk = socket.read() as Buffer | null
        if (chunk === null) return
        socket.removeListener("readable", onReadable)
        socket.unshift(chunk)
        if (chunk[0] === laneMagic) onLane(socket)
        else onRpc(socket)
      }
      socket.on("readable", onReadable)
    }

    const server = options.tls === undefined
      ? net.createServer({ noDelay: true }, sniff)
      : tls.createServer({
        cert: options.tls.cert,
        key: options.tls.key,
        ca: options.tls.ca,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: PeerTls.minVersion,
        noDelay: true
      }, sniff)
    server.on("error", (cause) => Deferred.unsafeDone(listenError, Exit.fail(cause)))
    server.on("tlsClientError", (error: Error, socket: tls.TLSSocket) =>
      Runtime.runFork(runtime)(
        Effect.logWarning(`peer connection refused: TLS handshake failed (${reasonOf(error)})`).pipe(
          Effect.annotateLogs({ remote: `${socket.remoteAddress}:${socket.remotePort}` })
        )
      ))
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        // close() waits for every connection: end them first (as a stopped process would)
        server.close(() => resume(Effect.void))
        for (const s of open) s.destroy()
      })
    )
    yield* Effect.async<void>((resume) => void server.listen({ host: options.host, port: options.port }, () => resume(Effect.void))).pipe(
      Effect.raceFirst(Effect.mapError(Deferred.await(listenError), (cause) => new SocketServer.SocketServerError({ reason: "Open", cause })))
    )

    const run = <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const connections = yield* Scope.extend(FiberSet.make(), scope)
        const fork = yield* FiberSet.runtime(connections)<R>()
        const serve = (conn: net.Socket) =>
          fork(
            NodeSocket.fromDuplex(Effect.acquireRelease(Effect.succeed(conn), (c) => Effect.sync(() => c.destroySoon()))).pipe(
              Effect.flatMap(handler),
              Effect.catchAllCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logDebug("peer connection ended", cause)),
              Effect.provideService(NodeSocket.NetSocket, conn)
            )
          )
        return yield* Effect.async<never>(() => {
          const previous = onRpc
          onRpc = serve
          early.rpc.splice(0).forEach(serve)
          return Effect.suspend(() => {
            onRpc = previous
            return Scope.close(scope, Exit.void)
          })
        })
      })

    const address = server.address()
    return {
      socketServer: SocketServer.SocketServer.of({
        address: typeof address === "object" && address !== null
          ? { _tag: "TcpAddress", hostname: address.address, port: address.port }
          : { _tag: "TcpAddress", hostname: options.host, port: options.port },
        run
      }),
      onLane: (accept) => {
        onLane = accept
        early.lane.splice(0).forEach(accept)
      }
    }
  })
