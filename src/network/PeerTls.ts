/**
 * TLS for the peer port (`[cluster] tls_cert_file`, `tls_key_file`, `tls_ca_file`): both sides
 * present their certificate and verify the other's against the cluster CA; the dialling side also
 * checks that the server's certificate names the host it dialled (node:tls's default). A peer
 * without a valid certificate, or speaking plaintext, fails the handshake: the server logs the
 * refusal with the remote address and the TLS reason (no payload was read, so nothing secret).
 */
import { NodeSocket } from "@effect/platform-node"
import { Socket, SocketServer } from "@effect/platform"
import { Cause, Deferred, Duration, Effect, Exit, FiberSet, Runtime, Scope } from "effect"
import tls from "node:tls"
import type { PeerTls } from "../config/ClusterTls.ts"

export type { PeerTls }

const minVersion = "TLSv1.2"

const reasonOf = (error: Error & { readonly code?: string }) =>
  error.code === undefined ? error.message : `${error.code}: ${error.message}`

/** A TLS socket server on `host:port` (port 0 picks one) that requires a client certificate from the CA. */
export const makeServer = (options: {
  readonly host: string
  readonly port: number
  readonly tls: PeerTls
}): Effect.Effect<SocketServer.SocketServer["Type"], SocketServer.SocketServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const listenError = yield* Deferred.make<never, Error>()
    const pending: Array<tls.TLSSocket> = []
    let onConnection: (socket: tls.TLSSocket) => void = (socket) => void pending.push(socket)
    const server = tls.createServer({
      cert: options.tls.cert,
      key: options.tls.key,
      ca: options.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion,
      noDelay: true
    }, (socket) => onConnection(socket))
    server.on("error", (cause) => Deferred.unsafeDone(listenError, Exit.fail(cause)))
    server.on("tlsClientError", (error, socket) =>
      Runtime.runFork(runtime)(
        Effect.logWarning(`peer connection refused: TLS handshake failed (${reasonOf(error)})`).pipe(
          Effect.annotateLogs({ remote: `${socket.remoteAddress}:${socket.remotePort}` })
        )
      ))
    yield* Effect.addFinalizer(() => Effect.async<void>((resume) => void server.close(() => resume(Effect.void))))
    yield* Effect.async<void>((resume) => void server.listen({ host: options.host, port: options.port }, () => resume(Effect.void))).pipe(
      Effect.raceFirst(Effect.mapError(Deferred.await(listenError), (cause) => new SocketServer.SocketServerError({ reason: "Open", cause })))
    )

    const run = <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const connections = yield* Scope.extend(FiberSet.make(), scope)
        const fork = yield* FiberSet.runtime(connections)<R>()
        const serve = (conn: tls.TLSSocket) =>
          fork(
            NodeSocket.fromDuplex(Effect.acquireRelease(Effect.succeed(conn), (c) => Effect.sync(() => c.destroySoon()))).pipe(
              Effect.flatMap(handler),
              Effect.catchAllCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logDebug("peer connection ended", cause)),
              Effect.provideService(NodeSocket.NetSocket, conn)
            )
          )
        return yield* Effect.async<never>(() => {
          const previous = onConnection
          onConnection = serve
          pending.splice(0).forEach(serve)
          return Effect.suspend(() => {
            onConnection = previous
            return Scope.close(scope, Exit.void)
          })
        })
      })

    const address = server.address()
    return SocketServer.SocketServer.of({
      address: typeof address === "object" && address !== null
        ? { _tag: "TcpAddress", hostname: address.address, port: address.port }
        : { _tag: "TcpAddress", hostname: options.host, port: options.port },
      run
    })
  })

/** A TLS connection to a peer, presenting this node's certificate and verifying the peer's. */
export const connect = (options: {
  readonly host: string
  readonly port: number
  readonly tls: PeerTls
  readonly openTimeoutMs: number
}): Effect.Effect<Socket.Socket> =>
  NodeSocket.fromDuplex(
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      let conn: tls.TLSSocket | undefined
      yield* Scope.addFinalizer(scope, Effect.sync(() => conn?.destroy()))
      return yield* Effect.async<tls.TLSSocket, Socket.SocketError>((resume) => {
        conn = tls.connect({
          host: options.host,
          port: options.port,
          cert: options.tls.cert,
          key: options.tls.key,
          ca: options.tls.ca,
          minVersion
        })
        conn.setNoDelay(true)
        conn.once("secureConnect", () => resume(Effect.succeed(conn!)))
        conn.on("error", (cause) => resume(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause }))))
      })
    }),
    { openTimeout: Duration.millis(options.openTimeoutMs) }
  )
