/**
 * Node identity on the wire. A node id is an unsigned 32-bit integer chosen by the operator
 * (`node_id`). It is the last tie-break of the HLC order, so two live nodes must never share one.
 * Branded so a node id is never confused with a count or a port; the brand is the one Gossip.ts
 * uses, so ids from either module are the same type.
 */
import { Schema } from "effect"

export const maxNodeId = 0xffff_ffff

export const NodeId = Schema.Int.pipe(
  Schema.between(0, maxNodeId),
  Schema.brand("marmot/NodeId"),
  Schema.annotations({ identifier: "NodeId", description: "unsigned 32-bit node id" })
)
export type NodeId = typeof NodeId.Type

/** Brands a number as a node id, checking its range (throws on a bad id: a programming error). */
export const nodeId = (n: number): NodeId => NodeId.make(n)
