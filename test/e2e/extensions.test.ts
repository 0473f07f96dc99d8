/**
 * SQLite loadable extensions through MySQL: two tiny extensions are compiled with gcc against
 * Debian's libsqlite3-dev headers into a temp dir. `twice` is in `always_loaded`; `hello` is loaded
 * by `LOAD EXTENSION` and must then work on every connection of the node (two worker processes).
 * Names that reach outside the directory are refused.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import mysql from "mysql2/promise"
import type { RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { run, startMarmot, type RunningServer } from "../support/Servers.ts"

let dir: string
let extDir: string
let server: RunningServer

const source = (name: string, fn: string, body: string) => `#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
static void impl(sqlite3_context *ctx, int argc, sqlite3_value **argv) { ${body} }
int sqlite3_${name}_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  SQLITE_EXTENSION_INIT2(api);
  return sqlite3_create_function(db, "${fn}", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, 0, impl, 0, 0);
}
`

const compile = async (name: string, fn: string, body: string, out: string) => {
  const c = path.join(dir, `${name}.c`)
  writeFileSync(c, source(name, fn, body))
  const r = await run("gcc", ["-shared", "-fPIC", "-O1", "-o", out, c], { timeoutMs: 60_000 })
  if (r.code !== 0) throw new Error(`gcc failed: ${r.stderr}`)
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "marmot-ext-"))
  extDir = path.join(dir, "ext")
  mkdirSync(extDir)
  await Promise.all([
    compile("hello", "hello_ext", `const unsigned char *s = sqlite3_value_text(argv[0]);
      sqlite3_result_text(ctx, sqlite3_mprintf("hello, %s", s ? (const char *)s : "NULL"), -1, sqlite3_free);`, path.join(extDir, "hello.so")),
    compile("twice", "twice_ext", "sqlite3_result_int64(ctx, 2 * sqlite3_value_int64(argv[0]));", path.join(extDir, "libtwice.so")),
    // outside the directory, reachable only by a path or through a symlink
    compile("outside", "outside_ext", "sqlite3_result_int(ctx, 1);", path.join(dir, "outside.so"))
  ])
  symlinkSync(path.join(dir, "outside.so"), path.join(extDir, "escape.so"))
  server = await startMarmot({
    config: `[extensions]\ndirectory = "${extDir}"\nalways_loaded = ["twice"]\n`,
    args: ["--workers", "2"]
  })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

const connect = () => mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root" })

const errorOf = (p: Promise<unknown>) =>
  p.then(() => undefined, (e: { errno: number; sqlState: string; message: string }) => ({ errno: e.errno, sqlState: e.sqlState, message: e.message }))

describe("SQLite extensions", { timeout: 30_000 }, () => {
  it("loads always_loaded extensions on every connection at open (table and table-less queries)", async () => {
    const c = await connect()
    await c.query("CREATE DATABASE ext_db")
    await c.query("CREATE TABLE ext_db.n (v INT)")
    await c.query("INSERT INTO ext_db.n VALUES (1), (21)")
    const [a] = await c.query<RowDataPacket[]>("SELECT twice_ext(21) AS x")
    expect(a).toEqual([{ x: 42 }])
    const [b] = await c.query<RowDataPacket[]>("SELECT twice_ext(v) AS x FROM ext_db.n ORDER BY v")
    expect(b).toEqual([{ x: 2 }, { x: 42 }])
    await c.end()
  })

  it("LOAD EXTENSION 'name' makes its functions available on this and every later connection", async () => {
    const c = await connect()
    expect(await errorOf(c.query("SELECT hello_ext('x')"))).toMatchObject({ errno: 1305, sqlState: "42000" })
    await c.query("LOAD EXTENSION 'hello'")
    const [r] = await c.query<RowDataPacket[]>("SELECT hello_ext('marmot') AS h")
    expect(r).toEqual([{ h: "hello, marmot" }])
    await c.end()
    // new connections land on both worker processes
    for (let i = 0; i < 4; i++) {
      const d = await connect()
      const [x] = await d.query<RowDataPacket[]>("SELECT hello_ext(CONNECTION_ID()) AS h, twice_ext(v) AS t FROM ext_db.n WHERE v = 21")
      expect(x).toEqual([{ h: expect.stringMatching(/^hello, \d+$/), t: 42 }])
      await d.end()
    }
    const cli = await run("mariadb", ["--no-defaults", "--skip-ssl", "-h127.0.0.1", `-P${server.port}`, "-uroot", "-N", "-B", "-e", "LOAD EXTENSION hello; SELECT hello_ext('cli')"], { timeoutMs: 20_000 })
    expect(cli).toMatchObject({ code: 0, stdout: "hello, cli\n", stderr: "" })
  })

  it("refuses names that leave the directory (1124) and unknown ones (1126)", async () => {
    const c = await connect()
    const paths = ["../outside", path.join(dir, "outside.so"), "./hello", "ext/../hello", "escape", "..", ".hidden", "..\\\\outside"]
    for (const name of paths) {
      expect(await errorOf(c.query(`LOAD EXTENSION '${name}'`)), name).toEqual({ errno: 1124, sqlState: "HY000", message: "No paths allowed for shared library" })
    }
    expect(await errorOf(c.query("LOAD EXTENSION 'nope'"))).toMatchObject({ errno: 1126, sqlState: "HY000", message: expect.stringContaining("Can't open shared library 'nope'") })
    expect(await errorOf(c.query("SELECT outside_ext(1)"))).toMatchObject({ errno: 1305 })
    await c.end()
  })

  it("a missing always_loaded extension stops the node with an error naming the key", async () => {
    const failed = await startMarmot({ config: `[extensions]\ndirectory = "${extDir}"\nalways_loaded = ["missing"]\n`, args: ["--workers", "1"] }).then(
      async (s) => {
        await s.stop()
        return "started"
      },
      (e: Error) => e.message
    )
    expect(failed).toMatch(/extensions\.always_loaded: Can't open shared library 'missing' \(not found in the extensions directory\)/)
  })
})
