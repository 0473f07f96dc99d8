/**
 * The replication RPCs every node serves next to gossip, behind cluster auth: the two phases of a
 * write (PREPARE, COMMIT, ABORT steps, batched per peer in Exchange), the commit-log pull of
 * anti-entropy and snapshot reads.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { ExchangeRequest, ExchangeResponse } from "../../proto-schemas/src/Exchange.ts"
import { PullLogRequest, PullLogResponse } from "../../proto-schemas/src/Replication.ts"
import {
  SnapshotBytes,
  SnapshotCloseRequest,
  SnapshotOffer,
  SnapshotReadRequest,
  SnapshotRequest,
  SnapshotUnavailable
} from "../../proto-schemas/src/Snapshot.ts"
import { ClusterAuth } from "../network/ClusterAuth.ts"

/**
 * The payload as is: `RpcClient` passes a payload through its schema's `make` when it has one (a
 * Schema.Class does), which validates the whole request again on every call. Exchange requests are
 * built from validated steps; they are still checked when encoded and decoded.
 */
const unvalidatedOnSend = <A, I, R>(schema: Schema.Schema<A, I, R>) => Schema.suspend(() => schema)

export class ReplicationRpcs extends RpcGroup.make(
  Rpc.make("Exchange", { payload: unvalidatedOnSend(ExchangeRequest), success: ExchangeResponse }),
  Rpc.make("PullLog", { payload: PullLogRequest, success: PullLogResponse }),
  Rpc.make("SnapshotOpen", { payload: SnapshotRequest, success: SnapshotOffer, error: SnapshotUnavailable }),
  Rpc.make("SnapshotRead", { payload: SnapshotReadRequest, success: SnapshotBytes, error: SnapshotUnavailable }),
  Rpc.make("SnapshotClose", { payload: SnapshotCloseRequest })
).middleware(ClusterAuth) {}
