/**
 * Process lifecycle on one data directory: SIGTERM with a client connected and a transaction open must
 * end the process, and every process it started, by itself (exit code 0, within 5 s); a restart on the
 * same data must show every committed row and none of the open transaction's; after SIGKILL of the
 * server's pid (a crash) its child processes must go by themselves, and every acknowledged autocommit
 * write must still be there after a restart.
 */
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import mysql from "mysql2/promise"
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise"
import { afterAll, describe, expect, it } from "vitest"
import { startTarget, type RunningServer } from "../support/Servers.ts"

const keep = mkdtempSync(path.join(os.tmpdir(), "e2e-lifecycle-"))
let server: RunningServer | undefined
const conns: Array<Connection> = []

afterAll(async () => {
  for (const c of conns) c.destroy()
  await server?.stop()
  rmSync(keep, { recursive: true, force: true })
})

async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

async function connect(s: RunningServer): Promise<Connection> {
  const c = await mysql.createConnection({ host: s.host, port: s.port, user: "root", password: "", database: "life" })
  c.on("error", () => {
    // the server goes away under these connections on purpose
  })
  conns.push(c)
  return c
}

describe("lifecycle on one data directory", { timeout: 60_000 }, () => {
  it("SIGTERM with a client inside an open transaction: the process exits by itself with code 0", async () => {
    server = await startTarget({ dataDir: keep })
    const setup = await mysql.createConnection({ host: server.host, port: server.port, user: "root", password: "" })
    conns.push(setup)
    await setup.query("CREATE DATABASE life")
    await setup.query("CREATE TABLE life.t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40) NOT NULL)")
    // explicit ids: the rows are found again by id after the restarts
    await setup.query("INSERT INTO life.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    const open = await connect(server)
    await open.query("BEGIN")
    await open.query("INSERT INTO t (v) VALUES ('uncommitted')")
    await open.query("UPDATE t SET v = 'changed' WHERE id = 1")

    const s = server
    s.kill("SIGTERM")
    const exited = await waitFor(() => !s.alive() && s.strays().length === 0, 5000)
    expect({ exited, status: s.exitStatus(), strays: s.strays() }, s.output().slice(-3000)).toEqual({
      exited: true,
      status: { code: 0, signal: null },
      strays: []
    })
    await s.stop()
  })

  it("restart on the same data: committed rows are there, the open transaction's are not", async () => {
    server = await startTarget({ dataDir: keep })
    const c = await connect(server)
    const [dbs] = await c.query<RowDataPacket[]>("SHOW DATABASES")
    expect(dbs.map((r) => Object.values(r)[0])).toContain("life")
    const [rows] = await c.query<RowDataPacket[]>("SELECT id, v FROM t ORDER BY id")
    expect(rows).toEqual([
      { id: 1, v: "a" },
      { id: 2, v: "b" },
      { id: 3, v: "c" }
    ])
    const [ins] = await c.query<ResultSetHeader>("INSERT INTO t (v) VALUES ('after restart')")
    expect(ins.insertId).toBeGreaterThan(3)
  })

  it("SIGKILL: every acknowledged autocommit write survives the crash", async () => {
    const c = await connect(server!)
    const [before] = await c.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM t")
    const n0 = Number(before[0]!["n"])
    for (let i = 0; i < 100; i++) {
      const [r] = await c.execute<ResultSetHeader>("INSERT INTO t (v) VALUES (?)", [`crash-${i}`])
      expect(r.affectedRows).toBe(1)
    }
    await c.query("UPDATE t SET v = 'updated before crash' WHERE id = 2")
    const s = server!
    s.kill("SIGKILL")
    // processes the server had started must not outlive it (they hold the port and the files)
    const gone = await waitFor(() => !s.alive() && s.strays().length === 0, 5000)
    expect({ gone, strays: s.strays() }).toEqual({ gone: true, strays: [] })
    expect(s.exitStatus()).toEqual({ code: null, signal: "SIGKILL" })
    await s.stop()

    server = await startTarget({ dataDir: keep })
    const d = await connect(server)
    const [after] = await d.query<RowDataPacket[]>("SELECT COUNT(*) AS n, SUM(v LIKE 'crash-%') AS crashed FROM t")
    expect(after).toEqual([{ n: n0 + 100, crashed: expect.anything() }])
    expect(Number(after[0]!["crashed"])).toBe(100)
    const [two] = await d.query<RowDataPacket[]>("SELECT v FROM t WHERE id = 2")
    expect(two).toEqual([{ v: "updated before crash" }])
  })
})
