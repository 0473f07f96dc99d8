/**
 * Many 2PC steps in one peer message. A coordinator sends each peer, in one `Exchange`, every
 * PREPARE, COMMIT and ABORT that queued while its previous exchange with that peer was in flight;
 * the participant answers with one outcome per step, in the same order. Under load this turns four
 * messages per transaction and peer into a fraction of one (see src/replication/DESIGN.md).
 */
import { Schema } from "effect"
import { ClockSkewError } from "./Errors.ts"
import { Hlc } from "./Hlc.ts"
import { ApplyFailed, NotPrepared } from "./Replication.ts"
import { AbortRequest, CommitRequest, Conflict, Prepared, PrepareRequest, Rejected } from "./Transaction.ts"

/** The coordinator's span for a step, when tracing: the participant's spans for it are its children. */
export const StepTrace = Schema.Struct({ traceId: Schema.String, spanId: Schema.String, sampled: Schema.Boolean })
export type StepTrace = typeof StepTrace.Type

export class PrepareStep extends Schema.TaggedClass<PrepareStep>()("PrepareStep", {
  request: PrepareRequest,
  trace: Schema.optional(StepTrace)
}) {}
export class CommitStep extends Schema.TaggedClass<CommitStep>()("CommitStep", {
  request: CommitRequest,
  trace: Schema.optional(StepTrace)
}) {}
export class AbortStep extends Schema.TaggedClass<AbortStep>()("AbortStep", {
  request: AbortRequest,
  trace: Schema.optional(StepTrace)
}) {}

export const Step = Schema.Union(PrepareStep, CommitStep, AbortStep)
export type Step = typeof Step.Type

/** The same step, carrying `trace`. */
export const withTrace = (step: Step, trace: StepTrace): Step => {
  switch (step._tag) {
    case "PrepareStep":
      return new PrepareStep({ request: step.request, trace }, true)
    case "CommitStep":
      return new CommitStep({ request: step.request, trace }, true)
    case "AbortStep":
      return new AbortStep({ request: step.request, trace }, true)
  }
}

/** The RPC a step stands for (the span names of a traced step: `PeerClient.Prepare`, …). */
export const rpcOf = (step: Step): "Prepare" | "Commit" | "Abort" =>
  step._tag === "PrepareStep" ? "Prepare" : step._tag === "CommitStep" ? "Commit" : "Abort"

/** A COMMIT or ABORT done: the participant's HLC after it. */
export class Acked extends Schema.TaggedClass<Acked>()("Acked", { hlc: Hlc }) {}

/** What one step came to: a vote (PREPARE), an acknowledgement, or the step's typed refusal. */
export const StepOutcome = Schema.Union(Prepared, Conflict, Rejected, Acked, NotPrepared, ApplyFailed, ClockSkewError)
export type StepOutcome = typeof StepOutcome.Type

export class ExchangeRequest extends Schema.Class<ExchangeRequest>("ExchangeRequest")({
  steps: Schema.Array(Step)
}) {}

/** `outcomes[i]` answers `steps[i]`. */
export class ExchangeResponse extends Schema.Class<ExchangeResponse>("ExchangeResponse")({
  outcomes: Schema.Array(StepOutcome)
}) {}
