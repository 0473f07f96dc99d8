/**
 * How a MySQL worker hands a captured transaction to its node's write coordinator and waits for
 * the outcome. The coordinator lives once per node: in the supervisor process (requests and
 * replies travel over the node:cluster IPC channel) or, with `--workers 1`, in the same process.
 * Plain Promises: this sits on the statement path, not in Effect.
 */
import { Cause, Effect, Exit, Runtime } from "effect"
import { RowChange } from "../../proto-schemas/src/RowChange.ts"
import { type TraceParent, traceParentOf } from "../telemetry/Telemetry.ts"
import { mysqlErrorOf, type WriteCommitted, WriteCoordinator, type WriteRequest } from "./WriteCoordinator.ts"

/** Undefined: committed on enough nodes. Otherwise the MySQL error the client gets. */
export type ReplicateReply = { readonly code: number; readonly sqlState: string; readonly message: string } | undefined

export interface Replicator {
  /** `trace`: the worker's span the coordinator's spans belong under (tracing on). */
  readonly replicate: (request: WriteRequest, trace?: TraceParent | undefined) => Promise<ReplicateReply>
}

/** IPC messages between a worker and its supervisor. */
export interface ReplicateMessage {
  readonly _tag: "Replicate"
  readonly id: number
  readonly request: WriteRequest
  readonly trace?: TraceParent | undefined
}
export interface ReplicatedMessage {
  readonly _tag: "Replicated"
  readonly id: number
  readonly reply: ReplicateReply
}

export const isReplicated = (m: unknown): m is ReplicatedMessage =>
  typeof m === "object" && m !== null && (m as { _tag?: unknown })._tag === "Replicated"

/**
 * A request that crossed the IPC channel is plain data (structured clone keeps no classes): the
 * row changes become `RowChange`s again, without re-validation (they were built by our worker).
 */
export const reviveRequest = (request: WriteRequest): WriteRequest => ({
  ...request,
  changes: request.changes.map((c) => new RowChange(c, true))
})

const unavailable: ReplicateReply = {
  code: 1105,
  sqlState: "HY000",
  message: "the node's replication process is not reachable; nothing was written"
}

/** In a worker process: requests go to the supervisor. */
export const ipcReplicator = (): Replicator => {
  let nextId = 1
  const waiting = new Map<number, (reply: ReplicateReply) => void>()
  process.on("message", (m: unknown) => {
    if (!isReplicated(m)) return
    const resolve = waiting.get(m.id)
    waiting.delete(m.id)
    resolve?.(m.reply)
  })
  process.on("disconnect", () => {
    for (const resolve of waiting.values()) resolve(unavailable)
    waiting.clear()
  })
  return {
    replicate: (request, trace) =>
      new Promise((resolve) => {
        if (!process.connected || process.send === undefined) return resolve(unavailable)
        const id = nextId++
        waiting.set(id, resolve)
        process.send({ _tag: "Replicate", id, request, trace } satisfies ReplicateMessage)
      })
  }
}

/**
 * Tracing on: each write a worker hands over is a span (`mysql.write`, the root of the write's
 * trace) whose context travels with the request, so the coordinator's spans, in the supervisor and
 * on every other node, belong to the same trace. A refused write marks the span as failed.
 */
export const tracedReplicator = (inner: Replicator): Effect.Effect<Replicator> =>
  Effect.map(Effect.runtime<never>(), (runtime) => {
    const run = Runtime.runPromise(runtime)
    return {
      replicate: (request) =>
        run(
          Effect.flatMap(Effect.orDie(Effect.currentSpan), (span) => Effect.promise(() => inner.replicate(request, traceParentOf(span)))).pipe(
            Effect.flatMap((reply) => reply === undefined ? Effect.void : Effect.fail(reply)),
            Effect.withSpan("mysql.write", {
              captureStackTrace: false,
              kind: "server",
              root: true,
              attributes: { "db.name": request.database, "marmot.consistency": request.consistency, "marmot.rows": request.changes.length }
            }),
            Effect.match({ onFailure: (reply): ReplicateReply => reply, onSuccess: (): ReplicateReply => undefined })
          )
        )
    }
  })

/** Runs one request on the node's coordinator; the reply for the worker. */
export const runWrite = (coordinator: WriteCoordinator["Type"], request: WriteRequest) =>
  Effect.map(writeOutcome(coordinator, request), (outcome): ReplicateReply => "txnId" in outcome ? undefined : outcome)

/** Runs one request on the node's coordinator: what committed, or the MySQL error for the client. */
export const writeOutcome = (coordinator: WriteCoordinator["Type"], request: WriteRequest) =>
  Effect.map(Effect.exit(coordinator.write(request)), (exit): WriteCommitted | NonNullable<ReplicateReply> => {
    if (Exit.isSuccess(exit)) return exit.value
    const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    if (failure !== undefined) return mysqlErrorOf(failure)
    // An unexpected failure (a defect): one line for the client, and no promise either way.
    const cause = Cause.squash(exit.cause)
    const reason = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]
    return { code: 1105, sqlState: "HY000", message: `replication failed: ${reason}; the write may or may not have been applied` }
  })
