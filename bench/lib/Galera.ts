/**
 * A 3-node MariaDB Galera cluster brought up with the shared recipe (galera-up.sh / galera-down.sh:
 * fixed ports 34306-34308, data in /tmp/galera-n1..3), stopped by its pids.
 */
import { existsSync, readFileSync } from "node:fs"
import net from "node:net"
import path from "node:path"
import { spawnSync } from "node:child_process"
import { pidAlive } from "../../test/support/Servers.ts"
import type { Target } from "./Endpoints.ts"
import { atStop, killPid, log, runTracked } from "./Processes.ts"

export const GALERA_PORTS = [34306, 34307, 34308] as const

export function galeraInstalled(): string | undefined {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Status} ${Version}", "galera-4"], { encoding: "utf8" })
  if (r.status !== 0 || !/install ok installed/.test(r.stdout)) return undefined
  return r.stdout.split(" ").pop()
}

const portBusy = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port })
    s.once("connect", () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

const galeraPids = () =>
  [1, 2, 3]
    .map((i) => {
      try {
        return Number(readFileSync(`/tmp/galera-n${i}/launcher.pid`, "utf8").trim())
      } catch {
        return NaN
      }
    })
    .filter((p) => Number.isInteger(p) && p > 0)

export interface RunningGalera {
  readonly target: Target
  readonly startupS: number
  stop(): Promise<void>
}

/** Why Galera cannot be started here now, or undefined. */
async function unavailable(up: string, down: string): Promise<string | undefined> {
  if (galeraInstalled() === undefined) return "galera-4 is not installed (apt-get install -y galera-4 mariadb-backup socat)"
  if (!existsSync(up) || !existsSync(down)) return `no ${up} / ${down} (set GALERA_TOOLS)`
  for (const p of GALERA_PORTS) if (await portBusy(p)) return `port ${p} is in use (another Galera cluster running?)`
  if (existsSync("/tmp/galera-n1")) return "/tmp/galera-n1 exists (another Galera cluster, or a leftover: run galera-down.sh)"
  return undefined
}

/**
 * Start the cluster with `<tools>/galera-up.sh`, or say why not. While another Galera cluster holds
 * the ports, waits up to `waitMs` for it to go. Throws (after stopping what it started) if the
 * recipe fails.
 */
export async function startGalera(tools: string, waitMs = 0): Promise<RunningGalera | { skipped: string }> {
  const up = path.join(tools, "galera-up.sh")
  const down = path.join(tools, "galera-down.sh")
  const deadline = Date.now() + waitMs
  let why = await unavailable(up, down)
  while (why !== undefined && why.includes("another Galera") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5000))
    why = await unavailable(up, down)
  }
  if (why !== undefined) return { skipped: why }
  const version = galeraInstalled()!
  log(`-- MariaDB Galera (galera-4 ${version}), 3 nodes via ${up}`)
  // stop by pid: galera-down.sh (TERM by launcher.pid, waits), then KILL whatever pid is left
  let pids: Array<number> = []
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    pids = [...new Set([...pids, ...galeraPids()])]
    await runTracked("bash", [down], 240_000).catch(() => undefined)
    for (const p of pids) if (pidAlive(p)) killPid(p, "SIGKILL")
  }
  atStop(stop)
  const t0 = Date.now()
  try {
    const r = await runTracked("bash", [up], 300_000)
    pids = galeraPids()
    if (r.code !== 0) throw new Error(`galera-up.sh exit ${r.code}${r.timedOut ? " (timed out)" : ""}: ${r.stdout.slice(-1500)} ${r.stderr.slice(-1500)}`)
  } catch (e) {
    await stop()
    throw e
  }
  const startupS = (Date.now() - t0) / 1000
  log(`   up in ${startupS.toFixed(1)} s, mariadbd pids ${pids.join(" ")}`)
  const target: Target = {
    name: "Galera",
    engine: `MariaDB Galera (galera-4 ${version})`,
    host: "127.0.0.1",
    ports: GALERA_PORTS,
    user: "sb",
    password: "sb",
    alive: () => pids.every(pidAlive),
    describeDeath: () => `mariadbd exited: ${pids.filter((p) => !pidAlive(p)).join(" ")}`
  }
  return { target, startupS, stop }
}
