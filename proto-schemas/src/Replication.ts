/**
 * The replication RPCs' own messages beyond the 2PC records in Transaction.ts: the commit-log pull
 * that anti-entropy uses, and the participant's refusal of a COMMIT it holds nothing for.
 */
import { Schema } from "effect"
import { NodeId } from "./NodeId.ts"
import { CommittedTransaction, TxnId } from "./Transaction.ts"

/** COMMIT for a transaction the participant never prepared, or whose intents expired. */
export class NotPrepared extends Schema.TaggedError<NotPrepared>()("NotPrepared", {
  txnId: TxnId
}) {
  override get message(): string {
    return `transaction ${this.txnId} is not prepared here`
  }
}

/** A participant could not apply a transaction it had voted for (its SQLite refused the change). */
export class ApplyFailed extends Schema.TaggedError<ApplyFailed>()("ApplyFailed", {
  txnId: TxnId,
  reason: Schema.String
}) {
  override get message(): string {
    return `transaction ${this.txnId} could not be applied: ${this.reason}`
  }
}

/** Where the caller stands in one database of the peer's commit log. */
export const LogCursor = Schema.Struct({ database: Schema.String, afterSeq: Schema.BigInt })
export type LogCursor = typeof LogCursor.Type

/** The caller's cursor in `database` is below what GC kept of the log. */
export const LogGap = Schema.Struct({ database: Schema.String, horizon: Schema.BigInt })
export type LogGap = typeof LogGap.Type

/** Entries after each cursor (databases without a cursor start at 0). */
export class PullLogRequest extends Schema.Class<PullLogRequest>("marmot/PullLogRequest")({
  from: NodeId,
  cursors: Schema.Array(LogCursor),
  /** At most this many entries in the answer. */
  limit: Schema.Int.pipe(Schema.between(1, 10_000))
}) {}

export class PullLogResponse extends Schema.Class<PullLogResponse>("marmot/PullLogResponse")({
  /** Every database the peer has. */
  databases: Schema.Array(Schema.String),
  /** In log order per database, each with its `seq`. */
  entries: Schema.Array(CommittedTransaction),
  /** True when the limit cut the answer short. */
  more: Schema.Boolean,
  /** The last position of each database's log, so the caller knows how far behind it is. */
  heads: Schema.optional(Schema.Array(Schema.Struct({ database: Schema.String, seq: Schema.BigInt }))),
  /** Databases whose cursor is below the GC horizon (entries up to `horizon` are gone): only a snapshot helps. */
  gaps: Schema.optional(Schema.Array(LogGap))
}) {}
