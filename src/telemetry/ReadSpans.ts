/**
 * Tracing on: a `mysql.read` span for each read statement (SELECT, SHOW), the root of its own
 * trace and sampled like a write (`sample_ratio`). The read path is synchronous plain code, so the
 * span is made and ended on Effect's tracer directly, with no runtime hop; with tracing off the
 * MySQL server has no `ReadSpans` and a read costs one `undefined` check.
 */
import { type Clock, Context, Effect, Exit, Option, type Tracer } from "effect"

export interface ReadSpan {
  /** Ends the span; `error` marks it failed (the client got that error). */
  readonly end: (error?: unknown) => void
}

export interface ReadSpans {
  readonly start: (database: string | undefined, kind: string) => ReadSpan
}

export const makeReadSpans = (tracer: Tracer.Tracer, clock: Clock.Clock): ReadSpans => ({
  start: (database, kind) => {
    const span = tracer.span("mysql.read", Option.none(), Context.empty(), [], clock.unsafeCurrentTimeNanos(), "server", {
      root: true,
      captureStackTrace: false
    })
    if (span.sampled) {
      span.attribute("db.name", database ?? "")
      span.attribute("db.operation", kind)
    }
    return { end: (error) => span.end(clock.unsafeCurrentTimeNanos(), error === undefined ? Exit.void : Exit.fail(error)) }
  }
})

/** The read spans of this process's tracer (the Telemetry layer's). */
export const readSpans: Effect.Effect<ReadSpans> = Effect.zipWith(Effect.tracer, Effect.clock, makeReadSpans)
