/**
 * Errors that cross the peer protocol. A participant may fail an RPC with one of these and the
 * caller decodes it back into the same class, so each is a `Schema.TaggedError` and, like every
 * other message, may only grow by optional fields (see ../DESIGN.md).
 *
 * Process-local errors stay `Data.TaggedError` in their subsystem.
 */
import { Schema } from "effect"
import { NodeId } from "./NodeId.ts"

/** A peer could not be reached (transport failure, timeout, connection refused). */
export class PeerUnavailable extends Schema.TaggedError<PeerUnavailable>()("PeerUnavailable", {
  nodeId: NodeId
}) {
  override get message(): string {
    return `peer ${this.nodeId} is unavailable`
  }
}

/**
 * A message carried an HLC whose wall time is more than `maxDriftMs` ahead of the receiver's
 * physical clock. The receiver refuses it instead of dragging its clock (and, through it, every
 * later LWW stamp in the cluster) into the future.
 */
export class ClockSkewError extends Schema.TaggedError<ClockSkewError>()("ClockSkewError", {
  /** How far the remote wall time is ahead of the receiver's physical clock, in ms. */
  driftMs: Schema.Finite,
  /** The receiver's limit. */
  maxDriftMs: Schema.Finite,
  /** The node whose clock is ahead (the HLC's node id). */
  nodeId: NodeId
}) {
  override get message(): string {
    return `clock of node ${this.nodeId} is ${this.driftMs} ms ahead (limit ${this.maxDriftMs} ms)`
  }
}

/** The receiver's schema version for `database` differs from the one the sender requires. */
export class SchemaMismatch extends Schema.TaggedError<SchemaMismatch>()("SchemaMismatch", {
  database: Schema.String,
  /** The version the sender requires. */
  expected: Schema.NonNegativeInt,
  /** The receiver's version. */
  actual: Schema.NonNegativeInt
}) {
  override get message(): string {
    return `schema of database ${this.database} is at version ${this.actual}, expected ${this.expected}`
  }
}

/** The peer did not present valid cluster credentials. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {}) {
  override get message(): string {
    return "unauthorized peer"
  }
}
