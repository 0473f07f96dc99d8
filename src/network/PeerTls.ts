/**
 * TLS for the peer port (`[cluster] tls_cert_file`, `tls_key_file`, `tls_ca_file`): both sides
 * present their certificate and verify the other's against the cluster CA; the dialling side also
 * checks that the server's certificate names the host it dialled (node:tls's default). The
 * listening side is PeerListener.ts (it serves the RPC and the peer lane on one TLS port); this is
 * the dialling side of the RPC client.
 */
import { NodeSocket } from "@effect/platform-node"
import { Socket } from "@effect/platform"
import { Duration, Effect, Scope } from "effect"
import tls from "node:tls"
import type { PeerTls } from "../config/ClusterTls.ts"

export type { PeerTls }

export const minVersion = "TLSv1.2"

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
