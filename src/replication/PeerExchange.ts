/**
 * The coordinator's line to each peer: 2PC steps (PREPARE, COMMIT, ABORT) are queued per peer and
 * sent together in one `Exchange` RPC. At most `maxInFlight` exchanges per peer are outstanding;
 * whatever queues meanwhile leaves in the next one. An idle line sends a step at once, so batching
 * adds no wait at low load and grows with load (fewer messages, syscalls and fibers per write).
 */
import type { RpcGroup } from "@effect/rpc"
import { Deferred, Duration, Effect, Exit, FiberId, FiberSet } from "effect"
import { PeerUnavailable } from "../../proto-schemas/src/Errors.ts"
import { ExchangeRequest, rpcOf, type Step, type StepOutcome, withTrace } from "../../proto-schemas/src/Exchange.ts"
import { traceParentOf } from "../telemetry/Telemetry.ts"
import type { Peer, PeerClient } from "../network/PeerNetwork.ts"
import type { ReplicationRpcs } from "./ReplicationRpcs.ts"

interface Waiting {
  readonly step: Step
  readonly outcome: Deferred.Deferred<StepOutcome, PeerUnavailable>
}

interface Line {
  readonly queue: Array<Waiting>
  inFlight: number
}

export interface PeerExchangeOptions {
  /** Deadline of one exchange (a step waits at most for the exchanges ahead of it and its own). */
  readonly timeout: Duration.Duration
  readonly maxInFlight?: number
  readonly maxSteps?: number
  /** A `PeerClient.<Prepare|Commit|Abort>` span per step, whose context the step carries. */
  readonly tracing?: boolean
}

export interface PeerExchange {
  /** The peer's outcome for `step`; PeerUnavailable when the exchange carrying it got no answer in time. */
  readonly send: (peer: Peer, step: Step) => Effect.Effect<StepOutcome, PeerUnavailable>
}

export const makePeerExchange = (
  peers: PeerClient<RpcGroup.Rpcs<typeof ReplicationRpcs>>,
  background: FiberSet.FiberSet,
  options: PeerExchangeOptions
): PeerExchange => {
  const maxInFlight = options.maxInFlight ?? 2
  const maxSteps = options.maxSteps ?? 256
  const lines = new Map<string, Line>()

  const settle = (batch: ReadonlyArray<Waiting>, peer: Peer, exit: Exit.Exit<ReadonlyArray<StepOutcome>, unknown>) => {
    const outcomes = Exit.isSuccess(exit) && exit.value.length === batch.length ? exit.value : undefined
    batch.forEach((w, i) =>
      Deferred.unsafeDone(w.outcome, outcomes === undefined ? Exit.fail(new PeerUnavailable({ nodeId: peer.nodeId })) : Exit.succeed(outcomes[i]!))
    )
  }

  const flush = (line: Line, peer: Peer): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (line.inFlight >= maxInFlight || line.queue.length === 0) return Effect.void
      const batch = line.queue.splice(0, maxSteps)
      line.inFlight++
      const request = new ExchangeRequest({ steps: batch.map((w) => w.step) }, true)
      return FiberSet.run(
        background,
        peers.call(peer, (c) => c.Exchange(request), { timeout: options.timeout }).pipe(
          Effect.map((response) => response.outcomes),
          Effect.onExit((exit) => Effect.sync(() => settle(batch, peer, exit))),
          Effect.ignore,
          Effect.ensuring(Effect.suspend(() => {
            line.inFlight--
            return flush(line, peer)
          }))
        )
      ).pipe(Effect.asVoid)
    })

  const enqueue = (peer: Peer, step: Step) =>
      Effect.suspend(() => {
        let line = lines.get(peer.address)
        if (line === undefined) lines.set(peer.address, line = { queue: [], inFlight: 0 })
        const outcome = Deferred.unsafeMake<StepOutcome, PeerUnavailable>(FiberId.none)
        line.queue.push({ step, outcome })
        // No deadline of its own: the exchange carrying the step has one, and fails every step it carries.
        return Effect.zipRight(flush(line, peer), Deferred.await(outcome))
      })
  return {
    send: options.tracing === true
      ? (peer, step) =>
        Effect.withSpan(
          Effect.flatMap(Effect.orDie(Effect.currentSpan), (span) => enqueue(peer, withTrace(step, traceParentOf(span)))),
          `PeerClient.${rpcOf(step)}`,
          { kind: "client", captureStackTrace: false, attributes: { "marmot.peer": peer.nodeId } }
        )
      : enqueue
  }
}
