import { afterAll, describe, expect, it } from "vitest"
import { CommitLogReader } from "../../src/cdc/CommitLog.ts"
import { type ChangeEvent, ddlTable, eventsOf, fieldTypeOf, type LogEntry } from "../../src/cdc/Debezium.ts"
import { globToRegExp, makeFilter } from "../../src/cdc/Filter.ts"
import { toJson } from "../../src/cdc/Json.ts"
import { removeDir, TestDatabase, tempDir } from "./support.ts"

const dir = tempDir("debezium")
afterAll(() => removeDir(dir))

const shop = new TestDatabase(dir, "shop", [
  `CREATE TABLE items (id INT NOT NULL PRIMARY KEY, name VARCHAR(100), price DOUBLE, img BLOB)`,
  `CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(10) NOT NULL, v TEXT, PRIMARY KEY (a, b))`
])
const reader = new CommitLogReader("shop", shop.handle.path)
afterAll(() => {
  reader.close()
  shop.close()
})

const all = makeFilter(["*"], ["*"])
const ctx = { topicPrefix: "cdc", filter: all, shapeOf: (_db: string, t: string) => reader.shape(t), nodeId: 7, nowMs: 42 }

/** The entries committed so far after `seq`, read back from the file like the publisher does. */
const entriesAfter = (seq: bigint): Array<LogEntry> => reader.read(seq, 1000)

const lastEntry = (): LogEntry => {
  const es = entriesAfter(0n)
  return es[es.length - 1]!
}

const value = (e: ChangeEvent) => JSON.parse(e.value!) as { schema: any; payload: any }
const key = (e: ChangeEvent) => JSON.parse(e.key) as { schema: any; payload: any }

describe("Debezium envelopes from the commit log", () => {
  it("an insert: BEGIN, op c with after only, END with the count; key carries the primary key", async () => {
    const txn = await shop.insert("items", [1n, "tea", 2.5, Buffer.from([0, 255])])
    const entry = lastEntry()
    expect(entry.txn.txnId).toBe(txn.txnId)
    const events = eventsOf(entry, ctx)
    expect(events.map((e) => [e.kind, e.topic])).toEqual([
      ["begin", "cdc.transaction"],
      ["data", "cdc.shop.items"],
      ["end", "cdc.transaction"]
    ])
    const data = value(events[1]!)
    expect(data.payload).toEqual({
      before: null,
      after: { id: 1, name: "tea", price: 2.5, img: "AP8=" },
      source: {
        version: "marmot-ts-0.1.0",
        connector: "marmot",
        name: "cdc",
        ts_ms: txn.commitHlc.wallMs,
        snapshot: "false",
        db: "shop",
        table: "items",
        txId: txn.txnId,
        lsn: Number(entry.seq),
        commit_node: 1,
        commit_logical: txn.commitHlc.logical,
        node_id: 7
      },
      op: "c",
      ts_ms: 42,
      transaction: { id: txn.txnId, total_order: 1, data_collection_order: 1 }
    })
    expect(data.schema.name).toBe("cdc.shop.items.Envelope")
    const after = data.schema.fields.find((f: any) => f.field === "after")
    expect(after.fields).toEqual([
      { type: "int64", optional: false, field: "id" },
      { type: "string", optional: true, field: "name" },
      { type: "double", optional: true, field: "price" },
      { type: "bytes", optional: true, field: "img" }
    ])
    expect(key(events[1]!)).toEqual({
      schema: { type: "struct", name: "cdc.shop.items.Key", optional: false, fields: [{ type: "int64", optional: false, field: "id" }] },
      payload: { id: 1 }
    })
    expect(value(events[0]!).payload).toEqual({ status: "BEGIN", id: txn.txnId, event_count: null, data_collections: null, ts_ms: txn.commitHlc.wallMs })
    expect(value(events[2]!).payload).toEqual({
      status: "END",
      id: txn.txnId,
      event_count: 1,
      data_collections: [{ data_collection: "shop.items", event_count: 1 }],
      ts_ms: txn.commitHlc.wallMs
    })
    expect(key(events[0]!).payload).toEqual({ id: txn.txnId })
  })

  it("an update has before and after (op u); a delete has before (op d) and is followed by a tombstone with its key", async () => {
    await shop.update("items", [1n, "tea", 2.5, null], [1n, "green tea", 3, null])
    const upd = eventsOf(lastEntry(), ctx).filter((e) => e.kind === "data")
    expect(upd.map((e) => value(e).payload.op)).toEqual(["u"])
    expect(value(upd[0]!).payload.before).toEqual({ id: 1, name: "tea", price: 2.5, img: null })
    expect(value(upd[0]!).payload.after).toEqual({ id: 1, name: "green tea", price: 3, img: null })

    await shop.delete("items", [1n, "green tea", 3, null])
    const del = eventsOf(lastEntry(), ctx)
    expect(del.map((e) => e.kind)).toEqual(["begin", "data", "tombstone", "end"])
    expect(value(del[1]!).payload).toMatchObject({ op: "d", before: { id: 1, name: "green tea" }, after: null })
    expect(del[2]!.value).toBeNull()
    expect(del[2]!.key).toBe(del[1]!.key)
    expect(del[2]!.topic).toBe("cdc.shop.items")
  })

  it("an update that moves the primary key is a delete (with tombstone) of the old key and a create of the new one", async () => {
    await shop.insert("items", [5n, "a", null, null])
    await shop.update("items", [5n, "a", null, null], [6n, "a", null, null])
    const events = eventsOf(lastEntry(), ctx)
    expect(events.map((e) => e.kind)).toEqual(["begin", "data", "tombstone", "data", "end"])
    expect(key(events[1]!).payload).toEqual({ id: 5 })
    expect(value(events[1]!).payload.op).toBe("d")
    expect(key(events[3]!).payload).toEqual({ id: 6 })
    expect(value(events[3]!).payload.op).toBe("c")
    expect(value(events[4]!).payload.event_count).toBe(2)
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length)
  })

  it("composite keys, a multi-table transaction's orders and counts, exact 64-bit integers", async () => {
    const big = 2n ** 62n + 1n
    await shop.commit([
      shop.change("pairs", "I", undefined, [1n, "x", "one"]),
      shop.change("items", "I", undefined, [big, "big", null, null]),
      shop.change("pairs", "I", undefined, [1n, "y", "two"])
    ])
    const events = eventsOf(lastEntry(), ctx)
    const data = events.filter((e) => e.kind === "data")
    expect(data.map((e) => key(e).payload)).toEqual([{ a: 1, b: "x" }, { id: Number(big) }, { a: 1, b: "y" }])
    expect(data[1]!.key).toContain(`"id":${big}`)
    expect(data[1]!.value).toContain(`"id":${big}`)
    expect(data.map((e) => value(e).payload.transaction)).toMatchObject([
      { total_order: 1, data_collection_order: 1 },
      { total_order: 2, data_collection_order: 1 },
      { total_order: 3, data_collection_order: 2 }
    ])
    expect(value(events[events.length - 1]!).payload.data_collections).toEqual([
      { data_collection: "shop.pairs", event_count: 2 },
      { data_collection: "shop.items", event_count: 1 }
    ])
  })

  it("ids are stable (same entry, same ids), distinct per event, and built from the commit HLC", async () => {
    const entry = lastEntry()
    const a = eventsOf(entry, ctx).map((e) => e.id)
    const b = eventsOf(entry, { ...ctx, nowMs: 99, nodeId: 3 }).map((e) => e.id)
    expect(a).toEqual(b)
    expect(new Set(a).size).toBe(a.length)
    const stamp = ((BigInt(entry.txn.commitHlc.wallMs) << 16n) | BigInt(entry.txn.commitHlc.logical)).toString(16).padStart(16, "0")
    expect(a[0]).toBe(`shop:${stamp}-00000001:begin`)
    expect(a[1]).toBe(`shop:${stamp}-00000001:0`)
  })

  it("filters: tables by name or db.table glob; a transaction with nothing left has no BEGIN/END", async () => {
    const entry = lastEntry()
    const only = (dbs: Array<string>, tables: Array<string>) =>
      eventsOf(entry, { ...ctx, filter: makeFilter(dbs, tables) }).filter((e) => e.kind === "data").map((e) => e.topic)
    expect(only(["*"], ["pairs"])).toEqual(["cdc.shop.pairs", "cdc.shop.pairs"])
    expect(only(["*"], ["shop.it*"])).toEqual(["cdc.shop.items"])
    expect(only(["sh?p"], ["*"])).toHaveLength(3)
    expect(only(["other"], ["*"])).toEqual([])
    expect(eventsOf(entry, { ...ctx, filter: makeFilter(["*"], ["nothing"]) })).toEqual([])
    const end = eventsOf(entry, { ...ctx, filter: makeFilter(["*"], ["items"]) }).find((e) => e.kind === "end")!
    expect(value(end).payload.event_count).toBe(1)
  })

  it("a table that is gone: columns typed from the values, the key from the intent key", async () => {
    await shop.insert("pairs", [9n, "z", "gone"])
    const entry = lastEntry()
    const events = eventsOf(entry, { ...ctx, shapeOf: () => undefined }).filter((e) => e.kind === "data")
    expect(key(events[0]!).payload).toEqual({ pk0: 9, pk1: "z" })
    expect(value(events[0]!).payload.after).toEqual({ a: 9, b: "z", v: "gone" })
  })

  it("a transaction's DDL (run by the ApplyQueue before its rows) becomes schema-change events before its row events", async () => {
    await shop.commit([shop.change("items", "I", undefined, [20n, "after ddl", null, null])], {
      ddl: [`ALTER TABLE "items" ADD COLUMN "note" TEXT`, `CREATE TABLE "z" ("id" INT PRIMARY KEY)`]
    })
    // The statements ran: the table has the new column and z exists.
    expect(shop.handle.writer.db.prepare(`SELECT count(*) FROM z`).pluck().get()).toBe(0n)
    reader.refreshShapes()
    expect([...reader.shape("items")!.columns.keys()]).toEqual(["id", "name", "price", "img", "note"])
    const events = eventsOf(lastEntry(), ctx)
    expect(events.map((e) => e.kind)).toEqual(["ddl", "ddl", "begin", "data", "end"])
    expect(events[0]!.topic).toBe("cdc.schema_changes")
    expect(key(events[0]!).payload).toEqual({ databaseName: "shop" })
    expect(value(events[0]!).payload).toMatchObject({
      databaseName: "shop",
      schemaName: null,
      ddl: `ALTER TABLE "items" ADD COLUMN "note" TEXT`,
      source: { db: "shop", table: "items" },
      tableChanges: []
    })
    expect(value(events[1]!).payload.source.table).toBe("z")
    const filtered = eventsOf(lastEntry(), { ...ctx, filter: makeFilter(["*"], ["items"]) })
    expect(filtered.map((e) => e.kind)).toEqual(["ddl", "begin", "data", "end"])
  })

  it("a database created by a transaction (databaseOp create) starts its log with CREATE DATABASE and its tables", async () => {
    const fresh = new TestDatabase(dir, "fresh", [])
    await fresh.commit([], { databaseOp: "create", ddl: [`CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "v" TEXT)`] })
    await fresh.insert("t", [1n, "one"])
    const r = new CommitLogReader("fresh", fresh.handle.path)
    const [first, second] = r.read(0n, 10)
    const created = eventsOf(first!, { ...ctx, shapeOf: (_db, t) => r.shape(t) })
    expect(created.map((e) => [e.kind, value(e).payload.ddl])).toEqual([
      ["ddl", `CREATE DATABASE "fresh"`],
      ["ddl", `CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "v" TEXT)`]
    ])
    expect(eventsOf(second!, { ...ctx, shapeOf: (_db, t) => r.shape(t) }).map((e) => e.kind)).toEqual(["begin", "data", "end"])
    expect(eventsOf(first!, { ...ctx, filter: makeFilter(["other"], ["*"]) })).toEqual([])
    r.close()
    fresh.close()
  })

  it("reads the table out of SQLite DDL", () => {
    expect([
      `CREATE TABLE IF NOT EXISTS main."a""b" (x)`,
      "DROP TABLE IF EXISTS `t2`",
      `CREATE UNIQUE INDEX IF NOT EXISTS "ix" ON "tbl" (a)`,
      `CREATE INDEX ix ON main.tbl2(a)`,
      `ALTER TABLE [t3] RENAME TO t4`,
      `DROP INDEX ix`,
      `CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END`
    ].map(ddlTable)).toEqual(['a"b', "t2", "tbl", "tbl2", "t3", undefined, undefined])
  })

  it("a body that is not a CommittedTransaction is a CommitLogError naming the seq, not skipped", async () => {
    const db = new TestDatabase(dir, "broken", ["CREATE TABLE t (id INT PRIMARY KEY)"])
    await db.insert("t", [1n])
    db.handle.writer.exec(`INSERT INTO __marmot_commit_log (txn_id, commit_stamp, commit_node, body) VALUES ('x', 1, 1, '{"nope":1}')`)
    const r = new CommitLogReader("broken", db.handle.path)
    expect(r.read(0n, 1)).toHaveLength(1)
    expect(() => r.read(0n, 10)).toThrow(/commit log of broken: seq 2: body is not a CommittedTransaction/)
    r.close()
    db.close()
  })
})

describe("globs and JSON", () => {
  it("matches whole names with * ? and classes", async () => {
    expect(globToRegExp("item*").test("items")).toBe(true)
    expect(globToRegExp("item*").test("xitems")).toBe(false)
    expect(globToRegExp("t?").test("t1")).toBe(true)
    expect(globToRegExp("t?").test("t12")).toBe(false)
    expect(globToRegExp("[ab]x").test("bx")).toBe(true)
    expect(globToRegExp("[!ab]x").test("bx")).toBe(false)
    expect(globToRegExp("[!ab]x").test("cx")).toBe(true)
    expect(globToRegExp("a.b").test("axb")).toBe(false)
    expect(globToRegExp("wp_$x").test("wp_$x")).toBe(true)
  })

  it("maps declared types by SQLite affinity", async () => {
    expect(["BIGINT UNSIGNED", "VARCHAR(10)", "LONGBLOB", "DOUBLE", "DECIMAL(10,2)", "DATETIME", ""].map(fieldTypeOf)).toEqual([
      "int64",
      "string",
      "bytes",
      "double",
      "double",
      "string",
      "bytes"
    ])
  })

  it("writes bigints exactly and non-finite numbers as strings", async () => {
    expect(toJson({ a: 2n ** 63n - 1n, b: NaN, c: -Infinity, d: [1, "x", null], e: undefined })).toBe(
      `{"a":9223372036854775807,"b":"NaN","c":"-Infinity","d":[1,"x",null]}`
    )
  })
})
