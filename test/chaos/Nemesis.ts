/**
 * The nemesis: a schedule of faults derived from the seed alone (so a run can be replayed with
 * `--seed`), executed one fault at a time: wait `gapMs`, inject, hold `holdMs`, heal that fault.
 *  - kill: kill -9 of a node (supervisor and workers, by pid), restarted on the same data dir at heal;
 *  - pause: SIGSTOP of the node's processes, SIGCONT at heal;
 *  - isolate: blackhole routes between one node and both others (needs network namespaces);
 *  - cut: blackhole routes between two nodes only, the third still sees both (a bridge);
 *  - skew: the node's wall clock moved by `skewMs` (libfaketime), back to 0 at heal. Offsets within
 *    `max_clock_drift_ms` (5 s) and some beyond it.
 * Not in the default mix (name them with `--faults`; adding them to the default would change what
 * every published seed replays):
 *  - kill-all: kill -9 of every node at once (a coordinated crash), all restarted at heal;
 *  - crash-isolated: isolate a node, kill -9 it while it is cut off, heal the partition and restart it.
 * A fault the machine cannot do (no netns, no libfaketime) is skipped and recorded as skipped, so the
 * schedule, and therefore the replay, does not depend on the machine.
 */
import type { ChaosCluster } from "./ChaosCluster.ts"
import { between, pick, prng } from "./History.ts"

export type FaultKind = "kill" | "pause" | "isolate" | "cut" | "skew" | "kill-all" | "crash-isolated"

export interface Fault {
  readonly kind: FaultKind
  readonly gapMs: number
  readonly holdMs: number
  readonly nodes: ReadonlyArray<number>
  readonly skewMs?: number
}

export const DEFAULT_FAULTS: ReadonlyArray<FaultKind> = ["kill", "pause", "isolate", "cut", "skew"]
export const ALL_FAULTS: ReadonlyArray<FaultKind> = [...DEFAULT_FAULTS, "kill-all", "crash-isolated"]

export function schedule(seed: number, durationMs: number, size: number, kinds: ReadonlyArray<FaultKind> = DEFAULT_FAULTS): Array<Fault> {
  const rnd = prng(seed)
  const out: Array<Fault> = []
  let t = 0
  // The first faults cycle through the kinds so even a short run sees each of them once.
  const order = [...kinds].sort(() => rnd() - 0.5)
  while (t < durationMs) {
    const kind = out.length < order.length ? order[out.length]! : pick(rnd, kinds)
    const gapMs = between(rnd, 1000, 3000)
    const holdMs = between(rnd, 2000, 6000)
    const a = between(rnd, 0, size - 1)
    const b = (a + between(rnd, 1, size - 1)) % size
    const fault: Fault = kind === "cut"
      ? { kind, gapMs, holdMs, nodes: [a, b] }
      : kind === "skew"
      ? { kind, gapMs, holdMs, nodes: [a], skewMs: (rnd() < 0.5 ? -1 : 1) * pick(rnd, [500, 1500, 3000, 4000, 8000]) }
      : { kind, gapMs, holdMs, nodes: [a] }
    out.push(fault)
    t += gapMs + holdMs + (kind === "kill" || kind === "kill-all" || kind === "crash-isolated" ? 8000 : 0)
  }
  return out
}

export const describeFault = (f: Fault) =>
  `${f.kind}${f.kind === "kill-all" ? "" : ` ${f.nodes.map((n) => `n${n + 1}`).join("-")}`}${f.skewMs === undefined ? "" : ` ${f.skewMs > 0 ? "+" : ""}${f.skewMs} ms`} for ${f.holdMs} ms after ${f.gapMs} ms`

export interface NemesisLogEntry {
  readonly fault: Fault
  readonly startMs: number
  endMs?: number
  readonly skipped?: string
}

export interface NemesisHandle {
  /** Stop after the current fault, heal it, and resolve with what was done. */
  stop(): Promise<Array<NemesisLogEntry>>
}

export function startNemesis(
  cluster: ChaosCluster,
  faults: ReadonlyArray<Fault>,
  now: () => number,
  log: (line: string) => void
): NemesisHandle {
  let stopped = false
  let wake: (() => void) | undefined
  const entries: Array<NemesisLogEntry> = []
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        wake = undefined
        resolve()
      }
      wake = done
    })
  const canDo = (f: Fault): string | undefined => {
    if ((f.kind === "isolate" || f.kind === "cut" || f.kind === "crash-isolated") && !cluster.options.topology.canPartition) return "no network namespaces"
    if (f.kind === "skew" && !cluster.faketime) return "no libfaketime"
    return undefined
  }
  const run = async () => {
    for (const f of faults) {
      await nap(f.gapMs)
      if (stopped) break
      const skipped = canDo(f)
      const entry: NemesisLogEntry = { fault: f, startMs: now(), ...(skipped === undefined ? {} : { skipped }) }
      entries.push(entry)
      if (skipped !== undefined) {
        log(`nemesis: skip ${describeFault(f)} (${skipped})`)
        continue
      }
      log(`nemesis @${now()} ms: ${describeFault(f)}`)
      const [a, b] = f.nodes as [number, number]
      const size = cluster.nodes.length
      try {
        if (f.kind === "kill") await cluster.kill(a)
        else if (f.kind === "kill-all") await Promise.all(cluster.nodes.map((n) => cluster.kill(n.index)))
        else if (f.kind === "crash-isolated") {
          for (let j = 0; j < size; j++) if (j !== a) cluster.options.topology.cut(a, j)
          await nap(f.holdMs / 2)
          await cluster.kill(a)
        } else if (f.kind === "pause") cluster.pause(a)
        else if (f.kind === "isolate") {
          for (let j = 0; j < size; j++) if (j !== a) cluster.options.topology.cut(a, j)
        } else if (f.kind === "cut") cluster.options.topology.cut(a, b)
        else cluster.skew(a, f.skewMs!)
        await nap(f.holdMs)
      } finally {
        if (f.kind === "kill") await cluster.restart(a)
        else if (f.kind === "kill-all") await Promise.all(cluster.nodes.filter((n) => n.server === undefined).map((n) => cluster.restart(n.index)))
        else if (f.kind === "crash-isolated") {
          cluster.options.topology.healAll()
          if (cluster.nodes[a]!.server === undefined) await cluster.restart(a)
        } else if (f.kind === "pause") cluster.resume(a)
        else if (f.kind === "skew") cluster.skew(a, 0)
        else cluster.options.topology.healAll()
        entry.endMs = now()
        log(`nemesis @${now()} ms: healed ${f.kind}${f.kind === "kill-all" ? "" : ` n${a + 1}`}`)
      }
    }
  }
  const running = run()
  return {
    stop: async () => {
      stopped = true
      wake?.()
      await running
      return entries
    }
  }
}
