/**
 * Hybrid logical clock timestamps (marmot research §3): a wall time in ms since the Unix epoch, a
 * logical counter for events within one ms, and the node id as the last tie-break. The order
 * (wall, then logical, then the higher node id) is the cluster's last-write-wins order.
 *
 * Everything here is pure and synchronous: the clock service (src/clock/HlcClock.ts) owns the
 * state and reads the physical time; these functions only do the arithmetic.
 */
import { Either, Order, Schema } from "effect"
import { ClockSkewError } from "./Errors.ts"
import { NodeId } from "./NodeId.ts"

/** The logical counter's ceiling: it has 16 bits in a stamp. */
export const maxLogical = 0xffff

/**
 * The highest wall time a stamp can hold: `wallMs << 16` must stay a positive signed 64-bit
 * integer (SQLite INTEGER). 2^47 ms is about 4,400 years after 1970.
 */
export const maxWallMs = 2 ** 47 - 1

export class Hlc extends Schema.Class<Hlc>("Hlc")({
  /** Milliseconds since the Unix epoch (an integer). */
  wallMs: Schema.Int.pipe(Schema.between(0, maxWallMs)),
  /** Events within the same ms, 0..65535. */
  logical: Schema.Int.pipe(Schema.between(0, maxLogical)),
  /** The node that issued the timestamp. */
  nodeId: NodeId
}) {}

/**
 * Builds an Hlc without validating it (nor branding-checking `nodeId`). For trusted arithmetic
 * results on hot paths; values from outside the process go through `Schema.decodeUnknown(Hlc)`.
 */
export const make = (wallMs: number, logical: number, nodeId: number): Hlc =>
  new Hlc({ wallMs, logical, nodeId: nodeId as NodeId }, true)

/** The timestamp before every other timestamp of `nodeId`. */
export const zero = (nodeId: number): Hlc => make(0, 0, nodeId)

/** Total order: wall time, then logical counter, then node id (the higher node id wins a tie). */
export const compare = (a: Hlc, b: Hlc): -1 | 0 | 1 =>
  a.wallMs !== b.wallMs
    ? (a.wallMs < b.wallMs ? -1 : 1)
    : a.logical !== b.logical
    ? (a.logical < b.logical ? -1 : 1)
    : a.nodeId !== b.nodeId
    ? (a.nodeId < b.nodeId ? -1 : 1)
    : 0

/** `compare` as an `Order`, for `Array.sort`, `Order.max` and friends. */
export const order: Order.Order<Hlc> = compare

/** The later of two timestamps (the first one when they are equal). */
export const max = (a: Hlc, b: Hlc): Hlc => compare(a, b) >= 0 ? a : b

/** Whether `a` is strictly later than `b`. */
export const isAfter = (a: Hlc, b: Hlc): boolean => compare(a, b) > 0

/** Applies the overflow rule: a counter past 65535 moves the wall one ms on instead of waiting. */
const settle = (wallMs: number, logical: number, nodeId: number): Hlc =>
  logical > maxLogical ? make(wallMs + 1, 0, nodeId) : make(wallMs, logical, nodeId)

/**
 * The next local timestamp (a local event or a send). Wall = max(previous wall, physical); the
 * counter restarts at 0 when the wall moved forward and otherwise counts on. When the counter
 * would pass 65535 the wall is advanced by 1 ms and the counter restarts: unlike Marmot, which
 * spin-sleeps until the next ms, this never waits, and the wall runs at most a little ahead of
 * physical time under more than 65,536 events per ms (it falls back in line when physical time
 * catches up).
 *
 * The result is strictly later than `prev` for any `physicalMs`, including one that went back.
 */
export const tick = (prev: Hlc, physicalMs: number, nodeId: number): Hlc =>
  physicalMs > prev.wallMs ? make(physicalMs, 0, nodeId) : settle(prev.wallMs, prev.logical + 1, nodeId)

/**
 * Merges a timestamp received from a peer into the local one. Fails with `ClockSkewError` when the
 * remote wall time is more than `maxDriftMs` ahead of both `physicalMs` and the local timestamp (the
 * local clock is not moved): a node whose wall clock stepped back keeps accepting peers as close to
 * the time it had already reached as it would have before the step.
 * Otherwise wall = max(local, remote, physical) and the counter is one past the largest counter
 * seen at that wall (0 when physical time alone is ahead), so the result is strictly later than
 * both `local` and `remote`. The result carries `local.nodeId`.
 */
export const receive = (
  local: Hlc,
  remote: Hlc,
  physicalMs: number,
  maxDriftMs: number
): Either.Either<Hlc, ClockSkewError> => {
  const driftMs = remote.wallMs - Math.max(physicalMs, local.wallMs)
  if (driftMs > maxDriftMs) {
    return Either.left(new ClockSkewError({ driftMs, maxDriftMs, nodeId: remote.nodeId }, true))
  }
  const nodeId = local.nodeId
  if (physicalMs > local.wallMs && physicalMs > remote.wallMs) return Either.right(make(physicalMs, 0, nodeId))
  if (local.wallMs === remote.wallMs) {
    return Either.right(settle(local.wallMs, Math.max(local.logical, remote.logical) + 1, nodeId))
  }
  return Either.right(
    local.wallMs > remote.wallMs
      ? settle(local.wallMs, local.logical + 1, nodeId)
      : settle(remote.wallMs, remote.logical + 1, nodeId)
  )
}

/**
 * The 64-bit sortable stamp `(wallMs << 16) | logical`, for SQLite INTEGER columns (row versions,
 * applied markers, the commit log). The node id is not in it: store it in its own column and
 * compare with `compareStamps`. For equal node ids, stamp order is `compare` order.
 */
export const toStamp = (h: Hlc): bigint => (BigInt(h.wallMs) << 16n) | BigInt(h.logical)

/** Inverse of `toStamp` (the stamp is trusted: it came from `toStamp`). */
export const fromStamp = (stamp: bigint, nodeId: number): Hlc =>
  make(Number(stamp >> 16n), Number(stamp & 0xffffn), nodeId)

/** `compare` for timestamps kept as (stamp, node id) pairs, as they are stored in SQLite. */
export const compareStamps = (aStamp: bigint, aNodeId: number, bStamp: bigint, bNodeId: number): -1 | 0 | 1 =>
  aStamp !== bStamp
    ? (aStamp < bStamp ? -1 : 1)
    : aNodeId !== bNodeId
    ? (aNodeId < bNodeId ? -1 : 1)
    : 0

/**
 * Marmot's transaction id: `(wallMs << 22) | ((nodeId & 0x3f) << 16) | logical`, 42 bits of ms,
 * 6 bits of node and 16 bits of counter, as an unsigned 64-bit value.
 *
 * Kept for compatibility and display only. It is not unique once a cluster has more than 64 nodes,
 * or node ids that agree in their low 6 bits (5 and 69 give the same id for the same wall and
 * counter), and from 2039 it no longer fits a signed 64-bit SQLite INTEGER. marmot-ts therefore
 * never uses it as an identity: the node id travels in its own field everywhere, and transaction
 * ids are `txnIdOf` strings (Transaction.ts), which carry the full node id.
 */
export const txnId = (h: Hlc): bigint =>
  (BigInt(h.wallMs) << 22n) | (BigInt(h.nodeId & 0x3f) << 16n) | BigInt(h.logical)
