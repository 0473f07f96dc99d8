/**
 * Hostile bytes on raw TCP sockets: garbage and truncated handshake responses before login, then (after
 * a hand-made mysql_native_password login) malformed commands: COM_STMT_EXECUTE for a statement that
 * does not exist or with a broken parameter block, COM_QUERY with invalid UTF-8, a packet announcing
 * 10 MB and closing early, and a few thousand seeded random packets. Every connection must end in an ERR
 * packet or a close (never a hang, never a half-written packet), a connection that survives must keep
 * working, and afterwards the server must still answer `SELECT 1` through mysql2.
 */
import mysql from "mysql2/promise"
import type { RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  COM,
  describePacket,
  frame,
  handshakeResponse,
  parseErr,
  prng,
  RawConn,
  readLenenc,
  type Packet
} from "../support/RawMysql.ts"
import { APP_USER, startTarget, type RunningServer } from "../support/Servers.ts"

const SEED = 0x6d61726d // "marm"
const RANDOM_AFTER_LOGIN = 2000
const RANDOM_BEFORE_LOGIN = 600
const PREPARED_FUZZ = 400
const CONCURRENCY = 12
const DB = "robust"

let server: RunningServer

beforeAll(async () => {
  server = await startTarget()
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", password: "" })
  try {
    await c.query(`CREATE DATABASE ${DB}`)
    // `keep` is only read by the fuzzers (a mutation of the name "fuzz" cannot reach it in 3 bytes)
    await c.query(`CREATE TABLE ${DB}.keep (id INT NOT NULL PRIMARY KEY, v VARCHAR(20))`)
    await c.query(`INSERT INTO ${DB}.keep VALUES (1, 'one'), (2, 'two')`)
    await c.query(`CREATE TABLE ${DB}.fuzz (id INT NOT NULL PRIMARY KEY, v VARCHAR(20))`)
  } finally {
    c.destroy()
  }
}, 120_000)

afterAll(async () => {
  await server?.stop()
})

const open = () => RawConn.connect(server.host, server.port)

/**
 * Run `fn` over `items` with at most `n` at a time; collect failure messages instead of throwing.
 * Stops taking new items after 20 failures, so a broken server fails fast instead of timing out.
 */
async function pool<T>(items: ReadonlyArray<T>, n: number, fn: (item: T, i: number) => Promise<void>): Promise<Array<string>> {
  const failures: Array<string> = []
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= items.length || failures.length >= 20) return
      try {
        await fn(items[i]!, i)
      } catch (e) {
        failures.push(`#${i}: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: n }, worker))
  return failures
}

const hex = (b: Buffer, n = 48) => b.subarray(0, n).toString("hex") + (b.length > n ? `…(${b.length} bytes)` : "")

function assertWellFramed(c: RawConn, what: string) {
  if (c.trailingBytes() !== 0) throw new Error(`${what}: server sent an incomplete packet (${c.trailingBytes()} stray bytes)`)
}

/**
 * After something hostile before login: wait for the server's verdict. A close is fine; an ERR must be
 * followed by a close; anything else (OK, an auth switch) gets a half-close from us and must then close.
 */
async function expectPreauthVerdict(c: RawConn, what: string): Promise<"close" | "err" | "other"> {
  let first: Packet | undefined
  try {
    first = await c.next(5000)
  } catch (e) {
    if (c.isClosed()) {
      assertWellFramed(c, what)
      return "close"
    }
    throw new Error(`${what}: neither an answer nor a close within 5 s (${String(e)})`)
  }
  if (first.payload[0] === 0xff) {
    if (!(await c.waitClose(5000))) throw new Error(`${what}: ERR (${describePacket(first.payload)}) but the connection stayed open`)
    assertWellFramed(c, what)
    return "err"
  }
  c.end()
  if (!(await c.waitClose(5000))) throw new Error(`${what}: got ${describePacket(first.payload)}, then no close after our FIN`)
  assertWellFramed(c, what)
  return "other"
}

/** Send `payloads` as separate commands after login, then COM_QUIT; the server must close within 5 s. */
async function expectSurvivesThenQuits(c: RawConn, payloads: ReadonlyArray<Buffer>, what: string): Promise<void> {
  for (const p of payloads) c.send(p, 0)
  c.send(Buffer.from([COM.QUIT]), 0)
  if (!(await c.waitClose(5000))) {
    const got = c.packets().slice(-3).map((p) => describePacket(p.payload)).join(", ")
    throw new Error(`${what}: no close within 5 s of COM_QUIT (last packets: ${got})`)
  }
  assertWellFramed(c, what)
}

function comQuery(sql: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([COM.QUERY]), typeof sql === "string" ? Buffer.from(sql, "utf8") : sql])
}

function stmtExecute(id: number, tail: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(10)
  b[0] = COM.STMT_EXECUTE
  b.writeUInt32LE(id >>> 0, 1)
  b[5] = 0 // CURSOR_TYPE_NO_CURSOR
  b.writeUInt32LE(1, 6) // iteration count
  return Buffer.concat([b, tail])
}

/** COM_STMT_PREPARE and read its whole answer; returns the statement id and its parameter count. */
async function prepare(c: RawConn, sql: string): Promise<{ id: number; params: number }> {
  c.send(Buffer.concat([Buffer.from([COM.STMT_PREPARE]), Buffer.from(sql, "utf8")]), 0)
  const ok = await c.next()
  if (ok.payload[0] !== 0x00) throw new Error(`prepare ${sql}: ${describePacket(ok.payload)}`)
  const id = ok.payload.readUInt32LE(1)
  const cols = ok.payload.readUInt16LE(5)
  const params = ok.payload.readUInt16LE(7)
  const more = (params > 0 ? params + 1 : 0) + (cols > 0 ? cols + 1 : 0)
  for (let i = 0; i < more; i++) await c.next()
  return { id, params }
}

// ---------------------------------------------------------------------------------------------
describe("raw protocol client (sanity of the harness itself)", () => {
  it("logs in as root with an empty password and runs SELECT 1", async () => {
    const c = await open()
    try {
      const g = await c.login()
      expect(g.protocolVersion).toBe(10)
      expect(g.scramble.length).toBe(20)
      c.send(comQuery("SELECT 1"), 0)
      const r = await c.response()
      // column count, one column definition, EOF, one row, EOF
      expect(r.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5])
      expect(r[0]!.payload).toEqual(Buffer.from([1]))
      expect(r[3]!.payload).toEqual(Buffer.from([1, 0x31])) // lenenc "1"
      expect(r[4]!.payload[0]).toBe(0xfe)
      await expectSurvivesThenQuits(c, [], "select 1")
    } finally {
      c.destroy()
    }
  })

  it("logs in with a password (native scramble) and gets ERR 1045 for a wrong one", async () => {
    const ok = await open()
    try {
      await ok.login(APP_USER.user, APP_USER.password, DB)
      ok.send(Buffer.from([COM.PING]), 0)
      const p = await ok.next()
      expect(describePacket(p.payload)).toBe("OK")
    } finally {
      ok.destroy()
    }
    const bad = await open()
    try {
      await expect(bad.login(APP_USER.user, "wrong")).rejects.toThrow(/^login failed: ERR 1045 \(28000\)/)
      expect(await bad.waitClose(5000)).toBe(true)
    } finally {
      bad.destroy()
    }
  })
})

// ---------------------------------------------------------------------------------------------
describe("before login", () => {
  it("garbage instead of the handshake response gets ERR or a close", async () => {
    const rnd = prng(SEED)
    const cases: Array<[string, Buffer]> = [
      ["empty packet", frame(Buffer.alloc(0), 1)],
      ["one byte", frame(Buffer.from([0x01]), 1)],
      ["32 zero bytes", frame(Buffer.alloc(32), 1)],
      ["32 0xff bytes", frame(Buffer.alloc(32, 0xff), 1)],
      ["1000 random bytes", frame(rnd.bytes(1000), 1)],
      ["wrong sequence id", frame(handshakeResponse({ user: "root", authResponse: Buffer.alloc(0) }), 7)],
      ["COM_QUERY before login", frame(comQuery("SELECT 1"), 0)],
      ["user name without NUL", frame(Buffer.concat([Buffer.alloc(32), Buffer.from("root")]), 1)]
    ]
    const failures = await pool(cases, 4, async ([what, bytes]) => {
      const c = await open()
      try {
        await c.greeting()
        c.sendRaw(bytes)
        const v = await expectPreauthVerdict(c, what)
        if (v === "other") throw new Error(`${what}: accepted (${describePacket(c.packets()[1]!.payload)})`)
      } finally {
        c.destroy()
      }
    })
    expect(failures).toEqual([])
  })

  it("an HTTP request (unframed bytes) followed by our close gets a close", async () => {
    const c = await open()
    try {
      await c.greeting()
      c.sendRaw(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
      c.end()
      expect(await c.waitClose(5000)).toBe(true)
      assertWellFramed(c, "http")
    } finally {
      c.destroy()
    }
  })

  it("every truncation of a valid handshake response gets ERR or a close (or logs in and works)", async () => {
    const full = handshakeResponse({ user: "root", authResponse: Buffer.alloc(0), database: DB })
    const cuts = Array.from({ length: full.length }, (_, k) => k)
    const seen: Record<string, number> = {}
    const failures = await pool(cuts, CONCURRENCY, async (k) => {
      const c = await open()
      try {
        await c.greeting()
        c.send(full.subarray(0, k), 1)
        let first: Packet | undefined
        try {
          first = await c.next(5000)
        } catch {
          if (!c.isClosed()) throw new Error(`cut at ${k}: neither an answer nor a close within 5 s`)
        }
        if (first === undefined) {
          seen["close"] = (seen["close"] ?? 0) + 1
        } else if (first.payload[0] === 0xff) {
          seen["err"] = (seen["err"] ?? 0) + 1
          if (!(await c.waitClose(5000))) throw new Error(`cut at ${k}: ERR but no close`)
        } else if (first.payload[0] === 0x00) {
          // a prefix that is itself a valid response (fields after the user name are optional)
          seen["ok"] = (seen["ok"] ?? 0) + 1
          c.send(Buffer.from([COM.PING]), 0)
          const p = await c.next()
          if (p.payload[0] !== 0x00) throw new Error(`cut at ${k}: logged in but PING got ${describePacket(p.payload)}`)
          await expectSurvivesThenQuits(c, [], `cut at ${k}`)
        } else {
          seen["other"] = (seen["other"] ?? 0) + 1
          c.end()
          if (!(await c.waitClose(5000))) throw new Error(`cut at ${k}: ${describePacket(first.payload)} then no close`)
        }
        assertWellFramed(c, `cut at ${k}`)
      } finally {
        c.destroy()
      }
    })
    expect(failures).toEqual([])
    // the cuts inside the fixed 32-byte header can never be a valid login
    expect((seen["err"] ?? 0) + (seen["close"] ?? 0)).toBeGreaterThanOrEqual(32)
  })

  it("a handshake response announcing 10 MB, then our close: the server closes", async () => {
    const c = await open()
    try {
      await c.greeting()
      const head = Buffer.alloc(4)
      head.writeUIntLE(10 * 1024 * 1024, 0, 3)
      head[3] = 1
      c.sendRaw(Buffer.concat([head, handshakeResponse({ user: "root", authResponse: Buffer.alloc(0) })]))
      c.end()
      expect(await c.waitClose(5000)).toBe(true)
      assertWellFramed(c, "10MB handshake")
    } finally {
      c.destroy()
    }
  })

  it(`${RANDOM_BEFORE_LOGIN} seeded random pre-login packets: each gets ERR or a close`, async () => {
    const rnd = prng(SEED + 1)
    const valid = handshakeResponse({ user: "root", authResponse: Buffer.alloc(0), database: DB })
    const cases = Array.from({ length: RANDOM_BEFORE_LOGIN }, () => {
      const kind = rnd.int(3)
      if (kind === 0) return { kind: "framed", bytes: frame(rnd.bytes(rnd.int(300)), rnd.int(4)), close: false }
      if (kind === 1) {
        const m = Buffer.from(valid)
        for (let j = 0, n = 1 + rnd.int(4); j < n; j++) m[rnd.int(m.length)] = rnd.int(256)
        return { kind: "mutated", bytes: frame(m, 1), close: false }
      }
      return { kind: "unframed", bytes: rnd.bytes(1 + rnd.int(64)), close: true }
    })
    const failures = await pool(cases, CONCURRENCY, async (cs, i) => {
      const c = await open()
      try {
        await c.greeting()
        c.sendRaw(cs.bytes)
        if (cs.close) c.end()
        await expectPreauthVerdict(c, `${cs.kind} #${i} ${hex(cs.bytes)}`)
      } finally {
        c.destroy()
      }
    })
    expect(failures.slice(0, 20)).toEqual([])
  }, 60_000)
})

// ---------------------------------------------------------------------------------------------
describe("after login", () => {
  it("COM_STMT_EXECUTE with a bogus statement id gets ERR 1243, and the connection keeps working", async () => {
    const c = await open()
    try {
      await c.login("root", "", DB)
      for (const id of [0, 1, 12345, 0xffffffff]) {
        c.send(stmtExecute(id), 0)
        const r = await c.next()
        const e = parseErr(r.payload)
        expect(e, `execute id ${id}: ${describePacket(r.payload)}`).toBeDefined()
        expect(e!.code).toBe(1243)
        expect(e!.sqlState).toBe("HY000")
      }
      c.send(comQuery("SELECT v FROM keep WHERE id = 2"), 0)
      const rs = await c.response()
      expect(rs[3]!.payload).toEqual(Buffer.from([3, ...Buffer.from("two")]))
      await expectSurvivesThenQuits(c, [], "bogus stmt id")
    } finally {
      c.destroy()
    }
  })

  it("COM_QUERY with invalid UTF-8 gets ERR or a result, and the connection keeps working", async () => {
    const bad = [
      Buffer.concat([Buffer.from("SELECT '"), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from("'")]),
      Buffer.concat([Buffer.from("SELECT "), Buffer.from([0xc3, 0x28, 0xa0, 0xa1])]),
      Buffer.concat([Buffer.from("INSERT INTO fuzz VALUES (9, '"), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from("')")]),
      Buffer.concat([Buffer.from("SELECT * FROM `"), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from("`")]),
      Buffer.from([0x80, 0x81, 0x82])
    ]
    const c = await open()
    try {
      await c.login("root", "", DB)
      for (const sql of bad) {
        c.send(comQuery(sql), 0)
        const r = await c.response()
        expect(r.length).toBeGreaterThan(0)
        c.send(Buffer.from([COM.PING]), 0)
        const p = await c.next()
        expect(describePacket(p.payload), `PING after ${hex(sql)}`).toBe("OK")
      }
      await expectSurvivesThenQuits(c, [], "invalid utf-8")
    } finally {
      c.destroy()
    }
  })

  it("a command announcing 10 MB that closes early: the server closes its side", async () => {
    for (const how of ["fin", "rst"] as const) {
      const c = await open()
      try {
        await c.login("root", "", DB)
        const head = Buffer.alloc(4)
        head.writeUIntLE(10 * 1024 * 1024, 0, 3)
        c.sendRaw(Buffer.concat([head, comQuery("SELECT '" + "x".repeat(100_000))]))
        if (how === "fin") {
          c.end()
          expect(await c.waitClose(5000)).toBe(true)
          assertWellFramed(c, "10MB early close")
        } else {
          await new Promise((r) => setTimeout(r, 200))
          c.destroy()
        }
      } finally {
        c.destroy()
      }
    }
  })

  it(`${PREPARED_FUZZ} malformed COM_STMT_EXECUTE bodies for a real statement: ERR or a result, then COM_QUIT works`, async () => {
    const rnd = prng(SEED + 2)
    const tails = Array.from({ length: PREPARED_FUZZ }, () => {
      const kind = rnd.int(4)
      if (kind === 0) return rnd.bytes(rnd.int(40)) // anything
      if (kind === 1) return Buffer.from([0, 1, rnd.int(256), rnd.int(256)]) // bitmap + new-params-bound + 1 broken type
      if (kind === 2) {
        // plausible types, values cut short or lengths pointing past the end
        const t = [0x00, 0x01, 0xfd, 0x00, 0x08, 0x00]
        return Buffer.concat([Buffer.from(t), Buffer.from([0xfc, 0xff, 0xff]), rnd.bytes(rnd.int(8))])
      }
      return Buffer.from([0x00, 0x01, 0xfe, 0x00, 0xfe, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
    })
    const failures = await pool(tails, CONCURRENCY, async (tail) => {
      const c = await open()
      try {
        await c.login("root", "", DB)
        const st = await prepare(c, "SELECT id, v FROM keep WHERE id = ? OR v = ?")
        if (st.params !== 2) throw new Error(`expected 2 parameters, got ${st.params}`)
        c.send(stmtExecute(st.id, tail), 0)
        const r = await c.next()
        if (r.payload[0] !== 0xff && readLenenc(r.payload, 0) === undefined) {
          throw new Error(`tail ${hex(tail)}: unexpected ${describePacket(r.payload)}`)
        }
        await expectSurvivesThenQuits(c, [], `tail ${hex(tail)}`)
      } finally {
        c.destroy()
      }
    })
    expect(failures.slice(0, 20)).toEqual([])
  }, 60_000)

  it(`${RANDOM_AFTER_LOGIN} seeded random command packets: well-formed answers, and COM_QUIT still closes`, async () => {
    const rnd = prng(SEED + 3)
    // command bytes a fuzzer may use: not SHUTDOWN, PROCESS_KILL, CHANGE_USER (it starts an auth
    // exchange), the replication commands, nor CREATE_DB/DROP_DB (random names would become files)
    const excluded = new Set([0x05, 0x06, 0x08, 0x0c, 0x11, 0x12, 0x13, 0x14, 0x15, 0x1d, 0x1e])
    const commands = Array.from({ length: 0x20 }, (_, i) => i).filter((b) => !excluded.has(b))
    const sqls = [
      "SELECT 1",
      "SELECT 'abc', 1.5, NULL",
      "SELECT id, v FROM keep WHERE id = 1",
      "INSERT INTO fuzz VALUES (3, 'three')",
      "UPDATE fuzz SET v = 'x' WHERE id = 3",
      "DELETE FROM fuzz WHERE id = 3",
      "BEGIN",
      "SET autocommit = 0",
      "SHOW TABLES",
      "SELECT COUNT(*) FROM keep"
    ]
    const cases = Array.from({ length: RANDOM_AFTER_LOGIN }, () => {
      const kind = rnd.int(6)
      if (kind === 0) return Buffer.concat([Buffer.from([commands[rnd.int(commands.length)]!]), rnd.bytes(rnd.int(64))])
      if (kind === 1) return comQuery(rnd.bytes(1 + rnd.int(200)))
      if (kind === 2) {
        const s = Buffer.from(sqls[rnd.int(sqls.length)]!)
        for (let j = 0, n = 1 + rnd.int(3); j < n; j++) s[rnd.int(s.length)] = rnd.int(256)
        return comQuery(s)
      }
      if (kind === 3) return stmtExecute(rnd.int(8), rnd.bytes(rnd.int(40)))
      if (kind === 4) {
        const cmd = [COM.STMT_SEND_LONG_DATA, COM.STMT_CLOSE, COM.STMT_RESET, 0x1c /* FETCH */][rnd.int(4)]!
        return Buffer.concat([Buffer.from([cmd]), rnd.bytes(rnd.int(16))])
      }
      // unknown command bytes
      return Buffer.concat([Buffer.from([0x20 + rnd.int(0xe0)]), rnd.bytes(rnd.int(32))])
    })
    const failures = await pool(cases, CONCURRENCY, async (payload, i) => {
      const c = await open()
      try {
        await c.login("root", "", DB)
        await expectSurvivesThenQuits(c, [payload], `random #${i} ${hex(payload)}`)
      } finally {
        c.destroy()
      }
    })
    expect(failures.slice(0, 20)).toEqual([])
  }, 90_000)
})

describe("afterwards", () => {
  it("the server is alive and answers SELECT 1 through mysql2; the fuzzed table is intact", async () => {
    expect(server.alive()).toBe(true)
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", password: "", database: DB })
    try {
      const [r] = await c.query<RowDataPacket[]>("SELECT 1 AS one")
      expect(r).toEqual([{ one: 1 }])
      const [t] = await c.query<RowDataPacket[]>("SELECT id, v FROM keep ORDER BY id")
      expect(t).toEqual([
        { id: 1, v: "one" },
        { id: 2, v: "two" }
      ])
    } finally {
      c.destroy()
    }
  })
})
