/**
 * The coordinator's line to each peer: 2PC steps (PREPARE, COMMIT, ABORT) are queued per peer and
 * sent together in one exchange over the peer lane (src/network/PeerLane.ts, ExchangeCodec.ts). At
 * most `maxInFlight` exchanges per peer are outstanding; whatever queues meanwhile leaves in the next
 * one. An idle line sends a step at once, so batching adds no wait at low load and grows with load
 * (fewer messages, syscalls and wake-ups per write).
 *
 * Plain callbacks inside: an exchange runs with `Runtime.runCallback`, and `submit` needs no fiber at
 * all, so a COMMIT sent to two peers costs no fork (a fork per step cost more than the step).
 */
import { Duration, Effect, Exit, Runtime, type Scope } from "effect"
import { PeerUnavailable } from "../../proto-schemas/src/Errors.ts"
import { ExchangeRequest, rpcOf, type Step, type StepOutcome, withTrace } from "../../proto-schemas/src/Exchange.ts"
import { traceParentOf } from "../telemetry/Telemetry.ts"
import type { PeerLane } from "../network/PeerLane.ts"
import type { Peer } from "../network/PeerNetwork.ts"
import { decodeResponse, encodeRequest } from "./ExchangeCodec.ts"

type Settle = (outcome: StepOutcome | PeerUnavailable) => void

interface Waiting {
  readonly step: Step
  readonly settle: Settle
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
  /** Sends `step` without waiting; `settle` (if any) gets its outcome. Not traced. */
  readonly submit: (peer: Peer, step: Step, settle?: Settle) => void
}

const ignore: Settle = () => {}

/** The line for a coordinator; exchanges still in flight are interrupted when the scope closes. */
export const makePeerExchange = (
  lane: PeerLane["Type"],
  options: PeerExchangeOptions
): Effect.Effect<PeerExchange, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const maxInFlight = options.maxInFlight ?? 2
    const maxSteps = options.maxSteps ?? 256
    const lines = new Map<string, Line>()
    const running = new Set<() => void>()
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        for (const cancel of running) cancel()
      })
    )

    const exchangeWith = (peer: Peer, request: ExchangeRequest) =>
      Effect.flatMap(lane.call(peer, encodeRequest(request), options.timeout), (answer) =>
        Effect.try(() => decodeResponse(answer).outcomes).pipe(
          Effect.tapError((e) => Effect.logWarning(`undecodable exchange answer from node ${peer.nodeId}: ${e.error}`)),
          Effect.mapError(() => new PeerUnavailable({ nodeId: peer.nodeId }))
        ))

    const flush = (line: Line, peer: Peer): void => {
      while (line.inFlight < maxInFlight && line.queue.length > 0) {
        const batch = line.queue.splice(0, maxSteps)
        if (closed) {
          for (const w of batch) w.settle(new PeerUnavailable({ nodeId: peer.nodeId }))
          continue
        }
        line.inFlight++
        const request = new ExchangeRequest({ steps: batch.map((w) => w.step) }, true)
        let cancel: (() => void) | undefined
        let finished = false
        const done = (exit: Exit.Exit<ReadonlyArray<StepOutcome>, PeerUnavailable>) => {
          finished = true
          if (cancel !== undefined) running.delete(cancel)
          const outcomes = Exit.isSuccess(exit) && exit.value.length === batch.length ? exit.value : undefined
          batch.forEach((w, i) => w.settle(outcomes === undefined ? new PeerUnavailable({ nodeId: peer.nodeId }) : outcomes[i]!))
          line.inFlight--
          flush(line, peer)
        }
        const interrupt = Runtime.runCallback(runtime)(exchangeWith(peer, request), { onExit: done })
        if (!finished) {
          cancel = () => interrupt()
          running.add(cancel)
        }
      }
    }

    const submit = (peer: Peer, step: Step, settle: Settle = ignore) => {
      let line = lines.get(peer.address)
      if (line === undefined) lines.set(peer.address, line = { queue: [], inFlight: 0 })
      line.queue.push({ step, settle })
      flush(line, peer)
    }

    // No deadline of its own: the exchange carrying the step has one, and fails every step it carries.
    const enqueue = (peer: Peer, step: Step) =>
      Effect.async<StepOutcome, PeerUnavailable>((resume) =>
        submit(peer, step, (outcome) => resume(outcome instanceof PeerUnavailable ? Effect.fail(outcome) : Effect.succeed(outcome)))
      )

    return {
      submit,
      send: options.tracing === true
        ? (peer, step) =>
          Effect.withSpan(
            Effect.flatMap(Effect.orDie(Effect.currentSpan), (span) => enqueue(peer, withTrace(step, traceParentOf(span)))),
            `PeerClient.${rpcOf(step)}`,
            { kind: "client", captureStackTrace: false, attributes: { "marmot.peer": peer.nodeId } }
          )
        : enqueue
    }
  })
