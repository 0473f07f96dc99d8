/**
 * The RPC every cluster node serves for read-only replicas, next to gossip and replication and
 * behind the same cluster auth: which nodes the cluster has. A replica pulls the data itself with
 * the replication group's `PullLog`.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Effect } from "effect"
import { ClusterNodesResponse } from "../../proto-schemas/src/Replica.ts"
import { Membership } from "../membership/Membership.ts"
import { ClusterAuth } from "../network/ClusterAuth.ts"

export class ReplicaRpcs extends RpcGroup.make(
  Rpc.make("ClusterNodes", { success: ClusterNodesResponse })
).middleware(ClusterAuth) {}

/** A cluster node's answers: its membership as it knows it. */
export const layerHandlers = ReplicaRpcs.toLayer(Effect.gen(function*() {
  const membership = yield* Membership
  return ReplicaRpcs.of({
    ClusterNodes: () => Effect.map(membership.members, (members) => new ClusterNodesResponse({ members }))
  })
}))
