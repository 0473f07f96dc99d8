/**
 * Two-phase commit messages (marmot research §4.2) and the committed-transaction record.
 *
 * PREPARE carries the row images to every alive node; each participant votes. COMMIT carries only
 * the decision and the commit timestamp (the participant already holds the images from PREPARE);
 * ABORT frees the intents. A node that committed keeps a `CommittedTransaction` in its commit log,
 * and anti-entropy ships those records to nodes that missed them.
 */
import { Schema } from "effect"
import { fromStamp, Hlc, maxWallMs, toStamp } from "./Hlc.ts"
import { NodeId } from "./NodeId.ts"
import { KeyBytes, RowChange } from "./RowChange.ts"

/**
 * ONE: the coordinator alone must prepare and commit. QUORUM: a majority of the membership
 * (dead members count, removed ones do not). ALL: every member.
 */
export const ConsistencyLevel = Schema.Literal("ONE", "QUORUM", "ALL")
export type ConsistencyLevel = typeof ConsistencyLevel.Type

/**
 * A transaction id: the coordinator's node id and the HLC it started at. Any string is accepted
 * on the wire (so the format may change); `txnIdOf` makes the current one.
 */
export const TxnId = Schema.String.annotations({ identifier: "TxnId" })
export type TxnId = typeof TxnId.Type

const hex = (n: bigint | number, width: number): string => n.toString(16).padStart(width, "0")

/**
 * The id of a transaction a coordinator starts at `start` (an HLC of its own, so `start.nodeId`
 * is the coordinator): 16 hex digits of `toStamp(start)`, "-", 8 hex digits of the node id. Unique
 * as long as each node's HLC never repeats, and string order is `Hlc.compare` order.
 */
export const txnIdOf = (start: Hlc): TxnId => `${hex(toStamp(start), 16)}-${hex(start.nodeId, 8)}`

const txnIdPattern = /^([0-9a-f]{16})-([0-9a-f]{8})$/

/** The start HLC inside a `txnIdOf` id, or undefined for any other string. */
export const parseTxnId = (id: string): Hlc | undefined => {
  const m = txnIdPattern.exec(id)
  if (m === null) return undefined
  const h = fromStamp(BigInt("0x" + m[1]!), Number.parseInt(m[2]!, 16))
  return h.wallMs <= maxWallMs ? h : undefined
}

const SchemaVersion = Schema.NonNegativeInt

/**
 * Schema changes travel with a transaction: SQLite statements run in order before its row changes
 * (`ddl`), or the creation or removal of the whole database file (`databaseOp`).
 */
const schemaFields = {
  ddl: Schema.optional(Schema.Array(Schema.String)),
  databaseOp: Schema.optional(Schema.Literal("create", "drop"))
}

/** Phase 1: the coordinator asks a participant to hold intents on `changes`' keys. */
export class PrepareRequest extends Schema.Class<PrepareRequest>("PrepareRequest")({
  txnId: TxnId,
  coordinator: NodeId,
  /** The coordinator's HLC when the transaction started; participants `observe` it. */
  startHlc: Hlc,
  database: Schema.String,
  /**
   * The database's schema version the transaction was built against (src/replication/SchemaVersion.ts):
   * a participant on another version refuses. Absent: not checked.
   */
  schemaVersion: Schema.optional(SchemaVersion),
  changes: Schema.Array(RowChange),
  consistency: ConsistencyLevel,
  /**
   * Keys reserved with no row change: the table key of each table a DDL statement changes, the
   * database key of CREATE/DROP DATABASE, so two schema changes of one object conflict.
   */
  locks: Schema.optional(Schema.Array(KeyBytes)),
  ...schemaFields
}) {}

/** The participant holds intents on every key and has stored the images. */
export class Prepared extends Schema.TaggedClass<Prepared>()("Prepared", {
  /** The participant's HLC after observing the request; merged into the commit timestamp. */
  hlc: Hlc
}) {}

/**
 * A key is held by another live transaction ("intent"), or its stored version is later than the
 * change's `baseStamp` ("stale"). The coordinator aborts and the client gets 1213.
 */
export class Conflict extends Schema.TaggedClass<Conflict>()("Conflict", {
  key: KeyBytes,
  /** The transaction holding the intent ("intent"), or the one that wrote the newer version if known ("stale"). */
  holder: TxnId,
  reason: Schema.Literal("intent", "stale", "schema")
}) {}

/** A deterministic refusal that the client should see as this MySQL error. */
export class Rejected extends Schema.TaggedClass<Rejected>()("Rejected", {
  code: Schema.Int,
  sqlState: Schema.String,
  message: Schema.String
}) {}

export const PrepareVote = Schema.Union(Prepared, Conflict, Rejected)
export type PrepareVote = typeof PrepareVote.Type

/** Phase 2: apply the prepared changes at `commitHlc` (the same on every node). */
export class CommitRequest extends Schema.Class<CommitRequest>("CommitRequest")({
  txnId: TxnId,
  commitHlc: Hlc,
  /** The transaction's database, so a participant that already applied it can say so. */
  database: Schema.optional(Schema.String)
}) {}

/** Drop the transaction's intents and images. */
export class AbortRequest extends Schema.Class<AbortRequest>("AbortRequest")({
  txnId: TxnId
}) {}

/** A participant's answer to COMMIT or ABORT: its HLC after the step. */
export class Ack extends Schema.Class<Ack>("Ack")({
  hlc: Hlc
}) {}

/** A committed transaction as a node's commit log stores it and anti-entropy ships it. */
export class CommittedTransaction extends Schema.Class<CommittedTransaction>("CommittedTransaction")({
  txnId: TxnId,
  commitHlc: Hlc,
  coordinator: NodeId,
  database: Schema.String,
  changes: Schema.Array(RowChange),
  /** The schema version the changes were captured against (as in PREPARE). */
  schemaVersion: SchemaVersion,
  /** The position in the shipping node's commit log, when it comes from one. */
  seq: Schema.optional(Schema.BigInt),
  ...schemaFields
}) {}
