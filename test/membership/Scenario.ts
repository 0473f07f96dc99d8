/** Runs a simulation scenario over many seeds inside one vitest test. */
import { assert, it } from "@effect/vitest"
import { Cause, Effect, Exit, type Scope, TestContext } from "effect"

/** SEED=x runs only seed x; SEEDS=n runs n seeds (default 5). */
export const seeds: ReadonlyArray<string> = process.env["SEED"] !== undefined
  ? [process.env["SEED"]]
  : Array.from({ length: Number(process.env["SEEDS"] ?? 5) }, (_, i) => `seed-${i}`)

/**
 * One vitest test that runs `body` once per seed, each seed with its own TestClock, concurrently
 * (the runs are deterministic per seed whatever they interleave with). A failure lists the seeds
 * that failed, each with the command that replays it alone.
 */
export const scenario = (file: string, name: string, body: (seed: string) => Effect.Effect<void, never, Scope.Scope>) =>
  it.effect(name, () =>
    Effect.gen(function*() {
      const results = yield* Effect.forEach(
        seeds,
        (seed) => body(seed).pipe(Effect.scoped, Effect.provide(TestContext.TestContext), Effect.exit),
        { concurrency: "unbounded" }
      )
      const failures = results.flatMap((exit, i) =>
        Exit.isFailure(exit)
          ? [`SEED=${seeds[i]} npx vitest run ${file} -t "${name}"\n${Cause.pretty(exit.cause)}`]
          : []
      )
      if (failures.length > 0) assert.fail(`${failures.length}/${seeds.length} seeds failed:\n\n${failures.join("\n\n")}`)
    }), 120_000)
