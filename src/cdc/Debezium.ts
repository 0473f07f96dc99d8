/**
 * Committed transactions → Debezium change events (pure). See DESIGN.md for the topics, the
 * envelopes and the event ids.
 */
import { Either } from "effect"
import { toStamp } from "../../proto-schemas/src/Hlc.ts"
import type { RowChange } from "../../proto-schemas/src/RowChange.ts"
import type { CommittedTransaction } from "../../proto-schemas/src/Transaction.ts"
import type { SqlValue } from "../../proto-schemas/src/Values.ts"
import { decodeKey } from "../replication/IntentKey.ts"
import type { TableFilter } from "./Filter.ts"
import type { SnapshotRow } from "./Snapshot.ts"
import { type JsonValue, toJson } from "./Json.ts"

/** Kafka Connect schema types used in the envelopes. */
export type FieldType = "int64" | "double" | "string" | "bytes"

export interface ColumnShape {
  readonly type: FieldType
  readonly optional: boolean
}

/** A table as it is now: its column types and primary key (for the schema and the key). */
export interface TableShape {
  readonly columns: ReadonlyMap<string, ColumnShape>
  readonly primaryKey: ReadonlyArray<string>
}

/**
 * A schema change of a commit-log entry: the transaction's `databaseOp` (create or drop of the
 * database file) and its `ddl` statements (SQLite text, run in order before its row changes).
 */
export interface DdlEntry {
  readonly statement: string
  /** The table the statement creates, alters or drops, or indexes (read from the statement). */
  readonly table?: string | undefined
}

const quotedName = String.raw`("(?:[^"]|"")+"|\`(?:[^\`]|\`\`)+\`|\[[^\]]+\]|[A-Za-z0-9_$]+)`
const ifExists = String.raw`(?:IF\s+(?:NOT\s+)?EXISTS\s+)?`
const schemaPrefix = String.raw`(?:(?:"main"|main)\s*\.\s*)?`
const tableStatement = new RegExp(
  String.raw`^\s*(?:(?:CREATE\s+(?:TEMP(?:ORARY)?\s+)?(?:VIRTUAL\s+)?TABLE|ALTER\s+TABLE|DROP\s+TABLE)\s+` + ifExists +
    String.raw`|CREATE\s+(?:UNIQUE\s+)?INDEX\s+` + ifExists + schemaPrefix + quotedName + String.raw`\s+ON\s+)` + schemaPrefix + quotedName,
  "i"
)

const unquote = (name: string): string => {
  const q = name[0]
  if (q === '"') return name.slice(1, -1).replace(/""/g, '"')
  if (q === "`") return name.slice(1, -1).replace(/``/g, "`")
  if (q === "[") return name.slice(1, -1)
  return name
}

/** The table a DDL statement is about, when it is a CREATE/ALTER/DROP TABLE or CREATE INDEX. */
export const ddlTable = (statement: string): string | undefined => {
  const m = tableStatement.exec(statement)
  if (m === null) return undefined
  return unquote((m[2] ?? m[1])!)
}

/** A transaction's schema changes, in the order they ran. */
export const ddlEntriesOf = (txn: CommittedTransaction): Array<DdlEntry> => {
  const out: Array<DdlEntry> = []
  if (txn.databaseOp !== undefined) out.push({ statement: `${txn.databaseOp === "create" ? "CREATE" : "DROP"} DATABASE "${txn.database}"` })
  for (const statement of txn.ddl ?? []) out.push({ statement, table: ddlTable(statement) })
  return out
}

/** One commit-log row, decoded. */
export interface LogEntry {
  readonly seq: bigint
  readonly txn: CommittedTransaction
  readonly ddl: ReadonlyArray<DdlEntry>
  /** Changes last-write-wins skipped on this node (a newer version of the row was there): no events. */
  readonly skipped: ReadonlySet<number>
  /** Key-moving UPDATEs whose new key LWW skipped: only the delete of the old key. */
  readonly skippedNewKey: ReadonlySet<number>
}

export type EventKind = "data" | "tombstone" | "begin" | "end" | "ddl"

export interface ChangeEvent {
  readonly kind: EventKind
  readonly topic: string
  /** JSON text of the Debezium key. */
  readonly key: string
  /** JSON text of the Debezium value; null for a tombstone. */
  readonly value: string | null
  /**
   * Stable across retries, restarts and nodes: database, commit HLC (stamp-node) and the event's
   * place in the transaction. Sent as the NATS message id (JetStream drops duplicates) and as the
   * Kafka header `marmot.event.id`.
   */
  readonly id: string
}

export interface EventContext {
  readonly topicPrefix: string
  readonly filter: TableFilter
  readonly shapeOf: (db: string, table: string) => TableShape | undefined
  /** This node (the one publishing). */
  readonly nodeId: number
  /** Processing time: the envelope's ts_ms (source.ts_ms is the commit time). */
  readonly nowMs: number
}

export const connectorVersion = "marmot-ts-0.1.0"

/** Topic words: letters, digits, `_` and `-` (valid in Kafka topics and NATS subject tokens). */
export const topicWord = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, "_")

export const dataTopic = (prefix: string, db: string, table: string): string => `${prefix}.${topicWord(db)}.${topicWord(table)}`
export const transactionTopic = (prefix: string): string => `${prefix}.transaction`
export const schemaChangeTopic = (prefix: string): string => `${prefix}.schema_changes`

/** SQLite's type affinity rules on the declared (MySQL) type name, with dates as strings. */
export const fieldTypeOf = (declared: string): FieldType => {
  const t = declared.toUpperCase()
  if (t.includes("INT")) return "int64"
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "string"
  if (t === "" || t.includes("BLOB") || t.includes("BINARY")) return "bytes"
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB") || t.includes("DEC") || t.includes("NUMERIC")) return "double"
  return "string"
}

const fieldTypeOfValue = (v: SqlValue): FieldType =>
  typeof v === "bigint" ? "int64" : typeof v === "number" ? "double" : v instanceof Uint8Array ? "bytes" : "string"

const hex = (n: bigint | number, width: number) => n.toString(16).padStart(width, "0")

/** The id prefix of every event of `txn`. */
export const eventIdBase = (txn: CommittedTransaction): string =>
  `${txn.database}:${hex(toStamp(txn.commitHlc), 16)}-${hex(txn.commitHlc.nodeId, 8)}`

type Schema = { readonly [k: string]: JsonValue | undefined }

const field = (name: string, type: string, optional: boolean, extra: Schema = {}): Schema => ({ type, optional, field: name, ...extra })

const sourceSchema: Schema = {
  type: "struct",
  name: "io.marmot.connector.Source",
  optional: false,
  field: "source",
  fields: [
    field("version", "string", false),
    field("connector", "string", false),
    field("name", "string", false),
    field("ts_ms", "int64", false),
    field("snapshot", "string", true),
    field("db", "string", false),
    field("table", "string", true),
    field("txId", "string", true),
    field("lsn", "int64", true),
    field("commit_node", "int64", true),
    field("commit_logical", "int64", true),
    field("node_id", "int64", false)
  ]
}

const transactionBlockSchema: Schema = {
  type: "struct",
  name: "event.block",
  optional: true,
  field: "transaction",
  fields: [field("id", "string", false), field("total_order", "int64", false), field("data_collection_order", "int64", false)]
}

const source = (entry: LogEntry, ctx: EventContext, table: string | null): Schema => ({
  version: connectorVersion,
  connector: "marmot",
  name: ctx.topicPrefix,
  ts_ms: entry.txn.commitHlc.wallMs,
  snapshot: "false",
  db: entry.txn.database,
  table,
  txId: entry.txn.txnId,
  lsn: entry.seq,
  commit_node: entry.txn.commitHlc.nodeId,
  commit_logical: entry.txn.commitHlc.logical,
  node_id: ctx.nodeId
})

interface Columns {
  readonly names: ReadonlyArray<string>
  readonly types: ReadonlyArray<ColumnShape>
}

const columnsOf = (change: RowChange, shape: TableShape | undefined): Columns => {
  const image = change.after ?? change.before!
  return {
    names: change.columns,
    types: change.columns.map((c, i) => shape?.columns.get(c) ?? { type: fieldTypeOfValue(image[i] ?? null), optional: true })
  }
}

const rowObject = (cols: Columns, image: ReadonlyArray<SqlValue> | undefined): JsonValue => {
  if (image === undefined) return null
  const row: Record<string, JsonValue> = {}
  cols.names.forEach((c, i) => {
    row[c] = image[i] ?? null
  })
  return row
}

/**
 * Schema JSON is the same for every event of a table shape and most of an event's bytes: it is
 * written once per shape (bounded memo) and spliced in as text.
 */
const schemaMemo = new Map<string, string>()
const memoSchema = (key: string, build: () => JsonValue): string => {
  let text = schemaMemo.get(key)
  if (text === undefined) {
    if (schemaMemo.size >= 4096) schemaMemo.clear()
    text = toJson(build())
    schemaMemo.set(key, text)
  }
  return text
}

const withSchema = (schemaJson: string, payload: JsonValue): string => `{"schema":${schemaJson},"payload":${toJson(payload)}}`

const envelopeSchemaJson = (prefix: string, db: string, table: string, cols: Columns): string =>
  memoSchema(`env\0${prefix}\0${db}\0${table}\0${cols.names.join("\0")}\0${cols.types.map((t) => t.type + (t.optional ? "?" : "")).join(",")}`, () =>
    envelopeSchema(prefix, db, table, cols))

const envelopeSchema = (prefix: string, db: string, table: string, cols: Columns): Schema => {
  const valueName = `${dataTopic(prefix, db, table)}.Value`
  const valueFields = cols.names.map((c, i) => field(c, cols.types[i]!.type, cols.types[i]!.optional))
  return {
    type: "struct",
    name: `${dataTopic(prefix, db, table)}.Envelope`,
    optional: false,
    fields: [
      { type: "struct", name: valueName, optional: true, field: "before", fields: valueFields },
      { type: "struct", name: valueName, optional: true, field: "after", fields: valueFields },
      sourceSchema,
      field("op", "string", false),
      field("ts_ms", "int64", true),
      transactionBlockSchema
    ]
  }
}

/**
 * The key's column names and values: the primary key from the table's shape when the change has
 * those columns, else the values inside the row's intent key as `pk0`, `pk1`, ... (a dropped table).
 */
const keyOf = (change: RowChange, shape: TableShape | undefined, image: ReadonlyArray<SqlValue>, cols: Columns): Array<[string, SqlValue, FieldType]> => {
  const pk = shape?.primaryKey ?? []
  const idx = pk.map((c) => change.columns.indexOf(c))
  if (pk.length > 0 && idx.every((i) => i >= 0)) return pk.map((c, j) => [c, image[idx[j]!] ?? null, cols.types[idx[j]!]!.type])
  const decoded = decodeKey(change.key)
  const values = Either.isRight(decoded) && decoded.right._tag === "Dml" ? decoded.right.pk : []
  return values.map((v, j) => [`pk${j}`, v, fieldTypeOfValue(v)])
}

const keyJson = (prefix: string, db: string, table: string, key: Array<[string, SqlValue, FieldType]>): string =>
  withSchema(
    memoSchema(`key\0${prefix}\0${db}\0${table}\0${key.map(([n, , t]) => `${n}:${t}`).join("\0")}`, () => ({
      type: "struct",
      name: `${dataTopic(prefix, db, table)}.Key`,
      optional: false,
      fields: key.map(([name, , type]) => field(name, type, false))
    })),
    Object.fromEntries(key.map(([name, value]) => [name, value]))
  )

const sameKey = (a: Array<[string, SqlValue, FieldType]>, b: Array<[string, SqlValue, FieldType]>): boolean =>
  toJson(a.map(([, v]) => v)) === toJson(b.map(([, v]) => v))

interface DataEvent {
  readonly op: "c" | "u" | "d"
  readonly before: ReadonlyArray<SqlValue> | undefined
  readonly after: ReadonlyArray<SqlValue> | undefined
  readonly key: string
  readonly id: string
}

/** One row change → its data events: an UPDATE that moves the primary key is a delete then a create, as in Debezium. */
const dataEventsOf = (
  change: RowChange,
  i: number,
  base: string,
  ctx: EventContext,
  shape: TableShape | undefined,
  cols: Columns,
  newKeySkipped: boolean
): Array<DataEvent> => {
  const p = ctx.topicPrefix
  const db = change.database
  if (change.op === "I") {
    return [{ op: "c", before: undefined, after: change.after, key: keyJson(p, db, change.table, keyOf(change, shape, change.after!, cols)), id: `${base}:${i}` }]
  }
  if (change.op === "D") {
    return [{ op: "d", before: change.before, after: undefined, key: keyJson(p, db, change.table, keyOf(change, shape, change.before!, cols)), id: `${base}:${i}` }]
  }
  const oldKey = keyOf(change, shape, change.before!, cols)
  const newKey = keyOf(change, shape, change.after!, cols)
  if (shape !== undefined && !sameKey(oldKey, newKey)) {
    const deleted: DataEvent = { op: "d", before: change.before, after: undefined, key: keyJson(p, db, change.table, oldKey), id: `${base}:${i}d` }
    if (newKeySkipped) return [deleted]
    return [deleted, { op: "c", before: undefined, after: change.after, key: keyJson(p, db, change.table, newKey), id: `${base}:${i}c` }]
  }
  return [{ op: "u", before: change.before, after: change.after, key: keyJson(p, db, change.table, oldKey), id: `${base}:${i}` }]
}

/**
 * Every event of one commit-log entry, in publishing order: its DDL (schema changes), then, when
 * at least one row change passes the filter, BEGIN, the data events (each delete followed by its
 * tombstone) and END with the event counts.
 */
export const eventsOf = (entry: LogEntry, ctx: EventContext): Array<ChangeEvent> => {
  const { txn } = entry
  const db = txn.database
  const p = ctx.topicPrefix
  const base = eventIdBase(txn)
  const out: Array<ChangeEvent> = []
  if (!ctx.filter.database(db)) return out

  entry.ddl.forEach((ddl, j) => {
    if (ddl.table !== undefined && !ctx.filter.table(db, ddl.table)) return
    out.push({
      kind: "ddl",
      topic: schemaChangeTopic(p),
      key: toJson({
        schema: { type: "struct", name: "io.marmot.connector.SchemaChangeKey", optional: false, fields: [field("databaseName", "string", false)] },
        payload: { databaseName: db }
      }),
      value: toJson({
        schema: {
          type: "struct",
          name: "io.marmot.connector.SchemaChangeValue",
          optional: false,
          fields: [
            sourceSchema,
            field("ts_ms", "int64", false),
            field("databaseName", "string", false),
            field("schemaName", "string", true),
            field("ddl", "string", false),
            field("tableChanges", "array", false, { items: { type: "struct", optional: false, fields: [] } })
          ]
        },
        payload: { source: source(entry, ctx, ddl.table ?? null), ts_ms: ctx.nowMs, databaseName: db, schemaName: null, ddl: ddl.statement, tableChanges: [] }
      }),
      id: `${base}:ddl${j}`
    })
  })

  const data: Array<ChangeEvent> = []
  const perTable = new Map<string, number>()
  let total = 0
  txn.changes.forEach((change, i) => {
    if (entry.skipped.has(i) || !ctx.filter.table(db, change.table)) return
    const shape = ctx.shapeOf(db, change.table)
    const cols = columnsOf(change, shape)
    const collection = `${db}.${change.table}`
    for (const ev of dataEventsOf(change, i, base, ctx, shape, cols, entry.skippedNewKey.has(i))) {
      total++
      const order = (perTable.get(collection) ?? 0) + 1
      perTable.set(collection, order)
      const topic = dataTopic(p, db, change.table)
      data.push({
        kind: "data",
        topic,
        key: ev.key,
        value: withSchema(envelopeSchemaJson(p, db, change.table, cols), {
          before: rowObject(cols, ev.before),
          after: rowObject(cols, ev.after),
          source: source(entry, ctx, change.table),
          op: ev.op,
          ts_ms: ctx.nowMs,
          transaction: { id: txn.txnId, total_order: total, data_collection_order: order }
        }),
        id: ev.id
      })
      if (ev.op === "d") data.push({ kind: "tombstone", topic, key: ev.key, value: null, id: `${ev.id}t` })
    }
  })
  if (total === 0) return out

  const txKey = withSchema(txKeySchemaJson, { id: txn.txnId })
  const txEvent = (status: "BEGIN" | "END"): ChangeEvent => ({
    kind: status === "BEGIN" ? "begin" : "end",
    topic: transactionTopic(p),
    key: txKey,
    value: withSchema(txValueSchemaJson, {
      status,
      id: txn.txnId,
      event_count: status === "END" ? total : null,
      data_collections: status === "END"
        ? [...perTable].map(([collection, n]) => ({ data_collection: collection, event_count: n }))
        : null,
      ts_ms: txn.commitHlc.wallMs
    }),
    id: `${base}:${status === "BEGIN" ? "begin" : "end"}`
  })
  out.push(txEvent("BEGIN"), ...data, txEvent("END"))
  return out
}

/** What a snapshot read needs to know besides the row (see Snapshot.ts). */
export interface SnapshotContext {
  readonly topicPrefix: string
  readonly nodeId: number
  /** When the snapshot started: source.ts_ms of every read. */
  readonly startedMs: number
  readonly nowMs: number
  /** The log position the snapshot is consistent with (source.lsn, part of the ids). */
  readonly position: bigint
}

/**
 * One row of a snapshot as a Debezium read (op "r", no before, no transaction block):
 * source.snapshot is "true", or "last" on the snapshot's final row, as Debezium marks them.
 */
export const snapshotEventOf = (database: string, row: SnapshotRow, ctx: SnapshotContext, last: boolean): ChangeEvent => {
  const p = ctx.topicPrefix
  const cols: Columns = {
    names: row.columns,
    types: row.columns.map((c, i) => row.shape.columns.get(c) ?? { type: fieldTypeOfValue(row.values[i] ?? null), optional: true })
  }
  const key = row.shape.primaryKey.map((c): [string, SqlValue, FieldType] => {
    const i = row.columns.indexOf(c)
    return [c, row.values[i] ?? null, cols.types[i]!.type]
  })
  const source: Schema = {
    version: connectorVersion,
    connector: "marmot",
    name: p,
    ts_ms: ctx.startedMs,
    snapshot: last ? "last" : "true",
    db: database,
    table: row.table,
    txId: null,
    lsn: ctx.position,
    commit_node: null,
    commit_logical: null,
    node_id: ctx.nodeId
  }
  return {
    kind: "data",
    topic: dataTopic(p, database, row.table),
    key: keyJson(p, database, row.table, key),
    value: withSchema(envelopeSchemaJson(p, database, row.table, cols), {
      before: null,
      after: rowObject(cols, row.values),
      source,
      op: "r",
      ts_ms: ctx.nowMs,
      transaction: null
    }),
    id: `${database}:snapshot-${hex(ctx.position, 16)}:${row.table}:${row.index}`
  }
}

const txKeySchemaJson = toJson({ type: "struct", name: "io.marmot.connector.TransactionMetadataKey", optional: false, fields: [field("id", "string", false)] })

const txValueSchemaJson = toJson({
  type: "struct",
  name: "io.marmot.connector.TransactionMetadataValue",
  optional: false,
  fields: [
    field("status", "string", false),
    field("id", "string", false),
    field("event_count", "int64", true),
    field("data_collections", "array", true, {
      items: { type: "struct", optional: false, fields: [field("data_collection", "string", false), field("event_count", "int64", false)] }
    }),
    field("ts_ms", "int64", false)
  ]
})
