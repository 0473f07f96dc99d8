/**
 * Membership gossip on the wire (SWIM-style, after Marmot's `NodeState`/`GossipRequest`/`JoinRequest`).
 *
 * Every message carries whole member records; a receiver merges them with the rules in
 * `src/membership/Swim.ts`. Like every peer message, these may only grow by optional fields.
 */
import { Schema } from "effect"
import { NodeId } from "./NodeId.ts"

/** A node's identity in the cluster: the shared branded `NodeId` (NodeId.ts), re-exported. */
export { NodeId, nodeId } from "./NodeId.ts"

/**
 * * ALIVE: participates. SUSPECT: no news for `suspect_timeout_ms`, still a member.
 * * DEAD: no news for `dead_timeout_ms`; not a gossip target (but probed), still in the quorum denominator.
 * * JOINING: catching up; gets gossip but no replication.
 * * LEAVING: announced a graceful stop; still counted until an operator removes it.
 * * REMOVED: removed by an operator; not counted, and its gossip is ignored until it is allowed again.
 */
export const MemberStatus = Schema.Literal("ALIVE", "SUSPECT", "DEAD", "JOINING", "LEAVING", "REMOVED")
export type MemberStatus = typeof MemberStatus.Type

const Count = Schema.Int.pipe(Schema.nonNegative())

export class MemberState extends Schema.Class<MemberState>("marmot/MemberState")({
  nodeId: NodeId,
  /** `host:port` of the member's peer (RPC) port. */
  address: Schema.String,
  status: MemberStatus,
  /**
   * Bumped only by the member itself (refuting a suspicion, leaving, restarting) or by an operator
   * (remove/allow). A record with a higher incarnation replaces any record with a lower one.
   */
  incarnation: Count,
  /**
   * Bumped by the member on every gossip round. A record whose (incarnation, heartbeat) moved forward
   * is fresh news from a live member; a record that is only repeated by peers is not (see Swim.ts).
   */
  heartbeat: Count,
  /** Free-form facts about the member (e.g. schema versions per database). */
  meta: Schema.Record({ key: Schema.String, value: Schema.String })
}) {}

export class GossipRequest extends Schema.Class<GossipRequest>("marmot/GossipRequest")({
  from: NodeId,
  members: Schema.Array(MemberState)
}) {}

export class GossipResponse extends Schema.Class<GossipResponse>("marmot/GossipResponse")({
  members: Schema.Array(MemberState)
}) {}

export class JoinRequest extends Schema.Class<JoinRequest>("marmot/JoinRequest")({
  member: MemberState
}) {}

export class JoinResponse extends Schema.Class<JoinResponse>("marmot/JoinResponse")({
  members: Schema.Array(MemberState)
}) {}

export class PingRequest extends Schema.Class<PingRequest>("marmot/PingRequest")({
  from: NodeId
}) {}

export class PingResponse extends Schema.Class<PingResponse>("marmot/PingResponse")({
  nodeId: NodeId,
  status: MemberStatus,
  incarnation: Count
}) {}
