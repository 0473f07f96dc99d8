/**
 * Fork-join for the write path. `Effect.forEach(…, { concurrency })`, `Effect.all` with concurrency
 * and `FiberSet.run` each cost 100-200 µs of CPU per call here (scopes, fiber bookkeeping), more than
 * the PREPARE they wrap; running each effect with `Runtime.runCallback` and counting the exits costs
 * a few µs. Semantics as `Effect.all(…, { concurrency: "unbounded" })`: results in order, the first
 * failure (or defect) interrupts the rest and is the result, interrupting the caller interrupts all.
 */
import { Effect, Exit, Runtime } from "effect"

export const all = <A, E>(effects: ReadonlyArray<Effect.Effect<A, E>>): Effect.Effect<Array<A>, E> => {
  if (effects.length === 0) return Effect.succeed([])
  if (effects.length === 1) return Effect.map(effects[0]!, (a) => [a])
  return Effect.flatMap(Effect.runtime<never>(), (runtime) =>
    Effect.async<Array<A>, E>((resume) => {
      const results = new Array<A>(effects.length)
      const cancels: Array<() => void> = []
      let left = effects.length
      let done = false
      const stop = () => {
        done = true
        for (const cancel of cancels) cancel()
      }
      effects.forEach((effect, i) => {
        if (done) return
        const cancel = Runtime.runCallback(runtime)(effect, {
          onExit: (exit) => {
            if (done) return
            if (Exit.isSuccess(exit)) {
              results[i] = exit.value
              if (--left === 0) {
                done = true
                resume(Effect.succeed(results))
              }
            } else {
              stop()
              resume(Effect.failCause(exit.cause))
            }
          }
        })
        cancels.push(() => cancel())
      })
      return Effect.sync(stop)
    }))
}
