/**
 * Cluster authentication: every peer request carries the cluster pre-shared key (`cluster_secret`)
 * in the `x-marmot-cluster-secret` request header; a server with a secret refuses a request without
 * it, or with another one, with `Unauthorized` before any handler runs.
 *
 * It is an `RpcMiddleware` declared on every peer RPC group (`Group.middleware(ClusterAuth)`), so the
 * refusal is a typed failure of every RPC and no payload needs a secret field. One layer provides
 * both halves (the server check and the client header) from the same secret, so they cannot disagree.
 */
import { Headers } from "@effect/platform"
import { RpcMiddleware } from "@effect/rpc"
import { Effect, Layer, Option, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { Unauthorized } from "../../proto-schemas/src/Errors.ts"

export { Unauthorized }

export const secretHeader = "x-marmot-cluster-secret"

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest()

/**
 * A constant-time check against `expected`: both sides are hashed to 32 bytes first, so the length of
 * the secret leaks nothing either. The expected digest is computed once.
 */
export const secretChecker = (expected: Redacted.Redacted<string>): (presented: string) => boolean => {
  const wanted = digest(Redacted.value(expected))
  return (presented) => timingSafeEqual(wanted, digest(presented))
}

/** Declared on every peer RPC group: `RpcGroup.make(…).middleware(ClusterAuth)`. */
export class ClusterAuth extends RpcMiddleware.Tag<ClusterAuth>()("marmot/network/ClusterAuth", {
  failure: Unauthorized,
  requiredForClient: true
}) {}

/**
 * The server half: checks the header. With no secret configured every request passes (as in Marmot)
 * and a warning says so once. A refusal is logged with the RPC and the reason, never with the secret
 * or the presented value.
 */
export const layerServer = (secret: Option.Option<Redacted.Redacted<string>>): Layer.Layer<ClusterAuth> =>
  Layer.effect(
    ClusterAuth,
    Effect.gen(function*() {
      if (Option.isNone(secret)) {
        yield* Effect.logWarning("cluster_secret is not set: peer RPCs are not authenticated")
        return ClusterAuth.of(() => Effect.void)
      }
      const matches = secretChecker(secret.value)
      return ClusterAuth.of(({ clientId, headers, rpc }) => {
        const presented = Headers.get(headers, secretHeader)
        const reason = Option.isNone(presented)
          ? "missing cluster secret"
          : matches(presented.value)
          ? undefined
          : "invalid cluster secret"
        if (reason === undefined) return Effect.void
        return Effect.logWarning(`peer request refused: ${reason}`).pipe(
          Effect.annotateLogs({ rpc: rpc._tag, clientId }),
          Effect.zipRight(Effect.fail(new Unauthorized()))
        )
      })
    })
  )

/** The client half: adds the header to every request (nothing when no secret is configured). */
export const layerClient = (
  secret: Option.Option<Redacted.Redacted<string>>
): Layer.Layer<RpcMiddleware.ForClient<ClusterAuth>> =>
  RpcMiddleware.layerClient(ClusterAuth, ({ request }) =>
    Effect.succeed(
      Option.isNone(secret)
        ? request
        : { ...request, headers: Headers.set(request.headers, secretHeader, Redacted.value(secret.value)) }
    ))

/** Both halves from one secret: what a node provides to its peer server and its peer clients. */
export const layer = (
  secret: Option.Option<Redacted.Redacted<string>>
): Layer.Layer<ClusterAuth | RpcMiddleware.ForClient<ClusterAuth>> =>
  Layer.merge(layerServer(secret), layerClient(secret))
