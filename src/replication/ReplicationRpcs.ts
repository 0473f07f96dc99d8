/**
 * The replication RPCs every node serves next to gossip, behind cluster auth: the commit-log pull of
 * anti-entropy and snapshot reads. (The two phases of a write travel on the peer lane:
 * src/network/PeerLane.ts, ExchangeCodec.ts.)
 */
import { Rpc, RpcGroup } from "@effect/rpc"
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

export class ReplicationRpcs extends RpcGroup.make(
  Rpc.make("PullLog", { payload: PullLogRequest, success: PullLogResponse }),
  Rpc.make("SnapshotOpen", { payload: SnapshotRequest, success: SnapshotOffer, error: SnapshotUnavailable }),
  Rpc.make("SnapshotRead", { payload: SnapshotReadRequest, success: SnapshotBytes, error: SnapshotUnavailable }),
  Rpc.make("SnapshotClose", { payload: SnapshotCloseRequest })
).middleware(ClusterAuth) {}
