/**
 * Who publishes which transactions when a sink runs with `publish_from = "origin"` (DESIGN.md
 * "One copy per event"): each node the transactions it committed (commit node = itself), and the
 * lowest ALIVE node also those of a member that is DEAD, LEAVING or REMOVED, from the watermark that
 * member last announced in its gossip meta (`cdc.<sink>`: per database, the commit stamp up to
 * which it published every transaction of its own).
 */
import { Effect } from "effect"
import type { MemberState } from "../../proto-schemas/src/Gossip.ts"
import type { Membership } from "../membership/Membership.ts"

/** A gone member whose transactions this node publishes now. */
export interface StandIn {
  readonly origin: number
  /** The stamp up to which the origin announced it published its own transactions (0 when it announced none). */
  readonly watermark: (sink: string, database: string) => bigint
}

export interface OriginView {
  /** The members this node stands in for now. */
  readonly standingIn: Effect.Effect<ReadonlyArray<StandIn>>
  /** Gossips this node's own watermarks of one sink (per database). */
  readonly announce: (sink: string, watermarks: ReadonlyMap<string, bigint>) => Effect.Effect<void>
}

/** A node with no membership (standalone): every transaction is its own. */
export const aloneOrigins: OriginView = { standingIn: Effect.succeed([]), announce: () => Effect.void }

const metaKey = (sink: string) => `cdc.${sink}`
const gone = new Set<MemberState["status"]>(["DEAD", "LEAVING", "REMOVED"])

const watermarksOf = (member: MemberState, sink: string): Record<string, string> => {
  const text = member.meta[metaKey(sink)]
  if (text === undefined) return {}
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === "object" && parsed !== null ? parsed as Record<string, string> : {}
  } catch {
    return {}
  }
}

/** The lowest ALIVE member (self counts as alive here: a node always sees itself) stands in for every gone one. */
export const standInsOf = (self: number, members: ReadonlyArray<MemberState>): ReadonlyArray<StandIn> => {
  const alive = members.filter((m) => m.status === "ALIVE" || m.nodeId === self).map((m) => m.nodeId as number)
  if (Math.min(self, ...alive) !== self) return []
  return members
    .filter((m) => m.nodeId !== self && gone.has(m.status))
    .map((m) => ({
      origin: m.nodeId,
      watermark: (sink, database) => {
        const w = watermarksOf(m, sink)[database]
        return typeof w === "string" && /^\d+$/.test(w) ? BigInt(w) : 0n
      }
    }))
}

export const membershipOrigins = (membership: Membership["Type"]): OriginView => ({
  standingIn: Effect.map(membership.members, (members) => standInsOf(membership.nodeId, members)),
  announce: (sink, watermarks) =>
    Effect.flatMap(membership.self, (me) =>
      membership.setMeta({
        ...me.meta,
        [metaKey(sink)]: JSON.stringify(Object.fromEntries([...watermarks].map(([db, w]) => [db, w.toString()])))
      }))
})
