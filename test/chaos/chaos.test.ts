/**
 * The short chaos run of `npm test`: 3 real nodes (each in its own network namespace when we are
 * root), 3 clients (one per node) at QUORUM for 30 s while the nemesis kills, pauses, partitions and
 * skews the clock of nodes (the seed's schedule; `CHAOS_SEED=S` replays one, and `npm run chaos`
 * is the long run). Then: heal, every node's tables equal, and the history checks of Checker.ts.
 */
import { describe, expect, it } from "vitest"
import { formatReport, runChaos } from "./Run.ts"

const seed = process.env["CHAOS_SEED"] !== undefined ? Number(process.env["CHAOS_SEED"]) : Math.floor(Math.random() * 2 ** 31)

describe("chaos: 3 nodes under kill -9, pause, partitions and clock skew", () => {
  it("QUORUM: acknowledged inserts survive, deletes stay deleted, counters and appends are exact, all nodes converge", async () => {
    console.log(`chaos seed ${seed} (replay: CHAOS_SEED=${seed} npx vitest run test/chaos/chaos.test.ts)`)
    const report = await runChaos({ seed, durationMs: 30_000, clients: 3, thinkMs: 30, log: () => {} })
    console.log(formatReport(report))
    // not a vacuous run: faults happened and every kind of operation was acknowledged several times
    // (the machine is shared: a kill and restart alone can take 20 s of the 30)
    expect(report.nemesis.filter((e) => e.skipped === undefined).length).toBeGreaterThanOrEqual(2)
    for (const f of ["insert", "delete", "incr-auto", "incr-txn", "append-text", "append-row"]) {
      expect(report.summary[f]?.["ok"] ?? 0, f).toBeGreaterThan(5)
    }
    expect(report.convergence.converged).toBe(true)
    expect(report.anomalies).toEqual([])
  }, 240_000)
})
