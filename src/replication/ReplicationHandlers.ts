/**
 * This node's answers to its peers: the 2PC exchanges on the peer lane, the log pulls and snapshots
 * as replication RPCs; the Participant does the work.
 */
import { Effect, Layer } from "effect"
import type { ClockSkewError } from "../../proto-schemas/src/Errors.ts"
import { Acked, ExchangeResponse, type ExchangeRequest, rpcOf, type Step, type StepOutcome } from "../../proto-schemas/src/Exchange.ts"
import { LaneRequestError, PeerLane } from "../network/PeerLane.ts"
import { withRemoteParent } from "../telemetry/Telemetry.ts"
import type { ApplyFailed, NotPrepared } from "../../proto-schemas/src/Replication.ts"
import type { AbortRequest, Ack, CommitRequest, PrepareRequest, PrepareVote } from "../../proto-schemas/src/Transaction.ts"
import { LogConsumers } from "./LogConsumers.ts"
import * as Parallel from "./Parallel.ts"
import { Participant } from "./Participant.ts"
import { decodeRequest, encodeResponse } from "./ExchangeCodec.ts"
import { ReplicationRpcs } from "./ReplicationRpcs.ts"
import { SnapshotExports } from "./SnapshotSource.ts"

/** What answers the three 2PC steps (the Participant; something simpler in benches). */
export interface StepHandlers {
  readonly prepare: (request: PrepareRequest) => Effect.Effect<PrepareVote, ClockSkewError>
  readonly commit: (request: CommitRequest) => Effect.Effect<Ack, NotPrepared | ApplyFailed | ClockSkewError>
  readonly abort: (request: AbortRequest) => Effect.Effect<Ack>
}

/**
 * One outcome per step, in order. The steps run concurrently: the COMMITs of one exchange join one
 * group commit of the apply queue.
 */
export const answerExchange = (handlers: StepHandlers) => (request: ExchangeRequest) => {
  const outcomeOf = (step: Step): Effect.Effect<StepOutcome> => {
    switch (step._tag) {
      case "PrepareStep":
        return Effect.catchAll(handlers.prepare(step.request), Effect.succeed)
      case "CommitStep":
        return handlers.commit(step.request).pipe(Effect.map(({ hlc }) => new Acked({ hlc }, true)), Effect.catchAll(Effect.succeed))
      case "AbortStep":
        return Effect.map(handlers.abort(step.request), ({ hlc }) => new Acked({ hlc }, true))
    }
  }
  const traced = (step: Step) =>
    step.trace === undefined ? outcomeOf(step) : outcomeOf(step).pipe(
      Effect.withSpan(`PeerServer.${rpcOf(step)}`, { kind: "server", captureStackTrace: false }),
      withRemoteParent(step.trace)
    )
  return Effect.map(Parallel.all(request.steps.map(traced)), (outcomes) => new ExchangeResponse({ outcomes }, true))
}

/** Lane frames in, lane frames out: an undecodable request is refused (the coordinator sees no answer). */
export const answerLane = (handlers: StepHandlers) => {
  const answer = answerExchange(handlers)
  return (frame: Uint8Array) =>
    Effect.try({ try: () => decodeRequest(frame), catch: (e) => new LaneRequestError(`undecodable exchange: ${String(e)}`) }).pipe(
      Effect.flatMap(answer),
      Effect.map(encodeResponse)
    )
}

const layerRpcs = ReplicationRpcs.toLayer(Effect.gen(function*() {
  const consumers = yield* LogConsumers
  const participant = yield* Participant
  const snapshots = yield* SnapshotExports
  return ReplicationRpcs.of({
    PullLog: (request) =>
      Effect.zipRight(consumers.record(request.from, request.cursors), participant.readLog(request.cursors, request.limit)),
    SnapshotOpen: (request) => snapshots.open(request.database),
    SnapshotRead: snapshots.read,
    SnapshotClose: (request) => snapshots.close(request.exportId)
  })
}))

const layerLane = Layer.scopedDiscard(Effect.gen(function*() {
  const lane = yield* PeerLane
  yield* lane.serve(answerLane(yield* Participant))
}))

export const layer = Layer.merge(layerRpcs, layerLane)
