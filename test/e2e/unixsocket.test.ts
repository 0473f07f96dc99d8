/** The unix socket of a node with two MySQL workers: made once by the supervisor, served by both, removed at stop. */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import mysql from "mysql2/promise"
import type { RowDataPacket } from "mysql2/promise"
import { afterAll, describe, expect, it } from "vitest"
import { startMarmot } from "../support/Servers.ts"

const dir = mkdtempSync(path.join(os.tmpdir(), "marmot-sock-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("unix socket with --workers 2", () => {
  it("stays in place while both workers serve it, and goes with the node", async () => {
    const socketPath = path.join(dir, "mysqld.sock")
    const server = await startMarmot({ args: ["--workers", "2", "--unix-socket", socketPath] })
    try {
      await new Promise((r) => setTimeout(r, 1000))
      expect(existsSync(socketPath)).toBe(true)
      const ids = new Set<string>()
      for (let i = 0; i < 8; i++) {
        const c = await mysql.createConnection({ socketPath, user: "root" })
        const [rows] = await c.query<Array<RowDataPacket>>("SELECT CONNECTION_ID() AS id")
        ids.add(String(rows[0]!["id"]))
        await c.end()
      }
      expect(ids.size).toBe(8)
      expect(existsSync(socketPath)).toBe(true)
    } finally {
      await server.stop()
    }
    expect(existsSync(socketPath)).toBe(false)
  }, 120_000)
})
