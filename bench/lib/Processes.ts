/**
 * Process bookkeeping for the benches: every command started here is registered and stopped by its
 * own pid at the end, on failure, and on SIGINT/SIGTERM (`onStopSignals`); servers register how to
 * stop them with `atStop`.
 */
import type { ChildProcess } from "node:child_process"
import { run, type RunResult } from "../../test/support/Servers.ts"

const children = new Set<ChildProcess>()
const cleanups: Array<() => Promise<void>> = []

export const log = (s: string) => process.stdout.write(s + "\n")
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const killPid = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig)
  } catch {
    // gone
  }
}

/** Register a way to stop something (a server, a cluster) when the bench ends; last registered runs first. */
export const atStop = (stop: () => Promise<void>) => {
  cleanups.push(stop)
}

export async function stopEverything() {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) killPid(c.pid, "SIGKILL")
  children.clear()
  while (cleanups.length > 0) {
    const f = cleanups.pop()!
    try {
      await f()
    } catch (e) {
      log(`cleanup: ${String(e)}`)
    }
  }
}

/** On SIGINT (exit 130) / SIGTERM (143): stop everything, then exit. */
export function onStopSignals() {
  const on = (sig: NodeJS.Signals, code: number) =>
    process.once(sig, () => {
      log(`\n${sig}: stopping everything`)
      void stopEverything().then(() => process.exit(code))
    })
  on("SIGINT", 130)
  on("SIGTERM", 143)
}

export type Ran = RunResult

/** Run a command to completion; it is registered so that a signal or a failure stops it by pid. */
export const runTracked = (cmd: string, args: ReadonlyArray<string>, timeoutMs: number): Promise<Ran> =>
  run(cmd, args, { timeoutMs, running: children })

/** Run `main`, stop everything started, exit with its code (1 if it threw). */
export function runMain(main: () => Promise<number>) {
  onStopSignals()
  main()
    .finally(stopEverything)
    .then(
      (code) => process.exit(code),
      (e) => {
        console.error(e)
        process.exit(1)
      }
    )
}
