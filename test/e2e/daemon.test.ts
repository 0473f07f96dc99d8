/** --daemon detaches the node (output in <data-dir>/marmot.log); --pid-file names it and goes away with it. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import mysql, { type RowDataPacket } from "mysql2/promise"
import { afterAll, describe, expect, it } from "vitest"
import { repoRoot, run } from "../support/Servers.ts"

const dir = mkdtempSync(path.join(os.tmpdir(), "marmot-daemon-"))
const pidFile = path.join(dir, "marmot.pid")
const dataDir = path.join(dir, "data")
let pid: number | undefined

const alive = (p: number) => {
  try {
    process.kill(p, 0)
    return true
  } catch {
    return false
  }
}

afterAll(() => {
  if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL")
  rmSync(dir, { recursive: true, force: true })
})

describe("--daemon and --pid-file", () => {
  it("detaches, serves MySQL, and removes its pid file when stopped", async () => {
    const started = await run(
      process.execPath,
      ["--import", "tsx", "src/main.ts", "--daemon", "--pid-file", pidFile, "--data-dir", dataDir, "--mysql-port", "0", "--workers", "1"],
      { timeoutMs: 30_000, cwd: repoRoot }
    )
    expect(started.code).toBe(0)
    expect(started.stdout).toMatch(/started in the background: pid \d+/)
    const log = path.join(dataDir, "marmot.log")
    let port: number | undefined
    for (let i = 0; i < 240 && port === undefined; i++) {
      const m = existsSync(log) ? readFileSync(log, "utf8").match(/mysql=127\.0\.0\.1:(\d+)/) : null
      if (m !== null) port = Number(m[1])
      else await new Promise((r) => setTimeout(r, 250))
    }
    expect(port).toBeDefined()
    pid = Number(readFileSync(pidFile, "utf8").trim())
    expect(alive(pid)).toBe(true)
    const c = await mysql.createConnection({ host: "127.0.0.1", port: port!, user: "root" })
    const [r] = await c.query<RowDataPacket[]>("SELECT 6 * 7 AS answer")
    expect(r).toEqual([{ answer: 42 }])
    await c.end()
    process.kill(pid, "SIGTERM")
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100))
    expect(alive(pid)).toBe(false)
    expect(existsSync(pidFile)).toBe(false)
  }, 90_000)
})
