/**
 * The node's hybrid logical clock. `now` issues a new timestamp for a local event (a transaction
 * start, a commit decision, an outgoing message); `observe` merges the HLC of every message
 * received from a peer, so causally later events always get later stamps; `current` reads the
 * last timestamp issued or observed without advancing.
 *
 * Physical time comes only from Effect's `Clock` (captured when the service is built), so
 * `TestClock` drives it in tests and in the simulated cluster. The arithmetic lives in
 * proto-schemas/src/Hlc.ts. The state is one mutable cell: every read-modify-write of it happens
 * inside a single synchronous step (no yield between reading and writing), which fibers on one
 * JS thread cannot interleave.
 */
import { Context, Effect, Either, Layer } from "effect"
import type { ClockSkewError } from "../../proto-schemas/src/Errors.ts"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"

export interface HlcClockOptions {
  /** This node's id: the tie-break of every timestamp it issues. */
  readonly nodeId: number
  /** How far ahead of the local physical clock a peer's wall time may be before it is refused. */
  readonly maxDriftMs: number
  /**
   * A timestamp every issued one must follow, e.g. the highest stamp persisted before a restart,
   * so the clock never repeats one even if the machine's clock went back meanwhile.
   */
  readonly initial?: Hlc.Hlc | undefined
}

export class HlcClock extends Context.Tag("marmot/clock/HlcClock")<HlcClock, {
  /** A new timestamp, strictly later than every one issued or observed before. */
  readonly now: Effect.Effect<Hlc.Hlc>
  /**
   * Merges a peer's timestamp; the result is strictly later than it and than every earlier local
   * one. Fails (and leaves the clock alone) when the peer's wall time is too far ahead.
   */
  readonly observe: (remote: Hlc.Hlc) => Effect.Effect<Hlc.Hlc, ClockSkewError>
  /** The last timestamp issued or observed (the `initial` one, or wall 0, before any). */
  readonly current: Effect.Effect<Hlc.Hlc>
}>() {
  /** See `HlcClockOptions` for the parameters. */
  static readonly make = (nodeId: number, maxDriftMs: number, initial?: Hlc.Hlc): Effect.Effect<HlcClock["Type"]> =>
    Effect.map(Effect.clock, (clock) => {
      let last = initial === undefined ? Hlc.zero(nodeId) : Hlc.make(initial.wallMs, initial.logical, nodeId)
      return HlcClock.of({
        now: Effect.sync(() => (last = Hlc.tick(last, clock.unsafeCurrentTimeMillis(), nodeId))),
        observe: (remote) =>
          Effect.suspend(() => {
            const merged = Hlc.receive(last, remote, clock.unsafeCurrentTimeMillis(), maxDriftMs)
            if (Either.isRight(merged)) last = merged.right
            return merged
          }),
        current: Effect.sync(() => last)
      })
    })

  static readonly layer = (options: HlcClockOptions): Layer.Layer<HlcClock> =>
    Layer.effect(HlcClock, HlcClock.make(options.nodeId, options.maxDriftMs, options.initial))
}
