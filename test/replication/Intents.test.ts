import { describe, expect, it } from "vitest"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { RowChange, type RowVersion } from "../../proto-schemas/src/RowChange.ts"
import { PrepareRequest, txnIdOf } from "../../proto-schemas/src/Transaction.ts"
import { databaseKey, ddlKey, dmlKey } from "../../src/replication/IntentKey.ts"
import { IntentTable } from "../../src/replication/Intents.ts"

const hlc = Hlc.make(1000, 0, nodeId(1))

const update = (id: bigint, base?: RowVersion) =>
  new RowChange({
    database: "d",
    table: "t",
    op: "U",
    key: dmlKey("t", [id]),
    columns: ["id", "v"],
    before: [id, "a"],
    after: [id, "b"],
    ...(base === undefined ? {} : { baseStamp: base })
  })

const request = (wallMs: number, node: number, ...changes: Array<RowChange>) =>
  new PrepareRequest({
    txnId: txnIdOf(Hlc.make(wallMs, 0, nodeId(node))),
    coordinator: nodeId(node),
    startHlc: Hlc.make(wallMs, 0, nodeId(node)),
    database: "d",
    schemaVersion: 0,
    changes,
    consistency: "QUORUM"
  })

const noneStored = () => undefined

describe("IntentTable", () => {
  it("refuses a second live transaction on a held key, and grants it after release", () => {
    const intents = new IntentTable(10_000)
    const a = request(1, 1, update(1n))
    const b = request(2, 2, update(1n), update(2n))
    expect(intents.prepare(a, 0, hlc, noneStored)._tag).toBe("Prepared")
    const vote = intents.prepare(b, 1, hlc, noneStored)
    expect(vote).toMatchObject({ _tag: "Conflict", reason: "intent", holder: a.txnId })
    // the refused transaction reserved nothing: key 2 is still free
    expect(intents.prepare(request(3, 3, update(2n)), 2, hlc, noneStored)._tag).toBe("Prepared")
    intents.release(a.txnId)
    expect(intents.prepare(request(4, 2, update(1n)), 3, hlc, noneStored)._tag).toBe("Prepared")
  })

  it("lets transactions on different keys prepare side by side", () => {
    const intents = new IntentTable(10_000)
    expect(intents.prepare(request(1, 1, update(1n)), 0, hlc, noneStored)._tag).toBe("Prepared")
    expect(intents.prepare(request(2, 2, update(2n)), 0, hlc, noneStored)._tag).toBe("Prepared")
    expect(intents.size).toBe(2)
  })

  it("is idempotent when the same transaction prepares again", () => {
    const intents = new IntentTable(10_000)
    const a = request(1, 1, update(1n))
    intents.prepare(a, 0, hlc, noneStored)
    expect(intents.prepare(a, 5, hlc, noneStored)._tag).toBe("Prepared")
    expect(intents.prepared(a.txnId)).toBe(a)
  })

  it("refuses a change built on a stale read (the row has a newer version than the base)", () => {
    const intents = new IntentTable(10_000)
    const stored = () => ({ stamp: 500n, nodeId: nodeId(2) })
    const stale = request(1, 1, update(1n, { stamp: 400n, nodeId: nodeId(1) }))
    expect(intents.prepare(stale, 0, hlc, stored)).toMatchObject({ _tag: "Conflict", reason: "stale" })
    const fresh = request(2, 1, update(1n, { stamp: 500n, nodeId: nodeId(2) }))
    expect(intents.prepare(fresh, 0, hlc, stored)._tag).toBe("Prepared")
  })

  it("expires the intents of a coordinator that stopped sending heartbeats", () => {
    const intents = new IntentTable(1000)
    const a = request(1, 1, update(1n))
    intents.prepare(a, 0, hlc, noneStored)
    intents.heartbeat(a.txnId, 800)
    expect(intents.expire(1500)).toEqual([])
    expect(intents.prepare(request(2, 2, update(1n)), 1600, hlc, noneStored)._tag).toBe("Conflict")
    expect(intents.expire(1801)).toEqual([a.txnId])
    expect(intents.prepare(request(3, 2, update(1n)), 1802, hlc, noneStored)._tag).toBe("Prepared")
  })

  it("takes over the key of an expired holder at PREPARE, even before expire() ran", () => {
    const intents = new IntentTable(1000)
    const a = request(1, 1, update(1n))
    intents.prepare(a, 0, hlc, noneStored)
    expect(intents.prepare(request(2, 2, update(1n)), 5000, hlc, noneStored)._tag).toBe("Prepared")
    expect(intents.prepared(a.txnId)).toBeUndefined()
  })

  it("reserves lock keys without changes: two schema changes of one table conflict, other tables do not", () => {
    const intents = new IntentTable(10_000)
    const ddl = (wallMs: number, node: number, table: string) =>
      new PrepareRequest({ ...request(wallMs, node), locks: [ddlKey(table)] })
    const a = ddl(1, 1, "t")
    expect(intents.prepare(a, 0, hlc, noneStored)._tag).toBe("Prepared")
    expect(intents.prepare(ddl(2, 2, "t"), 1, hlc, noneStored)).toMatchObject({ _tag: "Conflict", reason: "intent", holder: a.txnId })
    expect(intents.prepare(ddl(3, 2, "u"), 1, hlc, noneStored)._tag).toBe("Prepared")
    intents.release(a.txnId)
    expect(intents.prepare(ddl(4, 2, "t"), 2, hlc, noneStored)._tag).toBe("Prepared")
  })

  it("a database's DDL lock: schema changes of other tables wait for it; past the lease another takes it over", () => {
    const intents = new IntentTable(10_000, 30_000)
    const ddl = (wallMs: number, node: number, table: string) =>
      new PrepareRequest({ ...request(wallMs, node), locks: [ddlKey(table), databaseKey("d")] })
    const a = ddl(1, 1, "t")
    expect(intents.prepare(a, 0, hlc, noneStored)._tag).toBe("Prepared")
    intents.heartbeat(a.txnId, 15_000)
    const refused = intents.prepare(ddl(2, 2, "u"), 20_000, hlc, noneStored)
    expect(refused).toMatchObject({ _tag: "Conflict", reason: "intent", holder: a.txnId })
    expect(refused._tag === "Conflict" && Buffer.from(refused.key).equals(databaseKey("d"))).toBe(true)
    // a row write is no schema change: the lock does not stop it
    expect(intents.prepare(request(3, 2, update(1n)), 20_000, hlc, noneStored)._tag).toBe("Prepared")
    intents.heartbeat(a.txnId, 25_000) // the holder is alive, but its lease is over at 30 s
    const b = ddl(4, 2, "u")
    expect(intents.prepare(b, 30_001, hlc, noneStored)._tag).toBe("Prepared")
    expect(intents.prepared(a.txnId)).toBeUndefined()
    expect(intents.prepared(b.txnId)).toBeDefined()
  })
})
