/**
 * LOAD DATA LOCAL INFILE with real clients: the mariadb CLI (--local-infile=1), node mysql2
 * (infileStreamFactory) and Python pymysql (local_infile=True). MySQL's field and line rules
 * (enclosures, escapes, \N, header lines, column lists, SET), the size cap with the connection
 * still usable after it, and the refusals (server-side files, clients without LOCAL INFILE).
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import mysql from "mysql2/promise"
import type { ResultSetHeader, RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { run, startMarmot, type RunningServer } from "../support/Servers.ts"

const MAX = 256 * 1024
let server: RunningServer
let dir: string

const file = (name: string, content: string | Buffer) => {
  const p = path.join(dir, name)
  writeFileSync(p, content)
  return p
}

const cli = (sql: string, extra: ReadonlyArray<string> = ["--local-infile=1"]) =>
  run("mariadb", ["--no-defaults", "--skip-ssl", "-h127.0.0.1", `-P${server.port}`, "-uroot", "-Dld", "--connect-timeout=10", "-N", "-B", ...extra, "-e", sql], { timeoutMs: 30_000 })

const connect = () => mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root", database: "ld", multipleStatements: true })

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "marmot-ld-"))
  server = await startMarmot({ config: `[mysql]\nmax_local_infile_bytes = ${MAX}\n` })
  const r = await run("mariadb", ["--no-defaults", "--skip-ssl", "-h127.0.0.1", `-P${server.port}`, "-uroot", "-e",
    `CREATE DATABASE ld; USE ld;
     CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50), note TEXT, score DOUBLE);
     CREATE TABLE csv (id INT PRIMARY KEY, name VARCHAR(50), note TEXT, upper_name VARCHAR(50));
     CREATE TABLE node (id INT PRIMARY KEY, v TEXT);
     CREATE TABLE py (id INT PRIMARY KEY, v TEXT);
     CREATE TABLE big (id INT PRIMARY KEY, v TEXT)`], { timeoutMs: 20_000 })
  if (r.code !== 0) throw new Error(r.stderr)
}, 120_000)

afterAll(async () => {
  await server?.stop()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

describe("mariadb CLI --local-infile=1", { timeout: 30_000 }, () => {
  it("loads a tab-separated file: \\N is NULL, escapes decoded, a header line skipped, OK info counts", async () => {
    const tsv = file("people.tsv", [
      "id\tname\tnote\tscore",
      "1\talice\tplain\t1.5",
      "2\t\\N\tit's \"quoted\"\t\\N",
      "3\tbob\ttab\\there\\nnewline \\\\ backslash\t-2",
      "4\tcarol\tescaped\\\ttab\t0",
      ""
    ].join("\n"))
    const r = await cli(`LOAD DATA LOCAL INFILE '${tsv}' INTO TABLE people IGNORE 1 LINES`, ["--local-infile=1", "-vvv"])
    expect(r.stderr).toBe("")
    expect(r.stdout).toContain("Query OK, 4 rows affected")
    expect(r.stdout).toContain("Records: 4  Deleted: 0  Skipped: 0  Warnings: 0")
    const rows = await cli("SELECT id, name IS NULL, HEX(note), score IS NULL, score FROM people ORDER BY id")
    const hex = (s: string) => Buffer.from(s).toString("hex").toUpperCase()
    expect(rows.stdout).toBe([
      `1\t0\t${hex("plain")}\t0\t1.5`,
      `2\t1\t${hex("it's \"quoted\"")}\t1\tNULL`,
      `3\t0\t${hex("tab\there\nnewline \\ backslash")}\t0\t-2`,
      `4\t0\t${hex("escaped\ttab")}\t0\t0`,
      ""
    ].join("\n"))
  })

  it("reads CSV: ENCLOSED BY with doubled quotes and quoted newlines, CRLF lines, a column list with @variables and SET", async () => {
    const csv = file("people.csv", [
      "ID,NAME,NOTE",
      "10,\"Smith, Jane\",\"she said \"\"hi\"\"\"",
      "11,NULL,\"NULL\"",
      "12,\"multi",
      "line\",\\N",
      "13,o'brien,\"a \\\"b\\\" c\"",
      ""
    ].join("\r\n"))
    const r = await cli(
      `LOAD DATA LOCAL INFILE '${csv}' INTO TABLE csv CHARACTER SET utf8mb4
         FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\\\'
         LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES (id, @n, note) SET name = @n, upper_name = UPPER(@n)`,
      ["--local-infile=1", "-vvv"]
    )
    expect(r.stderr).toBe("")
    expect(r.stdout).toContain("Records: 4  Deleted: 0  Skipped: 0  Warnings: 0")
    const rows = await cli("SELECT id, IFNULL(name, '<null>'), IFNULL(note, '<null>'), IFNULL(upper_name, '<null>') FROM csv ORDER BY id", ["-r"])
    expect(rows.stdout).toBe([
      "10\tSmith, Jane\tshe said \"hi\"\tSMITH, JANE",
      "11\t<null>\tNULL\t<null>",
      "12\tmulti\r\nline\t<null>\tMULTI\r\nLINE",
      "13\to'brien\ta \"b\" c\tO'BRIEN",
      ""
    ].join("\n"))
  })

  it("fills missing fields with defaults and warns (1261), ignores extra ones (1262); REPLACE counts Deleted", async () => {
    const f = file("short.tsv", "20\tshort\n21\tlong\tnote\t3\textra\n22\t\t\t\n")
    const r = await cli(`LOAD DATA LOCAL INFILE '${f}' INTO TABLE people; SHOW WARNINGS`, ["--local-infile=1", "-vvv"])
    expect(r.stdout).toContain("Records: 3  Deleted: 0  Skipped: 0  Warnings: 3")
    expect(r.stdout).toMatch(/Warning \| 1261 \| Row 1 doesn't contain data for all columns/)
    expect(r.stdout).toMatch(/Warning \| 1262 \| Row 2 was truncated; it contained more data than there were input columns/)
    // an empty numeric field is 0 (with a warning), an empty string field ''
    expect(r.stdout).toMatch(/Warning \| 1265 \| Data truncated for column 'score' at row 3/)
    expect((await cli("SELECT id, name, note IS NULL, score, typeof(score), note FROM people WHERE id >= 20 ORDER BY id")).stdout)
      .toBe("20\tshort\t1\tNULL\tnull\tNULL\n21\tlong\t0\t3\treal\tnote\n22\t\t0\t0\treal\t\n")
    const again = await cli(`LOAD DATA LOCAL INFILE '${f}' REPLACE INTO TABLE people (id, name)`, ["--local-infile=1", "-vvv"])
    expect(again.stdout).toContain("Records: 3  Deleted: 3  Skipped: 0  Warnings: 2")
    const dup = await cli(`LOAD DATA LOCAL INFILE '${f}' INTO TABLE people (id, name)`, ["--local-infile=1", "-vvv"])
    expect(dup.stdout).toContain("Query OK, 0 rows affected")
    expect(dup.stdout).toContain("Records: 3  Deleted: 0  Skipped: 3")
  })

  it("refuses a file past max_local_infile_bytes with 1153, and the same connection keeps working", async () => {
    const big = file("big.tsv", Array.from({ length: 40_000 }, (_, i) => `${i}\t${"x".repeat(10)}`).join("\n"))
    // statements from stdin with --force: the client goes on after an error, on the same connection
    const r = await run("mariadb", ["--no-defaults", "--skip-ssl", "-h127.0.0.1", `-P${server.port}`, "-uroot", "-Dld", "-N", "-B", "--local-infile=1", "--force"], {
      input: `LOAD DATA LOCAL INFILE '${big}' INTO TABLE big;\nSELECT CONNECTION_ID(), COUNT(*) FROM big;\nSELECT 'still here', CONNECTION_ID();\n`,
      timeoutMs: 30_000
    })
    expect(r.stderr).toMatch(/^ERROR 1153 \(08S01\) at line 1: Got a packet bigger than 'max_local_infile_bytes' bytes: LOAD DATA LOCAL INFILE accepts files up to 262144 bytes$/m)
    const lines = r.stdout.trim().split("\n").map((l) => l.split("\t"))
    expect(lines).toHaveLength(2)
    expect(lines[0]![1]).toBe("0")
    expect(lines[1]![0]).toBe("still here")
    expect(lines[1]![1]).toBe(lines[0]![0])
  })

  it("refuses server-side files (1290), a client without LOCAL INFILE (3948), and a missing table before the transfer (1146)", async () => {
    const f = file("one.tsv", "1\tx\n")
    const server = await cli(`LOAD DATA INFILE '${f}' INTO TABLE people`)
    expect(server.stderr).toContain("ERROR 1290 (HY000) at line 1: The MySQL server is running with the --secure-file-priv option so it cannot execute this statement")
    const off = await cli(`LOAD DATA LOCAL INFILE '${f}' INTO TABLE people`, ["--local-infile=0"])
    expect(off.stderr).toContain("ERROR 3948 (42000) at line 1: Loading local data is disabled; this must be enabled on both the client and server sides")
    const missing = await cli(`LOAD DATA LOCAL INFILE '/nonexistent/file' INTO TABLE nope`)
    expect(missing.stderr).toContain("ERROR 1146 (42S02) at line 1: Table 'ld.nope' doesn't exist")
    const xml = await cli(`LOAD XML LOCAL INFILE '${f}' INTO TABLE people`)
    expect(xml.stderr).toContain("ERROR 1235 (42000)")
  })
})

describe("mysql2 infileStreamFactory", { timeout: 30_000 }, () => {
  it("loads rows with the OK info, inside a transaction that ROLLBACK undoes", async () => {
    const f = file("node.csv", "1,one\n2,\"two, too\"\n3,\\N\n")
    const c = await connect()
    const load = `LOAD DATA LOCAL INFILE '${f}' INTO TABLE node FIELDS TERMINATED BY ',' ENCLOSED BY '"'`
    await c.query("BEGIN")
    const [inTx] = await c.query<ResultSetHeader>({ sql: load, infileStreamFactory: (p: string) => createReadStream(p) })
    expect(inTx.affectedRows).toBe(3)
    const other = await connect()
    const [seen] = await other.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM node")
    expect(seen[0]!["n"]).toBe(0)
    await c.query("ROLLBACK")
    const [none] = await c.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM node")
    expect(none[0]!["n"]).toBe(0)
    const [h] = await c.query<ResultSetHeader>({ sql: load, infileStreamFactory: (p: string) => createReadStream(p) })
    expect(h.affectedRows).toBe(3)
    // (mysql2 reads the info as string[EOF] unless it negotiated CLIENT_SESSION_TRACK, so it may keep the length byte)
    expect(h.info).toMatch(/^.?Records: 3  Deleted: 0  Skipped: 0  Warnings: 0$/)
    const [rows] = await other.query<RowDataPacket[]>("SELECT id, v FROM node ORDER BY id")
    expect(rows).toEqual([{ id: 1, v: "one" }, { id: 2, v: "two, too" }, { id: 3, v: null }])
    await other.end()
    await c.end()
  })

  it("answers 1153 past the cap and the connection stays usable", async () => {
    const big = file("node-big.tsv", "1\t" + "y".repeat(MAX + 10) + "\n")
    const c = await connect()
    const err = await c.query({ sql: `LOAD DATA LOCAL INFILE '${big}' INTO TABLE node`, infileStreamFactory: (p: string) => createReadStream(p) }).then(
      () => undefined,
      (e: { errno: number; sqlState: string }) => ({ errno: e.errno, sqlState: e.sqlState })
    )
    expect(err).toEqual({ errno: 1153, sqlState: "08S01" })
    const [r] = await c.query<RowDataPacket[]>("SELECT 1 + 1 AS two")
    expect(r).toEqual([{ two: 2 }])
    await c.end()
  })
})

describe("pymysql local_infile=True", { timeout: 30_000 }, () => {
  it("loads a file, then survives an oversize one on the same connection", async () => {
    const f = file("py.tsv", "skip me\n1\tpy \\\"one\\\"\n2\t\\N\n")
    const big = file("py-big.tsv", "9\t" + "z".repeat(MAX * 2) + "\n")
    const r = await run("/usr/bin/python3", ["-c", `
import json, pymysql
c = pymysql.connect(host="127.0.0.1", port=${server.port}, user="root", database="ld", local_infile=True, autocommit=True)
cur = c.cursor()
out = {}
out["affected"] = cur.execute("LOAD DATA LOCAL INFILE %s INTO TABLE py IGNORE 1 LINES", (${JSON.stringify(f)},))
cur.execute("SELECT id, v FROM py ORDER BY id")
out["rows"] = [list(r) for r in cur.fetchall()]
try:
    cur.execute("LOAD DATA LOCAL INFILE %s INTO TABLE py", (${JSON.stringify(big)},))
    out["big"] = "loaded"
except pymysql.MySQLError as e:
    out["big"] = [e.args[0], e.args[1]]
cur.execute("SELECT COUNT(*) FROM py")
out["after"] = cur.fetchone()[0]
print(json.dumps(out))
`], { timeoutMs: 30_000 })
    expect(r.stderr).toBe("")
    expect(JSON.parse(r.stdout)).toEqual({
      affected: 2,
      rows: [[1, "py \"one\""], [2, null]],
      big: [1153, `Got a packet bigger than 'max_local_infile_bytes' bytes: LOAD DATA LOCAL INFILE accepts files up to ${MAX} bytes`],
      after: 2
    })
  })
})
