/**
 * Driving the `mariadb` command-line client (libmariadb) against a server: one-shot `-e` runs and a
 * long-lived batch session fed through stdin (for transactions seen from a second connection).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process"
import { run, stopPid, type RunResult } from "./Servers.ts"

export interface CliLogin {
  readonly port: number
  readonly host?: string
  readonly user?: string
  readonly password?: string
  readonly database?: string
}

export function cliArgs(login: CliLogin, extra: ReadonlyArray<string> = []): Array<string> {
  return [
    "--no-defaults",
    "--skip-ssl",
    `-h${login.host ?? "127.0.0.1"}`,
    `-P${login.port}`,
    `-u${login.user ?? "root"}`,
    ...(login.password ? [`-p${login.password}`] : []),
    ...(login.database ? [`-D${login.database}`] : []),
    "--connect-timeout=10",
    ...extra
  ]
}

/** `mariadb … -N -B [extra] -e sql`: tab-separated rows, no header. */
export function cli(login: CliLogin, sql: string, extra: ReadonlyArray<string> = []): Promise<RunResult> {
  return run("mariadb", [...cliArgs(login, ["-N", "-B", ...extra]), "-e", sql], { timeoutMs: 15_000 })
}

/**
 * One client connection kept open: statements go in through stdin (batch mode, `-n` unbuffered) and
 * each `send` waits for a marker row so the caller knows the statements before it have run.
 */
export class CliSession {
  private out = ""
  private err = ""
  private seq = 0
  private readonly child: ChildProcessWithoutNullStreams

  constructor(login: CliLogin) {
    this.child = spawn("mariadb", cliArgs(login, ["-N", "-B", "-n"]), { stdio: ["pipe", "pipe", "pipe"] })
    this.child.stdout.on("data", (c: Buffer) => (this.out += c.toString("utf8")))
    this.child.stderr.on("data", (c: Buffer) => (this.err += c.toString("utf8")))
    this.child.stdin.on("error", () => {
      // the client may have exited on an error
    })
  }

  /** Run `sql` (one or more statements, each ending with `;`) and return what they printed. */
  async send(sql: string, timeoutMs = 20_000): Promise<string> {
    const marker = `__marker_${++this.seq}__`
    const start = this.out.length
    this.child.stdin.write(`${sql}\nSELECT '${marker}';\n`)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const idx = this.out.indexOf(`${marker}\n`, start)
      if (idx >= 0) return this.out.slice(start, idx)
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`mariadb session exited (${this.child.exitCode}): ${this.err}`)
      }
      if (Date.now() > deadline) throw new Error(`mariadb session: no answer to ${JSON.stringify(sql)}: ${this.err}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  stderr(): string {
    return this.err
  }

  /** Close stdin and wait for a clean exit; returns the exit code. */
  async end(): Promise<number | null> {
    this.child.stdin.end()
    const exited = await new Promise<boolean>((resolve) => {
      if (this.child.exitCode !== null) return resolve(true)
      const t = setTimeout(() => resolve(false), 10_000)
      this.child.once("exit", () => {
        clearTimeout(t)
        resolve(true)
      })
    })
    if (!exited) await stopPid(this.child, 1000)
    return this.child.exitCode
  }

  /** Kill by pid (for finally blocks); a no-op once it has exited. */
  kill(): Promise<void> {
    return stopPid(this.child, 1000)
  }
}
