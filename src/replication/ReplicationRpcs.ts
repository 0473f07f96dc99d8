/**
 * The replication RPCs every node serves next to gossip, behind cluster auth: the commit-log pull of
 * anti-entropy and the snapshot stream. (The two phases of a write travel on the peer lane:
 * src/network/PeerLane.ts, ExchangeCodec.ts.)
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { PullLogRequest, PullLogResponse } from "../../proto-schemas/src/Replication.ts"
import { SnapshotChunk, SnapshotRequest, SnapshotUnavailable } from "../../proto-schemas/src/Snapshot.ts"
import { ClusterAuth } from "../network/ClusterAuth.ts"

export class ReplicationRpcs extends RpcGroup.make(
  Rpc.make("PullLog", { payload: PullLogRequest, success: PullLogResponse }),
  Rpc.make("Snapshot", { payload: SnapshotRequest, success: SnapshotChunk, error: SnapshotUnavailable, stream: true })
).middleware(ClusterAuth) {}
