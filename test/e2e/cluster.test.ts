/**
 * Three real nodes on loopback (node 0 runs two MySQL workers behind its supervisor, the others
 * one process each): writes on any node reach the others, conflicting transactions give 1213,
 * concurrent read-modify-write increments from every node lose nothing, a peer without the
 * cluster secret is refused, and QUORUM writes go on after kill -9 of one node, which catches up
 * when it comes back.
 */
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ClusterNode, clusterConfig, connectTo, startCluster, until } from "../support/Cluster.ts"
import { freePort, type RunningServer, startMarmot } from "../support/Servers.ts"

let nodes: Array<ClusterNode> = []
const extra: Array<RunningServer> = []
const conns: Array<Connection> = []

const connect = async (i: number, database?: string) => {
  const c = await connectTo(nodes[i]!, database)
  conns.push(c)
  return c
}

const rowsOf = async (c: Connection, sql: string) => {
  const [rows] = await c.query<Array<RowDataPacket>>(sql)
  return rows
}

beforeAll(async () => {
  nodes = await startCluster({ size: 3 })
  // Everyone sees everyone before the tests start: a write on a lone node would not reach a quorum.
  const c = await connect(0)
  const ok = await until(async () => {
    try {
      await c.query("CREATE DATABASE IF NOT EXISTS warmup")
      return true
    } catch {
      return false
    }
  }, 60_000, 250)
  if (!ok) throw new Error("the cluster did not form")
}, 180_000)

afterAll(async () => {
  for (const c of conns) c.destroy()
  await Promise.all([...nodes.map((n) => n.server.stop()), ...extra.map((s) => s.stop())])
})

describe("a 3-node cluster on loopback", { timeout: 120_000 }, () => {
  it("DDL and DML on each node reach the other two", async () => {
    const c0 = await connect(0)
    await c0.query("CREATE DATABASE shop")
    await c0.query("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INT NOT NULL DEFAULT 0)")
    for (const i of [0, 1, 2]) {
      expect(await until(async () => (await rowsOf(await connect(i, "shop"), "SHOW TABLES")).length === 1, 10_000)).toBe(true)
    }
    for (const i of [0, 1, 2]) {
      const c = await connect(i, "shop")
      await c.query("INSERT INTO items (id, name, qty) VALUES (?, ?, ?)", [i + 1, `from node ${i + 1}`, 10 * (i + 1)])
    }
    const c1 = await connect(1, "shop")
    await c1.query("UPDATE items SET qty = qty + 5 WHERE id = 1")
    const c2 = await connect(2, "shop")
    await c2.query("DELETE FROM items WHERE id = 2")
    const expected = [
      { id: 1, name: "from node 1", qty: 15 },
      { id: 3, name: "from node 3", qty: 30 }
    ]
    for (const i of [0, 1, 2]) {
      const c = await connect(i, "shop")
      const same = await until(async () => JSON.stringify(await rowsOf(c, "SELECT id, name, qty FROM items ORDER BY id")) === JSON.stringify(expected), 10_000)
      expect(same, `node ${i + 1}: ${JSON.stringify(await rowsOf(c, "SELECT * FROM items ORDER BY id"))}`).toBe(true)
    }
    // The writer's own node shows its write as soon as the statement returns.
    await c2.query("INSERT INTO items (id, name) VALUES (4, 'read your writes')")
    expect(await rowsOf(c2, "SELECT name FROM items WHERE id = 4")).toEqual([{ name: "read your writes" }])
  })

  it("generated ids from every node never collide, and ALTER TABLE MODIFY (a table rebuild) replicates", async () => {
    const c0 = await connect(0)
    await c0.query("CREATE DATABASE ids")
    await c0.query("CREATE TABLE ids.t (id INT AUTO_INCREMENT PRIMARY KEY, who VARCHAR(10) NOT NULL)")
    for (const i of [1, 2]) {
      expect(await until(async () => (await rowsOf(await connect(i, "ids"), "SHOW TABLES")).length === 1, 10_000)).toBe(true)
    }
    const inserts = [0, 1, 2].map(async (i) => {
      const c = await connect(i, "ids")
      const got: Array<string> = []
      for (let k = 0; k < 10; k++) {
        const [r] = await c.query<ResultSetHeader>("INSERT INTO t (who) VALUES (?)", [`node${i + 1}`])
        got.push(String(r.insertId))
      }
      return got
    })
    const ids = (await Promise.all(inserts)).flat()
    expect(new Set(ids).size).toBe(30)
    await c0.query("ALTER TABLE ids.t MODIFY who VARCHAR(40) NOT NULL DEFAULT 'nobody'")
    const c2 = await connect(2, "ids")
    const altered = await until(async () => String((await rowsOf(c2, "SHOW CREATE TABLE t"))[0]!["Create Table"]).includes("varchar(40)"), 10_000)
    expect(altered, String((await rowsOf(c2, "SHOW CREATE TABLE t"))[0]!["Create Table"])).toBe(true)
    expect(await until(async () => Number((await rowsOf(c2, "SELECT count(*) AS n FROM t"))[0]!["n"]) === 30, 10_000)).toBe(true)
    await c2.query("INSERT INTO t (id) VALUES (NULL)")
    const c1 = await connect(1, "ids")
    expect(await until(async () => (await rowsOf(c1, "SELECT who FROM t WHERE who = 'nobody'")).length === 1, 10_000)).toBe(true)
  })

  it("two transactions on different nodes writing the same row: one commits, the other gets 1213", async () => {
    const setup = await connect(0)
    await setup.query("CREATE DATABASE bank")
    await setup.query("CREATE TABLE bank.acct (id INT PRIMARY KEY, balance INT NOT NULL)")
    await setup.query("INSERT INTO bank.acct VALUES (1, 100)")
    const a = await connect(1, "bank")
    const b = await connect(2, "bank")
    expect(await until(async () => (await rowsOf(a, "SELECT * FROM acct")).length === 1 && (await rowsOf(b, "SELECT * FROM acct")).length === 1, 10_000)).toBe(true)
    await a.query("BEGIN")
    await b.query("BEGIN")
    await a.query("UPDATE acct SET balance = balance - 30 WHERE id = 1")
    await b.query("UPDATE acct SET balance = balance - 50 WHERE id = 1")
    const results = await Promise.allSettled([a.query("COMMIT"), b.query("COMMIT")])
    const failed = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as { errno?: number })
    expect(failed.length, "at most one of two writers of one row commits").toBeGreaterThanOrEqual(1)
    for (const f of failed) expect(f.errno).toBe(1213)
    const committed = results.length - failed.length
    const final = committed === 0 ? 100 : results[0]!.status === "fulfilled" ? 70 : 50
    for (const i of [0, 1, 2]) {
      const c = await connect(i, "bank")
      expect(await until(async () => Number((await rowsOf(c, "SELECT balance FROM acct WHERE id = 1"))[0]?.["balance"]) === final, 10_000)).toBe(true)
    }
  })

  it("read-modify-write increments from clients on every node: the final value equals the acknowledged increments", async () => {
    const setup = await connect(0)
    await setup.query("CREATE DATABASE ctr")
    await setup.query("CREATE TABLE ctr.c (id INT PRIMARY KEY, v BIGINT NOT NULL)")
    await setup.query("INSERT INTO ctr.c VALUES (1, 0)")
    for (const i of [0, 1, 2]) {
      const c = await connect(i, "ctr")
      expect(await until(async () => (await rowsOf(c, "SELECT v FROM c")).length === 1, 10_000)).toBe(true)
    }
    let acknowledged = 0
    let conflicts = 0
    const perClient = 8
    const client = async (node: number, style: "autocommit" | "transaction") => {
      const c = await connect(node, "ctr")
      for (let k = 0; k < perClient; k++) {
        for (;;) {
          try {
            if (style === "autocommit") {
              const [r] = await c.query<ResultSetHeader>("UPDATE c SET v = v + 1 WHERE id = 1")
              expect(r.affectedRows).toBe(1)
            } else {
              // The client computes the new value from what it read (FOR UPDATE, as MySQL requires for
              // read-modify-write): only the stale-read check keeps this safe across nodes.
              await c.query("BEGIN")
              const v = BigInt((await rowsOf(c, "SELECT v FROM c WHERE id = 1 FOR UPDATE"))[0]!["v"] as string)
              await c.query("UPDATE c SET v = ? WHERE id = 1", [String(v + 1n)])
              await c.query("COMMIT")
            }
            acknowledged++
            break
          } catch (e) {
            if ((e as { errno?: number }).errno !== 1213) throw e
            conflicts++
            await c.query("ROLLBACK").catch(() => {})
          }
        }
      }
    }
    await Promise.all([
      client(0, "autocommit"),
      client(1, "autocommit"),
      client(2, "autocommit"),
      client(0, "transaction"),
      client(1, "transaction"),
      client(2, "transaction")
    ])
    expect(acknowledged).toBe(6 * perClient)
    for (const i of [0, 1, 2]) {
      const c = await connect(i, "ctr")
      const ok = await until(async () => String((await rowsOf(c, "SELECT v FROM c WHERE id = 1"))[0]?.["v"]) === String(acknowledged), 10_000)
      expect(ok, `node ${i + 1} holds ${JSON.stringify(await rowsOf(c, "SELECT v FROM c"))}, ${acknowledged} acknowledged, ${conflicts} conflicts retried`).toBe(true)
    }
  })

  it("a node without the cluster secret is refused and the refusal is logged", async () => {
    const peerPort = await freePort()
    const intruder = await startMarmot({
      config: clusterConfig(peerPort, nodes[0]!.peerPort, "not-the-secret"),
      args: ["--node-id", "9", "--workers", "1"],
      readyTimeoutMs: 120_000
    })
    extra.push(intruder)
    const seen = await until(async () => nodes[0]!.server.output().includes("peer request refused: invalid cluster secret"), 15_000)
    expect(seen).toBe(true)
    expect(nodes[0]!.server.output()).not.toContain("not-the-secret")
    const c = await connect(0)
    const members = await until(async () => !nodes[0]!.server.output().includes("member 9"), 1000)
    expect(members, "node 9 never became a member").toBe(true)
    await c.query("SELECT 1")
    await intruder.stop()
  })

  it("kill -9 of one node: QUORUM writes go on on the other two, and the node catches up after a restart", async () => {
    const setup = await connect(0)
    await setup.query("CREATE DATABASE crash")
    await setup.query("CREATE TABLE crash.t (id INT PRIMARY KEY, v VARCHAR(20))")
    const victim = nodes[2]!
    const v = await connect(2)
    expect(await until(async () => (await rowsOf(v, "SHOW DATABASES LIKE 'crash'")).length === 1, 10_000)).toBe(true)
    victim.server.kill("SIGKILL")
    expect(await until(async () => !victim.server.alive(), 5000)).toBe(true)
    const c0 = await connect(0, "crash")
    const c1 = await connect(1, "crash")
    for (let k = 1; k <= 10; k++) await (k % 2 === 0 ? c0 : c1).query("INSERT INTO t VALUES (?, ?)", [k, `row ${k}`])
    expect(Number((await rowsOf(c1, "SELECT count(*) AS n FROM t"))[0]!["n"])).toBe(10)

    const dataDir = victim.server.dataDir
    const restarted = await startMarmot({
      dataDir,
      config: clusterConfig(victim.peerPort, nodes[0]!.peerPort, "e2e-cluster-secret"),
      args: ["--node-id", "3", "--workers", "1"],
      readyTimeoutMs: 120_000
    })
    extra.push(restarted)
    nodes[2] = { ...victim, server: restarted }
    const c2 = await connect(2, "crash")
    expect(await until(async () => Number((await rowsOf(c2, "SELECT count(*) AS n FROM t"))[0]!["n"]) === 10, 30_000)).toBe(true)
  })

  it("with two of three nodes down, QUORUM writes are refused with a clear error and SET marmot_write_consistency = 'ONE' writes", async () => {
    const c = await connect(0, "crash")
    expect((await rowsOf(c, "SELECT @@marmot_write_consistency AS level"))[0]!["level"]).toBe("QUORUM")
    await expect(c.query("SET marmot_write_consistency = 'TWO'")).rejects.toMatchObject({ errno: 1231 })
    nodes[1]!.server.kill("SIGKILL")
    nodes[2]!.server.kill("SIGKILL")
    expect(await until(async () => !nodes[1]!.server.alive() && !nodes[2]!.server.alive(), 5000)).toBe(true)
    const refused = await c.query("INSERT INTO t VALUES (100, 'quorum')").then(() => undefined, (e: { errno?: number; message?: string }) => e)
    expect(refused?.errno).toBe(1105)
    expect(refused?.message).toMatch(/quorum not achieved: 1 of 3 nodes prepared, QUORUM needs 2; nothing was written/)
    expect(await rowsOf(c, "SELECT * FROM t WHERE id = 100")).toEqual([])
    await c.query("SET marmot_write_consistency = 'one'")
    expect((await rowsOf(c, "SELECT @@marmot_write_consistency AS level"))[0]!["level"]).toBe("ONE")
    await c.query("INSERT INTO t VALUES (101, 'one')")
    expect(await rowsOf(c, "SELECT v FROM t WHERE id = 101")).toEqual([{ v: "one" }])
    // SET GLOBAL holds for new sessions on every MySQL worker of the node (node 0 runs two)
    await c.query("SET GLOBAL marmot_write_consistency = 'ONE'")
    for (let i = 0; i < 4; i++) {
      const fresh = await connect(0, "crash")
      expect((await rowsOf(fresh, "SELECT @@marmot_write_consistency AS level"))[0]!["level"]).toBe("ONE")
      await fresh.query(`INSERT INTO t VALUES (${110 + i}, 'global one')`)
      await fresh.end()
    }
    await c.query("SET GLOBAL marmot_write_consistency = DEFAULT")
    const back = await connect(0, "crash")
    expect((await rowsOf(back, "SELECT @@marmot_write_consistency AS level"))[0]!["level"]).toBe("QUORUM")
    await expect(back.query("INSERT INTO t VALUES (120, 'quorum again')")).rejects.toMatchObject({ errno: 1105 })
    await back.end()
  })
})
