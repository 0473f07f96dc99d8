/**
 * The replication RPCs every node serves next to gossip, behind cluster auth: the two phases of a
 * write (Prepare, Commit, Abort; the coordinator batches them per peer in Exchange), the
 * commit-log pull of anti-entropy and the snapshot stream.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { ClockSkewError } from "../../proto-schemas/src/Errors.ts"
import { ExchangeRequest, ExchangeResponse } from "../../proto-schemas/src/Exchange.ts"
import { ApplyFailed, NotPrepared, PullLogRequest, PullLogResponse } from "../../proto-schemas/src/Replication.ts"
import { SnapshotChunk, SnapshotRequest, SnapshotUnavailable } from "../../proto-schemas/src/Snapshot.ts"
import { AbortRequest, Ack, CommitRequest, PrepareRequest, PrepareVote } from "../../proto-schemas/src/Transaction.ts"
import { ClusterAuth } from "../network/ClusterAuth.ts"

/**
 * The payload as is: `RpcClient` passes a payload through its schema's `make` when it has one (a
 * Schema.Class does), which validates the whole request again on every call. Exchange requests are
 * built from validated steps; they are still checked when encoded and decoded.
 */
const unvalidatedOnSend = <A, I, R>(schema: Schema.Schema<A, I, R>) => Schema.suspend(() => schema)

export class ReplicationRpcs extends RpcGroup.make(
  Rpc.make("Prepare", { payload: PrepareRequest, success: PrepareVote, error: ClockSkewError }),
  Rpc.make("Commit", { payload: CommitRequest, success: Ack, error: Schema.Union(NotPrepared, ApplyFailed, ClockSkewError) }),
  Rpc.make("Abort", { payload: AbortRequest, success: Ack }),
  Rpc.make("Exchange", { payload: unvalidatedOnSend(ExchangeRequest), success: ExchangeResponse }),
  Rpc.make("PullLog", { payload: PullLogRequest, success: PullLogResponse }),
  Rpc.make("Snapshot", { payload: SnapshotRequest, success: SnapshotChunk, error: SnapshotUnavailable, stream: true })
).middleware(ClusterAuth) {}
