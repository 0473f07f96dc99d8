/**
 * Deterministic simulation of membership, part 2: message loss, crash and restart, operator removal.
 * (A second file so vitest runs it next to part 1.)
 */
import { assert, describe } from "@effect/vitest"
import { Effect } from "effect"
import { advance, allSee, eventually, idOf, makeCluster, everyone } from "./SimCluster.ts"
import { scenario as run } from "./Scenario.ts"

const file = "test/membership/SimulationFaults.test.ts"
const scenario = (name: string, body: Parameters<typeof run>[2]) => run(file, name, body)

describe("membership simulation: faults", () => {
  scenario("20% message loss still converges", (seed) =>
    Effect.gen(function*() {
      // A lost Join waits for its timeout before the retry: shortened here from Marmot's 5 s.
      const cluster = yield* makeCluster({ size: 5, seed, network: { dropRate: 0.2 }, settings: { joinTimeoutMs: 2000 } })
      yield* eventually("everyone ALIVE", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 20_000)
      yield* advance(5000)
      yield* eventually("everyone ALIVE again", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 10_000)
      const stats = yield* cluster.network.stats
      assert.isAbove(stats.dropped, 0, "the network did drop messages")
    }))

  scenario("a crashed node restarted with its store remembers the members and rejoins", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeCluster({ size: 3, seed })
      yield* eventually("everyone ALIVE", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 3000)
      const before = yield* cluster.record(2, 2)

      yield* cluster.crash(2)
      yield* eventually("the others declare node 2 DEAD", allSee(cluster, [0, 1], [2], "DEAD"), 15_000)

      // No seeds: only the store can tell it who the cluster is.
      yield* cluster.restart(2, { settings: { seedNodes: [] } })
      const restarted = yield* cluster.membership(2)
      const known = yield* restarted.members
      assert.deepStrictEqual(known.map((m) => m.nodeId), [idOf(0), idOf(1), idOf(2)])
      assert.strictEqual(yield* restarted.totalMembership, 3)
      assert.isAbove((yield* restarted.self).incarnation, before.incarnation)

      yield* eventually("everyone ALIVE after the restart", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 10_000)
    }))

  scenario("a REMOVED node cannot rejoin until it is allowed", (seed) =>
    Effect.gen(function*() {
      const cluster = yield* makeCluster({ size: 3, seed })
      yield* eventually("everyone ALIVE", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 3000)
      const operator = yield* cluster.membership(0)

      yield* operator.remove(idOf(2)).pipe(Effect.orDie)
      assert.strictEqual(yield* operator.totalMembership, 2)
      yield* eventually("everyone sees node 2 REMOVED", allSee(cluster, [0, 1, 2], [2], "REMOVED"), 5000)
      yield* eventually("node 2 knows it is REMOVED", cluster.sees(2, 2, "REMOVED"), 5000)

      // It keeps trying; even restarted from an empty data dir, its gossip and its join are refused.
      yield* advance(3000)
      yield* cluster.crash(2)
      yield* cluster.restart(2, { wipe: true })
      yield* advance(5000)
      assert.isTrue(yield* allSee(cluster, [0, 1], [2], "REMOVED"), "still REMOVED on the others")
      assert.isTrue(yield* cluster.sees(2, 2, "REMOVED"), "the restarted node learnt it is REMOVED")
      assert.strictEqual(yield* operator.totalMembership, 2)

      yield* operator.allow(idOf(2)).pipe(Effect.orDie)
      yield* eventually("everyone ALIVE once allowed", allSee(cluster, everyone(cluster), everyone(cluster), "ALIVE"), 10_000)
      assert.strictEqual(yield* operator.totalMembership, 3)
    }))
})
