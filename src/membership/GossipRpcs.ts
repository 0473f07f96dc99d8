/**
 * The membership RPCs every node serves (Marmot's `Gossip`, `Join`, `Ping`), behind cluster auth.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import {
  GossipRequest,
  GossipResponse,
  JoinRequest,
  JoinResponse,
  PingRequest,
  PingResponse
} from "../../proto-schemas/src/Gossip.ts"
import { ClusterAuth } from "../network/ClusterAuth.ts"

export class GossipRpcs extends RpcGroup.make(
  /** Push our full member list, get the peer's back; both sides merge. */
  Rpc.make("Gossip", { payload: GossipRequest, success: GossipResponse }),
  /** A starting node announces itself to a seed and gets the seed's member list. */
  Rpc.make("Join", { payload: JoinRequest, success: JoinResponse }),
  /** Liveness and identity of the node at an address. */
  Rpc.make("Ping", { payload: PingRequest, success: PingResponse })
).middleware(ClusterAuth) {}
