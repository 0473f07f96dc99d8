/**
 * The RPCs every cluster node serves for read-only replicas, next to gossip and replication and
 * behind the same cluster auth: which nodes the cluster has, and (write_mode = "forward") a write a
 * replica's client sent, coordinated here like one of this node's own. A replica pulls the data
 * itself with the replication group's `PullLog`.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Effect } from "effect"
import {
  ClusterNodesResponse,
  ForwardRefused,
  ForwardWriteRequest,
  ForwardWriteResponse
} from "../../proto-schemas/src/Replica.ts"
import { Membership } from "../membership/Membership.ts"
import { ClusterAuth } from "../network/ClusterAuth.ts"
import { writeOutcome } from "../replication/Replicator.ts"
import { WriteCoordinator } from "../replication/WriteCoordinator.ts"

export class ReplicaRpcs extends RpcGroup.make(
  Rpc.make("ClusterNodes", { success: ClusterNodesResponse }),
  Rpc.make("ForwardWrite", { payload: ForwardWriteRequest, success: ForwardWriteResponse, error: ForwardRefused })
).middleware(ClusterAuth) {}

/** A cluster node's answers: its membership as it knows it; a forwarded write through its coordinator. */
export const layerHandlers = ReplicaRpcs.toLayer(Effect.gen(function*() {
  const membership = yield* Membership
  const coordinator = yield* WriteCoordinator
  return ReplicaRpcs.of({
    ClusterNodes: () => Effect.map(membership.members, (members) => new ClusterNodesResponse({ members })),
    ForwardWrite: (request) =>
      Effect.flatMap(writeOutcome(coordinator, request), (outcome) =>
        "txnId" in outcome
          ? Effect.succeed(new ForwardWriteResponse({ txnId: outcome.txnId }))
          : Effect.fail(new ForwardRefused(outcome)))
  })
}))
