/**
 * Deterministic simulation of membership, part 1: joining and partitions. Several nodes in one process
 * on the simulated network; time from TestClock; network faults and gossip targets from Randoms
 * seeded by the scenario seed (see `scenario` in SimCluster.ts for SEED/SEEDS and replay).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, TestContext } from "effect"
import { addressOf, advance, allSee, eventually, everyone, makeCluster } from "./SimCluster.ts"
import { scenario as run } from "./Scenario.ts"

const file = "test/membership/Simulation.test.ts"
const scenario = (name: string, body: Parameters<typeof run>[2]) => run(file, name, body)

describe("membership simulation", () => {
  scenario("3 nodes join through one seed and see each other ALIVE", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeCluster({ size: 3, seed })
      yield* eventually("everyone ALIVE", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 3000)
      for (const i of cluster.indexes) {
        const m = yield* cluster.membership(i)
        assert.strictEqual(yield* m.totalMembership, 3)
      }
    }))

  scenario("5 nodes join through one seed and see each other ALIVE", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeCluster({ size: 5, seed })
      yield* eventually("everyone ALIVE", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 3000)
    }))

  scenario("a partitioned node is SUSPECT then DEAD, and ALIVE again with a new incarnation after healing", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeCluster({ size: 3, seed })
      const majority = [0, 1]
      yield* eventually("everyone ALIVE", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 3000)
      const before = yield* cluster.record(2, 2)

      yield* cluster.network.partition([addressOf(0), addressOf(1)], [addressOf(2)])
      yield* eventually("majority suspects node 2", allSee(cluster, majority, [2], "SUSPECT"), 7000)
      yield* eventually("majority declares node 2 DEAD", allSee(cluster, majority, [2], "DEAD"), 7000)
      yield* eventually("node 2 declares the majority DEAD", allSee(cluster, [2], majority, "DEAD"), 3000)
      assert.isTrue(yield* allSee(cluster, majority, majority, "ALIVE"), "the majority still sees itself ALIVE")
      for (const i of majority) {
        const m = yield* cluster.membership(i)
        assert.strictEqual(yield* m.totalMembership, 3, "a DEAD member still counts")
      }

      yield* cluster.network.heal
      yield* eventually("everyone ALIVE after healing", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 10_000)
      const after = yield* cluster.record(0, 2)
      assert.isAbove(after.incarnation, before.incarnation, "node 2 refuted its death with a higher incarnation")
    }))

  it.effect("the same seed replays the same run (network decisions, incarnations, heartbeats)", () =>
    Effect.gen(function*() {
      const trace = (seed: string) =>
        Effect.gen(function*() {
          const cluster = yield* makeCluster({ size: 3, seed, network: { dropRate: 0.1 } })
          yield* advance(3000)
          yield* cluster.network.partition([addressOf(0)], [addressOf(1), addressOf(2)])
          yield* advance(4000)
          yield* cluster.network.heal
          yield* advance(3000)
          const records = yield* Effect.forEach(cluster.indexes, (i) =>
            Effect.flatMap(cluster.membership(i), (m) => m.members))
          return JSON.stringify([
            yield* cluster.network.stats,
            records.map((rs) => rs.map((m) => [m.nodeId, m.status, m.incarnation, m.heartbeat]))
          ])
        }).pipe(Effect.scoped, Effect.provide(TestContext.TestContext))
      const first = yield* trace("replay")
      assert.strictEqual(yield* trace("replay"), first)
      assert.notStrictEqual(yield* trace("another seed"), first)
    }))
})
