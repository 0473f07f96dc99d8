/**
 * Starting and stopping real servers (our node, a private MariaDB) and running CLI clients for the
 * end-to-end tests and the benchmark.
 *
 * Every process started here is registered until it is stopped, and stopped by its own pid (SIGTERM,
 * then SIGKILL after 5 s). A server may fork processes of its own (marmot runs MySQL workers under a
 * supervisor): their pids are recorded whenever we signal the server, and any that outlive it by 5 s
 * are SIGKILLed by pid. If a test file ends without calling `stop()` (a crashed hook, a killed
 * worker), a process `exit` hook SIGKILLs whatever is still registered and removes its temp dir.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import net from "node:net"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

export interface RunningServer {
  readonly kind: "marmot" | "mariadb"
  readonly host: string
  readonly port: number
  readonly pid: number
  /** The server's private temp dir (config, socket, pid file, and the data unless `dataDir` was given). Removed by `stop()`. */
  readonly dir: string
  /** Where the data lives: inside `dir`, or the caller's `dataDir` (which `stop()` leaves in place). */
  readonly dataDir: string
  /** False once the process has exited. */
  alive(): boolean
  /** Send a signal to the server's own pid (recording its child processes first). */
  kill(signal: NodeJS.Signals): void
  /** The server's child processes seen so far (at start, on kill/stop) that are still running. */
  strays(): Array<number>
  /** Exit code / signal once exited, else undefined. */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined
  stop(): Promise<void>
  /** Everything the process wrote to stdout and stderr so far (capped at 4 MiB). */
  output(): string
}

export const repoRoot: string = fileURLToPath(new URL("../..", import.meta.url))

/** The app user every e2e server knows besides root (empty password). */
export const APP_USER = { user: "app", password: "s3cret" } as const

export const USERS_TOML = `[mysql]
max_connections = 100
[[mysql.users]]
name = "root"
password = ""
[[mysql.users]]
name = "${APP_USER.user}"
password = "${APP_USER.password}"
`

// ---------------------------------------------------------------------------------------------
// process bookkeeping

interface Tracked {
  readonly child: ChildProcess
  readonly dir: string
  /** Descendant pids recorded while the server ran. */
  readonly family: Set<number>
}

const live = new Set<Tracked>()

/** All descendants of `pid` (children of every thread, recursively), from /proc. */
export function descendants(pid: number): Array<number> {
  const out: Array<number> = []
  const walk = (p: number) => {
    let tids: Array<string>
    try {
      tids = readdirSync(`/proc/${p}/task`)
    } catch {
      return
    }
    for (const tid of tids) {
      let kids = ""
      try {
        kids = readFileSync(`/proc/${p}/task/${tid}/children`, "utf8")
      } catch {
        continue
      }
      for (const k of kids.split(/\s+/).filter((x) => x !== "")) {
        out.push(Number(k))
        walk(Number(k))
      }
    }
  }
  walk(pid)
  return out
}

/** True while `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return !/^\d+ \(.*\) Z /.test(stat)
  } catch {
    return false
  }
}

function record(t: Tracked) {
  if (t.child.pid !== undefined) for (const d of descendants(t.child.pid)) t.family.add(d)
}

function killQuietly(pid: number) {
  try {
    process.kill(pid, "SIGKILL")
  } catch {
    // already gone
  }
}

process.on("exit", () => {
  for (const t of live) {
    record(t)
    if (t.child.pid !== undefined && t.child.exitCode === null && t.child.signalCode === null) killQuietly(t.child.pid)
    for (const d of t.family) if (pidAlive(d)) killQuietly(d)
    try {
      rmSync(t.dir, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }
  live.clear()
})

const OUTPUT_CAP = 4 * 1024 * 1024

function capture(child: ChildProcess): { text: () => string } {
  let buf = ""
  const add = (chunk: Buffer) => {
    if (buf.length < OUTPUT_CAP) buf += chunk.toString("utf8")
  }
  child.stdout?.on("data", add)
  child.stderr?.on("data", add)
  return { text: () => buf }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit)
      resolve(false)
    }, ms)
    const onExit = () => {
      clearTimeout(timer)
      resolve(true)
    }
    child.once("exit", onExit)
  })
}

/** SIGTERM by pid, SIGKILL after `graceMs`. Resolves once the process has exited. */
export async function stopPid(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pid = child.pid
  if (pid === undefined) return
  if (child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(pid, "SIGTERM")
  } catch {
    return
  }
  if (await waitExit(child, graceMs)) return
  try {
    process.kill(pid, "SIGKILL")
  } catch {
    return
  }
  await waitExit(child, 5000)
}

function makeServer(
  kind: RunningServer["kind"],
  child: ChildProcess,
  dir: string,
  dataDir: string,
  host: string,
  port: number,
  out: { text: () => string },
  tracked: Tracked
): RunningServer {
  let stopped: Promise<void> | undefined
  return {
    kind,
    host,
    port,
    pid: child.pid!,
    dir,
    dataDir,
    alive: () => child.exitCode === null && child.signalCode === null,
    exitStatus: () =>
      child.exitCode === null && child.signalCode === null
        ? undefined
        : { code: child.exitCode, signal: child.signalCode },
    output: out.text,
    kill: (signal) => {
      record(tracked)
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal)
    },
    strays: () => [...tracked.family].filter(pidAlive),
    stop: () =>
      (stopped ??= (async () => {
        record(tracked)
        await stopPid(child)
        // children should follow their parent; give them 5 s, then SIGKILL each by its pid
        const deadline = Date.now() + 5000
        while ([...tracked.family].some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
        for (const d of tracked.family) if (pidAlive(d)) killQuietly(d)
        live.delete(tracked)
        rmSync(dir, { recursive: true, force: true })
      })())
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

/** A port that was free a moment ago: bind a server to port 0 on loopback and close it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address()
      if (addr === null || typeof addr === "string") {
        srv.close()
        reject(new Error("no port"))
        return
      }
      srv.close(() => resolve(addr.port))
    })
  })
}

export interface RunResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
}

/**
 * Run a command to completion (stdin from `input`, or closed). On timeout it is SIGKILLed by pid and the
 * result has `timedOut: true`. Never rejects for a non-zero exit.
 */
export function run(
  cmd: string,
  args: ReadonlyArray<string>,
  opts: {
    input?: string
    env?: Record<string, string | undefined>
    timeoutMs: number
    cwd?: string
    /** Holds the child while it runs (so its owner can stop it by pid). */
    running?: Set<ChildProcess>
  }
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    opts.running?.add(child)
    let stdout = ""
    let stderr = ""
    let timedOut = false
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    const timer = setTimeout(() => {
      timedOut = true
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL")
        } catch {
          // gone
        }
      }
    }, opts.timeoutMs)
    child.on("error", (e) => {
      clearTimeout(timer)
      opts.running?.delete(child)
      reject(e)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      opts.running?.delete(child)
      resolve({ code, signal, stdout, stderr, timedOut })
    })
    child.stdin.on("error", () => {
      // the child may exit without reading its input
    })
    child.stdin.end(opts.input ?? "")
  })
}

/** Resolve when `probe()` succeeds; reject after `ms`, or at once when `dead()` says the process exited. */
async function poll(what: string, ms: number, dead: () => string | undefined, probe: () => Promise<boolean>) {
  const deadline = Date.now() + ms
  for (;;) {
    const d = dead()
    if (d !== undefined) throw new Error(`${what}: ${d}`)
    if (await probe()) return
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${ms} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** True when something on host:port sends a MySQL greeting (protocol version 10) or an ERR packet. */
function greets(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port })
    const done = (ok: boolean) => {
      sock.destroy()
      resolve(ok)
    }
    sock.setTimeout(1000, () => done(false))
    sock.once("error", () => done(false))
    sock.once("data", (b: Buffer) => done(b.length > 4 && (b[4] === 10 || b[4] === 0xff)))
  })
}

// ---------------------------------------------------------------------------------------------
// marmot

export interface MarmotOptions {
  /** TOML text written to a temp file and passed with --config. */
  readonly config?: string
  readonly args?: ReadonlyArray<string>
  /** Use this data dir (kept by `stop()`, e.g. to restart on the same data) instead of a fresh one. */
  readonly dataDir?: string
  /** How long to wait for the `mysql=host:port` line (default 60 s). */
  readonly readyTimeoutMs?: number
  /**
   * Run node through a wrapper that execs it (so the pid stays node's), e.g.
   * `["ip", "netns", "exec", "ns1"]`: the first element is the program, the rest its arguments.
   */
  readonly wrapper?: ReadonlyArray<string>
  /** Extra environment variables for the server (e.g. LD_PRELOAD). */
  readonly env?: Record<string, string>
}

export async function startMarmot(opts: MarmotOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "marmot-e2e-"))
  const dataDir = opts.dataDir ?? path.join(dir, "data")
  // MARMOT_NODE_ARGS: extra node flags for every server started here (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
  const nodeArgs = (process.env["MARMOT_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== "")
  const args = [...nodeArgs, "--import", "tsx", "src/main.ts", "--data-dir", dataDir, "--mysql-port", "0", "--mysql-bind", "127.0.0.1"]
  if (opts.config !== undefined) {
    const file = path.join(dir, "config.toml")
    writeFileSync(file, opts.config)
    args.push("--config", file)
  }
  args.push(...(opts.args ?? []))
  const [file, ...argv] = opts.wrapper !== undefined && opts.wrapper.length > 0
    ? [...opts.wrapper, process.execPath, ...args]
    : [process.execPath, ...args]
  const child = spawn(file!, argv, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } })
  })
  const tracked: Tracked = { child, dir, family: new Set() }
  live.add(tracked)
  const out = capture(child)
  const fail = async (why: string): Promise<never> => {
    record(tracked)
    await stopPid(child)
    for (const d of tracked.family) if (pidAlive(d)) killQuietly(d)
    live.delete(tracked)
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`marmot did not start: ${why}\n--- output ---\n${out.text().slice(-8000)}`)
  }
  let stdoutText = ""
  const ready = new Promise<{ host: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout waiting for mysql=host:port")), opts.readyTimeoutMs ?? 60_000)
    child.stdout!.on("data", (c: Buffer) => {
      stdoutText += c.toString("utf8")
      const m = /mysql=([\d.]+):(\d+)/.exec(stdoutText)
      if (m) {
        clearTimeout(timer)
        resolve({ host: m[1]!, port: Number(m[2]) })
      }
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`exited early (code ${code}, signal ${signal})`))
    })
    child.once("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
  let addr: { host: string; port: number }
  try {
    addr = await ready
  } catch (e) {
    return fail(String(e instanceof Error ? e.message : e))
  }
  record(tracked)
  return makeServer("marmot", child, dir, dataDir, addr.host, addr.port, out, tracked)
}

// ---------------------------------------------------------------------------------------------
// mariadb

export interface MariadbOptions {
  readonly extraArgs?: ReadonlyArray<string>
  /** Use this datadir (installed into if it has no `mysql` schema yet; kept by `stop()`). */
  readonly dataDir?: string
}

export async function startMariadb(opts: MariadbOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mdb-e2e-"))
  const dataDir = opts.dataDir ?? path.join(dir, "data")
  const asRoot = process.getuid?.() === 0
  const userArgs = asRoot ? ["--user=root"] : []
  const install = existsSync(path.join(dataDir, "mysql")) ? { status: 0, stdout: "", stderr: "" } : spawnSync(
    "mariadb-install-db",
    [
      "--no-defaults",
      `--datadir=${dataDir}`,
      ...userArgs,
      "--auth-root-authentication-method=normal",
      "--skip-test-db"
    ],
    { encoding: "utf8", timeout: 60_000 }
  )
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`mariadb-install-db failed (${install.status}): ${install.stdout}\n${install.stderr}`)
  }
  const port = await freePort()
  const child = spawn(
    "mariadbd",
    [
      "--no-defaults",
      `--datadir=${dataDir}`,
      `--socket=${path.join(dir, "mysqld.sock")}`,
      `--pid-file=${path.join(dir, "mysqld.pid")}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      ...userArgs,
      "--skip-name-resolve",
      "--max-allowed-packet=64M",
      "--max-connections=200",
      // MySQL 8-like defaults: utf8mb4 everywhere (MariaDB 10.11 defaults to latin1)
      "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_general_ci",
      ...(opts.extraArgs ?? [])
    ],
    { stdio: ["ignore", "pipe", "pipe"] }
  )
  const tracked: Tracked = { child, dir, family: new Set() }
  live.add(tracked)
  const out = capture(child)
  const server = makeServer("mariadb", child, dir, dataDir, "127.0.0.1", port, out, tracked)
  try {
    await poll(
      "mariadbd",
      30_000,
      () => (server.alive() ? undefined : `exited: ${JSON.stringify(server.exitStatus())}\n${out.text().slice(-4000)}`),
      () => greets("127.0.0.1", port)
    )
  } catch (e) {
    await server.stop()
    throw e
  }
  return server
}

// ---------------------------------------------------------------------------------------------
// target selection

export type Target = "marmot" | "mariadb"

/** `E2E_TARGET=mariadb` runs the e2e suite against a private MariaDB; the default is our server. */
export const e2eTarget: Target = process.env["E2E_TARGET"] === "mariadb" ? "mariadb" : "marmot"

/**
 * Start the server the e2e suite is aimed at, with users root (no password) and app/s3cret.
 * For MariaDB the app user is created by SQL after start (through the mariadb CLI).
 */
export async function startTarget(opts: { dataDir?: string } = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}
  if (e2eTarget === "marmot") return startMarmot({ config: USERS_TOML, ...dataDir })
  const server = await startMariadb(dataDir)
  const r = await run(
    "mariadb",
    ["--no-defaults", "-h127.0.0.1", `-P${server.port}`, "-uroot", "--skip-ssl"],
    {
      input: `CREATE USER IF NOT EXISTS '${APP_USER.user}'@'%' IDENTIFIED BY '${APP_USER.password}';
GRANT ALL PRIVILEGES ON *.* TO '${APP_USER.user}'@'%';`,
      timeoutMs: 20_000
    }
  )
  if (r.code !== 0) {
    await server.stop()
    throw new Error(`creating the app user on MariaDB failed: ${r.stderr}`)
  }
  return server
}

/** VmRSS of `pid` plus all its descendants, in KiB (undefined when `pid` is gone). */
export function rssTreeKiB(pid: number): number | undefined {
  const own = rssKiB(pid)
  if (own === undefined) return undefined
  return descendants(pid).reduce((sum, d) => sum + (rssKiB(d) ?? 0), own)
}

/** The VmRSS of a process in KiB, from /proc/<pid>/status, or undefined when it is gone. */
export function rssKiB(pid: number): number | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8")
  } catch {
    return undefined
  }
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status)
  return m ? Number(m[1]) : undefined
}
