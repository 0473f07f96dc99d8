/**
 * TLS on the MySQL port and caching_sha2_password full authentication, with real clients: the
 * mariadb CLI (libmariadb), node mysql2, Python pymysql and PHP mysqli. A throwaway CA and server
 * certificate are made with openssl into a temp dir.
 *
 * The main server greets with caching_sha2_password (as MySQL 8) and starts with an empty fast-auth
 * cache (`caching_sha2_preload_cache = false`, MySQL after a restart): a user's first login must be
 * full authentication, the password in clear, which is accepted only over TLS or the unix socket.
 * Each client logs in as its own user so the cache state it meets is known. One worker process, so
 * every login meets the same cache.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import net from "node:net"
import { Duplex } from "node:stream"
import tls from "node:tls"
import os from "node:os"
import path from "node:path"
import mysql from "mysql2/promise"
import type { RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { run, startMarmot, type RunningServer } from "../support/Servers.ts"

let dir: string
let server: RunningServer
let strict: RunningServer
let ca: Buffer
let socketPath: string
let strictSocket: string

const openssl = async (args: ReadonlyArray<string>) => {
  const r = await run("openssl", args, { timeoutMs: 30_000, cwd: dir })
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`)
}

const USERS = ["cli", "node", "py", "php", "sock", "bad"]

const config = (extra: string) => `[mysql]
tls_cert_file = "${path.join(dir, "server.pem")}"
tls_key_file = "${path.join(dir, "server.key")}"
${extra}
[[mysql.users]]
name = "root"
password = ""
${USERS.map((u) => `[[mysql.users]]\nname = "${u}"\npassword = "pw-${u}"\n`).join("")}`

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "marmot-tls-"))
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=marmot test CA"])
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])
  await run("sh", ["-c", "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf"], { timeoutMs: 5000, cwd: dir })
  await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"])
  ca = readFileSync(path.join(dir, "ca.pem"))
  socketPath = path.join(dir, "main.sock")
  strictSocket = path.join(dir, "strict.sock")
  ;[server, strict] = await Promise.all([
    startMarmot({
      config: config(`default_authentication_plugin = "caching_sha2_password"\ncaching_sha2_preload_cache = false\nunix_socket = "${socketPath}"`),
      args: ["--workers", "1"]
    }),
    startMarmot({ config: config(`require_secure_transport = true\nunix_socket = "${strictSocket}"`), args: ["--workers", "1"] })
  ])
}, 120_000)

afterAll(async () => {
  await Promise.all([server?.stop(), strict?.stop()])
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

const caFile = () => path.join(dir, "ca.pem")

const mariadb = (port: number, user: string, tls: boolean, sql: string, extra: ReadonlyArray<string> = []) =>
  run("mariadb", [
    "--no-defaults", "-h127.0.0.1", `-P${port}`, `-u${user}`, ...(user === "root" ? [] : [`-ppw-${user}`]),
    ...(tls ? ["--ssl", `--ssl-ca=${caFile()}`, "--ssl-verify-server-cert"] : ["--skip-ssl"]),
    "--connect-timeout=10", "-N", "-B", ...extra, "-e", sql
  ], { timeoutMs: 20_000 })

const py = (port: number, user: string, tls: boolean) =>
  run("/usr/bin/python3", ["-c", `
import json, sys, pymysql
try:
    c = pymysql.connect(host="127.0.0.1", port=${port}, user="${user}", password="pw-${user}",
                        ${tls ? `ssl_ca=${JSON.stringify(caFile())}, ssl_verify_cert=True, ` : ""}connect_timeout=10)
    cur = c.cursor()
    cur.execute("SHOW STATUS LIKE 'Ssl_version'")
    v = cur.fetchone()[1]
    cur.execute("SELECT CURRENT_USER()")
    print(json.dumps({"user": cur.fetchone()[0], "ssl": v}))
except pymysql.MySQLError as e:
    print(json.dumps({"code": e.args[0], "message": str(e.args[1]) if len(e.args) > 1 else ""}))
`], { timeoutMs: 20_000 })

const php = (port: number, user: string, tls: boolean) =>
  run("php", ["-r", `
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
try {
  $m = mysqli_init();
  ${tls ? `$m->ssl_set(null, null, ${JSON.stringify(caFile())}, null, null);\n  $m->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);` : ""}
  $m->real_connect('127.0.0.1', '${user}', 'pw-${user}', null, ${port}, null, ${tls ? "MYSQLI_CLIENT_SSL" : "0"});
  $v = $m->query("SHOW STATUS LIKE 'Ssl_version'")->fetch_row()[1];
  $u = $m->query("SELECT CURRENT_USER()")->fetch_row()[0];
  echo json_encode(['user' => $u, 'ssl' => $v]);
} catch (mysqli_sql_exception $e) {
  echo json_encode(['code' => $e->getCode(), 'message' => $e->getMessage()]);
}
`], { timeoutMs: 20_000 })

const node = async (port: number, user: string, opts: { tls?: boolean; socketPath?: string; password?: string } = {}) => {
  try {
    const c = await mysql.createConnection({
      ...(opts.socketPath === undefined ? { host: "127.0.0.1", port } : { socketPath: opts.socketPath }),
      user,
      password: opts.password ?? `pw-${user}`,
      ...(opts.tls === true ? { ssl: { ca, rejectUnauthorized: true } } : {})
    })
    const [status] = await c.query<RowDataPacket[]>("SHOW STATUS LIKE 'Ssl_cipher'")
    const [who] = await c.query<RowDataPacket[]>("SELECT CURRENT_USER() AS u")
    await c.end()
    return { user: who[0]!["u"] as string, cipher: status[0]!["Value"] as string }
  } catch (e) {
    const err = e as { errno?: number; sqlState?: string; message: string }
    return { errno: err.errno, sqlState: err.sqlState, message: err.message }
  }
}

describe("TLS with caching_sha2_password full authentication", { timeout: 30_000 }, () => {
  it("mariadb CLI: verified TLS (test CA); plaintext refused until a TLS login fills the cache", async () => {
    const plain = await mariadb(server.port, "cli", false, "SELECT 1")
    expect(plain.code).toBe(1)
    // libmariadb asks for the server's RSA key, which this server does not have
    expect(plain.stderr).toMatch(/ERROR (2061|1045)/)
    const tls = await mariadb(server.port, "cli", true, "SELECT CURRENT_USER(); SHOW STATUS LIKE 'Ssl_version'; \\s")
    expect(tls.stderr).toBe("")
    expect(tls.code).toBe(0)
    expect(tls.stdout).toMatch(/^cli@%\nSsl_version\tTLSv1\.[23]\n/)
    expect(tls.stdout).toMatch(/SSL:\s+Cipher in use is \S+/)
    // the full authentication put the user in the fast-auth cache: the scramble suffices now
    const again = await mariadb(server.port, "cli", false, "SELECT CURRENT_USER()")
    expect(again).toMatchObject({ code: 0, stdout: "cli@%\n", stderr: "" })
  })

  it("mariadb CLI: a wrong password over TLS is 1045; a client that skips verification still gets TLS", async () => {
    const wrong = await run("mariadb", ["--no-defaults", "-h127.0.0.1", `-P${server.port}`, "-ubad", "-pnope", "--ssl", "--connect-timeout=10", "-e", "SELECT 1"], { timeoutMs: 20_000 })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain("ERROR 1045 (28000): Access denied for user 'bad'@'127.0.0.1' (using password: YES)")
    const unverified = await mariadb(server.port, "root", false, "SHOW STATUS LIKE 'Ssl_cipher'", [])
    expect(unverified.stdout).toBe("Ssl_cipher\t\n")
    const noVerify = await run("mariadb", ["--no-defaults", "-h127.0.0.1", `-P${server.port}`, "-uroot", "--ssl", "--skip-ssl-verify-server-cert", "-N", "-B", "-e", "SHOW STATUS LIKE 'Ssl_cipher'"], { timeoutMs: 20_000 })
    expect(noVerify.stderr).toBe("")
    expect(noVerify.stdout).toMatch(/^Ssl_cipher\t\S+\n$/)
  })

  it("mysql2: refused over plaintext (1045), full authentication over verified TLS, then the fast path", async () => {
    expect(await node(server.port, "node")).toMatchObject({ errno: 1045, sqlState: "28000" })
    const tls = await node(server.port, "node", { tls: true })
    expect(tls).toMatchObject({ user: "node@%" })
    expect((tls as { cipher: string }).cipher).not.toBe("")
    expect(await node(server.port, "node")).toEqual({ user: "node@%", cipher: "" })
    expect(await node(server.port, "node", { tls: true, password: "wrong" })).toMatchObject({ errno: 1045, sqlState: "28000" })
  })

  it("mysql2: the unix socket is secure enough for full authentication", async () => {
    expect(await node(0, "sock", { socketPath })).toEqual({ user: "sock@%", cipher: "" })
  })

  it("pymysql: plaintext refused, ssl_ca + ssl_verify_cert logs in with TLS", async () => {
    const plain = JSON.parse((await py(server.port, "py", false)).stdout)
    expect(plain.code).toBe(1045)
    const tls = await py(server.port, "py", true)
    expect(tls.stderr).toBe("")
    expect(JSON.parse(tls.stdout)).toMatchObject({ user: "py@%", ssl: expect.stringMatching(/^TLSv1\.[23]$/) })
  })

  it("PHP mysqli: MYSQLI_CLIENT_SSL with the test CA", async () => {
    const plain = JSON.parse((await php(server.port, "php", false)).stdout)
    expect(plain.code).not.toBe(0)
    expect(plain.user).toBeUndefined()
    const tls = await php(server.port, "php", true)
    expect(tls.stderr).toBe("")
    expect(JSON.parse(tls.stdout)).toEqual({ user: "php@%", ssl: expect.stringMatching(/^TLSv1\.[23]$/) })
  })
})

/** One framed packet. */
const frame = (seq: number, payload: Buffer) => {
  const h = Buffer.alloc(4)
  h.writeUIntLE(payload.length, 0, 3)
  h[3] = seq
  return Buffer.concat([h, payload])
}

describe("the TLS upgrade at the byte level", { timeout: 30_000 }, () => {
  it("accepts a ClientHello that arrives in the same write as the SSLRequest", async () => {
    const PROTOCOL_41 = 0x200, SSL = 0x800, SECURE = 0x8000, PLUGIN_AUTH = 0x80000
    const caps = PROTOCOL_41 | SSL | SECURE | PLUGIN_AUTH
    const fixed = Buffer.alloc(32)
    fixed.writeUInt32LE(caps, 0)
    fixed.writeUInt32LE(1 << 24, 4)
    fixed[8] = 45
    const raw = net.connect({ host: "127.0.0.1", port: server.port })
    const greeting = await new Promise<Buffer>((resolve) => raw.once("data", resolve))
    expect(greeting[4]).toBe(10)
    expect(greeting.readUInt16LE(greeting.indexOf(0, 5) + 14) & SSL).toBe(SSL)
    // the TLS client writes into `wire`; its first write (the ClientHello) goes out glued to the SSLRequest
    let first = true
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        raw.write(first ? Buffer.concat([frame(1, fixed), chunk]) : chunk, () => cb())
        first = false
      }
    })
    raw.on("data", (d: Buffer) => wire.push(d))
    raw.on("end", () => wire.push(null))
    const secure = tls.connect({ socket: wire, ca, checkServerIdentity: () => undefined })
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve)
      secure.once("error", reject)
    })
    const replies: Array<Buffer> = []
    secure.on("data", (d: Buffer) => replies.push(d))
    const next = async () => {
      while (replies.length === 0) await new Promise((r) => setTimeout(r, 10))
      return replies.shift()!
    }
    // HandshakeResponse41 over TLS: root, empty mysql_native_password response
    secure.write(frame(2, Buffer.concat([fixed, Buffer.from("root\0"), Buffer.from([0]), Buffer.from("mysql_native_password\0")])))
    const ok = await next()
    expect(ok[3]).toBe(3)
    expect(ok[4]).toBe(0x00)
    secure.write(frame(0, Buffer.concat([Buffer.from([0x03]), Buffer.from("SHOW STATUS LIKE 'Ssl_version'")])))
    const rows = await next()
    expect(rows.toString("latin1")).toMatch(/TLSv1\.[23]/)
    secure.destroy()
    raw.destroy()
  })
})

describe("require_secure_transport = true", { timeout: 30_000 }, () => {
  it("refuses a plaintext TCP login with 3159", async () => {
    const r = await mariadb(strict.port, "root", false, "SELECT 1")
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("ERROR 3159 (HY000): Connections using insecure transport are prohibited while --require_secure_transport=ON.")
    expect(await node(strict.port, "node")).toMatchObject({ errno: 3159, sqlState: "HY000" })
  })

  it("accepts TLS and the unix socket", async () => {
    expect(await mariadb(strict.port, "cli", true, "SELECT CURRENT_USER()")).toMatchObject({ code: 0, stdout: "cli@%\n", stderr: "" })
    expect(await node(strict.port, "node", { tls: true })).toMatchObject({ user: "node@%" })
    expect(await node(0, "sock", { socketPath: strictSocket })).toEqual({ user: "sock@%", cipher: "" })
  })
})
