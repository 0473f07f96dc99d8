/**
 * The replication RPCs every node serves next to gossip, behind cluster auth: the two phases of a
 * write (Prepare, Commit, Abort), the commit-log pull of anti-entropy and the snapshot stream.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { ClockSkewError } from "../../proto-schemas/src/Errors.ts"
import { ApplyFailed, NotPrepared, PullLogRequest, PullLogResponse } from "../../proto-schemas/src/Replication.ts"
import { SnapshotChunk, SnapshotRequest, SnapshotUnavailable } from "../../proto-schemas/src/Snapshot.ts"
import { AbortRequest, Ack, CommitRequest, PrepareRequest, PrepareVote } from "../../proto-schemas/src/Transaction.ts"
import { ClusterAuth } from "../network/ClusterAuth.ts"

export class ReplicationRpcs extends RpcGroup.make(
  Rpc.make("Prepare", { payload: PrepareRequest, success: PrepareVote, error: ClockSkewError }),
  Rpc.make("Commit", { payload: CommitRequest, success: Ack, error: Schema.Union(NotPrepared, ApplyFailed, ClockSkewError) }),
  Rpc.make("Abort", { payload: AbortRequest, success: Ack }),
  Rpc.make("PullLog", { payload: PullLogRequest, success: PullLogResponse }),
  Rpc.make("Snapshot", { payload: SnapshotRequest, success: SnapshotChunk, error: SnapshotUnavailable, stream: true })
).middleware(ClusterAuth) {}
