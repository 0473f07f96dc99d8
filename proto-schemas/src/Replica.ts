/**
 * What a read-only replica asks a cluster node besides the commit-log pull: the cluster's members,
 * so it can follow another node when its source dies, and (write_mode = "forward") a write. Like every peer message, these may only grow
 * by optional fields.
 */
import { Schema } from "effect"
import { MemberState } from "./Gossip.ts"
import { KeyBytes, RowChange } from "./RowChange.ts"
import { ConsistencyLevel } from "./Transaction.ts"

export class ClusterNodesResponse extends Schema.Class<ClusterNodesResponse>("marmot/ClusterNodesResponse")({
  /** Every member the node knows, itself included, with its gossip status. */
  members: Schema.Array(MemberState)
}) {}

/** A write a replica forwards to a cluster node (`write_mode = "forward"`): what its worker captured. */
export class ForwardWriteRequest extends Schema.Class<ForwardWriteRequest>("marmot/ForwardWriteRequest")({
  database: Schema.String,
  changes: Schema.Array(RowChange),
  ddl: Schema.optional(Schema.Array(Schema.String)),
  databaseOp: Schema.optional(Schema.Literal("create", "drop")),
  locks: Schema.optional(Schema.Array(KeyBytes)),
  consistency: ConsistencyLevel
}) {}

/** The forwarded write committed on the cluster as `txnId` (the replica waits for it in its source's log). */
export class ForwardWriteResponse extends Schema.Class<ForwardWriteResponse>("marmot/ForwardWriteResponse")({
  txnId: Schema.String
}) {}

/** The cluster node refused or failed the forwarded write: the MySQL error the replica's client gets. */
export class ForwardRefused extends Schema.TaggedError<ForwardRefused>()("ForwardRefused", {
  code: Schema.Int,
  sqlState: Schema.String,
  message: Schema.String
}) {}
