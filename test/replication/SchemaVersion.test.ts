import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { PrepareRequest, txnIdOf } from "../../proto-schemas/src/Transaction.ts"
import { ensureReplicationTables } from "../../src/replication/Applier.ts"
import { bumpSchemaVersion, schemaMismatch, schemaVersionOf } from "../../src/replication/SchemaVersion.ts"

const prepare = (schemaVersion?: number, databaseOp?: "create" | "drop") =>
  new PrepareRequest({
    txnId: txnIdOf(Hlc.make(1, 0, nodeId(1))),
    coordinator: nodeId(1),
    startHlc: Hlc.make(1, 0, nodeId(1)),
    database: "app",
    changes: [],
    consistency: "QUORUM",
    ...(schemaVersion === undefined ? {} : { schemaVersion }),
    ...(databaseOp === undefined ? {} : { databaseOp })
  })

describe("schema versions", () => {
  it("count the schema changes a file applied (0 for a file from before them)", () => {
    const db = new Database(":memory:")
    expect(schemaVersionOf(db)).toBe(0)
    ensureReplicationTables(db)
    expect(schemaVersionOf(db)).toBe(0)
    bumpSchemaVersion(db)
    bumpSchemaVersion(db)
    expect(schemaVersionOf(db)).toBe(2)
  })

  it("refuse a transaction built against another version: 1213 when this node moved on, 1105 when it is behind", () => {
    expect(schemaMismatch(prepare(3), 3)).toBeUndefined()
    expect(schemaMismatch(prepare(), 3)).toBeUndefined()
    expect(schemaMismatch(prepare(1, "drop"), 3)).toBeUndefined()
    expect(schemaMismatch(prepare(2), 3)).toMatchObject({ _tag: "Conflict", reason: "schema" })
    expect(schemaMismatch(prepare(4), 3)).toMatchObject({ _tag: "Rejected", code: 1105 })
  })
})
