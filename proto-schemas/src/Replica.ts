/**
 * What a read-only replica asks a cluster node besides the commit-log pull: the cluster's members,
 * so it can follow another node when its source dies. Like every peer message, these may only grow
 * by optional fields.
 */
import { Schema } from "effect"
import { MemberState } from "./Gossip.ts"

export class ClusterNodesResponse extends Schema.Class<ClusterNodesResponse>("marmot/ClusterNodesResponse")({
  /** Every member the node knows, itself included, with its gossip status. */
  members: Schema.Array(MemberState)
}) {}
