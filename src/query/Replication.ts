/**
 * The worker's half of a replicated write (cluster mode): the row images a transaction captured on
 * one database become `RowChange`s keyed by primary key, each with the version of the row the
 * transaction read (for the stale-read check at QUORUM and ALL), plus the schema statements it
 * ran. The caller then rolls the SQLite transaction back and hands the request to the node's
 * write coordinator; the change reaches this file again through the applier, like on every node.
 */
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import { noVersion, RowChange, type RowVersion } from "../../proto-schemas/src/RowChange.ts"
import type { ConsistencyLevel } from "../../proto-schemas/src/Transaction.ts"
import { primaryKeyOf } from "../replication/Applier.ts"
import { dmlKey, type PkValue, schemaChangeLocks } from "../replication/IntentKey.ts"
import { schemaVersionOf } from "../replication/SchemaVersion.ts"
import type { ReplicateReply } from "../replication/Replicator.ts"
import type { WriteRequest } from "../replication/WriteCoordinator.ts"
import { type CaptureSink, capturedColumns, type RowImage } from "../storage/Capture.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import type { EngineContext } from "./Context.ts"
import { MysqlError } from "./Errors.ts"
import type { Session } from "./Session.ts"

interface TableShape {
  readonly columns: ReadonlyArray<string>
  /** Positions of the primary key columns in the image. */
  readonly keyPositions: ReadonlyArray<number>
}

const shapes = new WeakMap<DatabaseHandle, { version: number; tables: Map<string, TableShape> }>()

const shapeOf = (handle: DatabaseHandle, table: string): TableShape => {
  let cache = shapes.get(handle)
  if (cache === undefined || cache.version !== handle.schemaVersion) {
    cache = { version: handle.schemaVersion, tables: new Map() }
    shapes.set(handle, cache)
  }
  let shape = cache.tables.get(table)
  if (shape === undefined) {
    // Read on the writer: inside the transaction, so a table it just created is visible.
    const db = handle.writer.db
    const columns = capturedColumns(db, table)
    const pk = primaryKeyOf(db, table)
    if (pk.length === 0) {
      throw new MysqlError({
        code: 1173,
        sqlState: "42000",
        message: `This table type requires a primary key: table '${table}' has none, so its rows cannot be replicated`
      })
    }
    shape = { columns, keyPositions: pk.map((name) => columns.indexOf(name)) }
    cache.tables.set(table, shape)
  }
  return shape
}

const keyOf = (table: string, shape: TableShape, image: ReadonlyArray<unknown>) =>
  dmlKey(table, shape.keyPositions.map((i) => image[i] as PkValue))

const versionOf = (handle: DatabaseHandle, table: string, key: Uint8Array): RowVersion => {
  try {
    const row = handle.writer.prepare("SELECT stamp, node FROM __marmot_row_version WHERE tbl = ? AND pk = ?").stmt
      .get(table, key) as [bigint, bigint] | undefined
    return row === undefined ? noVersion : { stamp: BigInt(row[0]), nodeId: nodeId(Number(row[1])) }
  } catch {
    return noVersion
  }
}

/** Builds the request while the SQLite transaction is still open (row versions are read in it). */
export const buildRequest = (
  handle: DatabaseHandle,
  sink: CaptureSink,
  consistency: ConsistencyLevel
): WriteRequest => {
  const checkBase = consistency !== "ONE"
  const changes = sink.images.map((image: RowImage) => {
    const shape = shapeOf(handle, image.table)
    const key = keyOf(image.table, shape, image.op === "I" ? image.after! : image.before!)
    return new RowChange({
      database: handle.name,
      table: image.table,
      op: image.op,
      key,
      columns: shape.columns,
      ...(image.before === undefined ? {} : { before: image.before as RowChange["after"] & {} }),
      ...(image.after === undefined ? {} : { after: image.after as RowChange["after"] & {} }),
      ...(checkBase ? { baseStamp: versionOf(handle, image.table, key) } : {})
    }, true)
  })
  return {
    database: handle.name,
    changes,
    ...(sink.ddl.length > 0 ? { ddl: [...sink.ddl], locks: schemaChangeLocks(handle.name, sink.ddlTables) } : {}),
    schemaVersion: schemaVersionOf(handle.writer.db),
    consistency
  }
}

export const consistencyOf = (ctx: EngineContext, session: Session): ConsistencyLevel => {
  const v = session.variables.get("marmot_write_consistency") ?? ctx.globals.get("marmot_write_consistency")
  return typeof v === "string" ? (v.toUpperCase() as ConsistencyLevel) : ctx.defaultConsistency
}

const failure = (reply: ReplicateReply): MysqlError | undefined =>
  reply === undefined ? undefined : new MysqlError({ code: reply.code, sqlState: reply.sqlState, message: reply.message })

/** Replicates the requests one database after the other; rejects with the first failure's MySQL error. */
export const replicateAll = async (ctx: EngineContext, requests: ReadonlyArray<WriteRequest>): Promise<void> => {
  for (const request of requests) {
    const error = failure(await ctx.replicator!.replicate(request))
    if (error !== undefined) throw error
  }
}
