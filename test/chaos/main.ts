/**
 * The long chaos run: `npm run chaos -- --seed S --duration 600 [--clients 6] [--level QUORUM]
 * [--faults kill,pause,isolate,cut,skew (the default),kill-all,crash-isolated] [--topology auto|netns|loopback]`. Duration in seconds.
 * Prints the seed first (a run without --seed picks one), the report last; exit code 1 on anomalies.
 */
import { ALL_FAULTS, DEFAULT_FAULTS, type FaultKind } from "./Nemesis.ts"
import { formatReport, runChaos } from "./Run.ts"

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const seed = Number(flag("seed") ?? Math.floor(Math.random() * 2 ** 31))
const duration = Number(flag("duration") ?? 120)
const clients = Number(flag("clients") ?? 6)
const level = flag("level") as "ONE" | "QUORUM" | "ALL" | undefined
const faults = (flag("faults")?.split(",") ?? DEFAULT_FAULTS) as Array<FaultKind>
const topology = (flag("topology") ?? "auto") as "auto" | "netns" | "loopback"
for (const f of faults) if (!ALL_FAULTS.includes(f)) throw new Error(`unknown fault ${f}; known: ${ALL_FAULTS.join(",")}`)
if (!Number.isInteger(seed) || !(duration > 0) || !(clients > 0)) throw new Error("--seed must be an integer, --duration and --clients positive")
if (level !== undefined && !["ONE", "QUORUM", "ALL"].includes(level)) throw new Error("--level ONE | QUORUM | ALL")

// Ctrl-C or a kill: exit through the process exit hooks, which SIGKILL the nodes by pid and delete
// the network namespaces.
process.once("SIGINT", () => process.exit(130))
process.once("SIGTERM", () => process.exit(143))

console.log(`chaos seed ${seed}`)
const report = await runChaos({
  seed,
  durationMs: duration * 1000,
  clients,
  faults,
  topology,
  convergeTimeoutMs: 120_000,
  ...(level === undefined ? {} : { level })
})
console.log(formatReport(report))
process.exit(report.anomalies.length === 0 ? 0 : 1)
