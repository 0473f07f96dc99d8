/**
 * The SWIM-style membership state machine, pure: `step(state, event, nowMs)` returns the next state
 * and the member records that changed. No Effect, no clock, no randomness (callers pass `nowMs` and
 * an `rng`), so every rule below is a plain function under test (test/membership/Swim.test.ts).
 *
 * Rules (Marmot's `NodeRegistry.Update`, with the differences named in DESIGN.md):
 * - an unknown member is added;
 * - a higher incarnation replaces the record;
 * - at equal incarnation the status only escalates: ALIVE/JOINING → SUSPECT → DEAD, and anything → REMOVED;
 * - a record whose (incarnation, heartbeat) moved forward is news from a live member: its lastSeen is
 *   refreshed (a record that peers merely repeat refreshes nothing, so a dead member cannot be kept
 *   alive by echoes);
 * - REMOVED is sticky: only a higher-incarnation REMOVED or DEAD (an operator's `allow`) replaces it,
 *   and a REMOVED member's own gossip is refused;
 * - a claim about self that is ahead of our own record (SUSPECT/DEAD/LEAVING at ≥ our incarnation, or
 *   any higher incarnation) is refuted: own incarnation = claim + 1, own status kept (ALIVE);
 *   a REMOVED claim about self is accepted, and a later DEAD claim above it (allow) revives us;
 * - failure detection by timeouts: ALIVE/JOINING with no news for `suspectTimeoutMs` → SUSPECT,
 *   SUSPECT with no news for `deadTimeoutMs` → DEAD.
 */
import { MemberState, type MemberStatus, type NodeId } from "../../proto-schemas/src/Gossip.ts"

export interface SwimTimeouts {
  readonly suspectTimeoutMs: number
  readonly deadTimeoutMs: number
}

export interface Entry {
  readonly member: MemberState
  /** Last time (ms) fresh news of this member arrived. Unused for self. */
  readonly lastSeenMs: number
}

export interface SwimState {
  readonly self: NodeId
  readonly timeouts: SwimTimeouts
  /** Every known member, self included, by node id. */
  readonly entries: ReadonlyMap<NodeId, Entry>
}

/** A member record that was added (`previous` undefined) or changed in status, incarnation, address or meta. */
export interface MemberChange {
  readonly previous: MemberState | undefined
  readonly current: MemberState
}

export type SwimEvent =
  /** Member records received from a peer (gossip request/response, join). `from` is the sender when known. */
  | { readonly _tag: "Receive"; readonly from: NodeId | undefined; readonly members: ReadonlyArray<MemberState> }
  /** One gossip round: own heartbeat + 1, then failure detection. */
  | { readonly _tag: "Tick" }
  /** Operator: remove a member from the cluster (not self). */
  | { readonly _tag: "Remove"; readonly nodeId: NodeId }
  /** Operator: let a REMOVED member rejoin (it becomes DEAD until it refutes). */
  | { readonly _tag: "Allow"; readonly nodeId: NodeId }
  /** Graceful stop: self becomes LEAVING. */
  | { readonly _tag: "Leave" }
  /** JOINING self caught up: self becomes ALIVE. */
  | { readonly _tag: "MarkAlive" }
  /** Replace own meta (e.g. schema versions). */
  | { readonly _tag: "SetMeta"; readonly meta: Readonly<Record<string, string>> }

export type Refusal = "SenderRemoved" | "UnknownMember" | "CannotRemoveSelf" | "NotRemoved"

export interface Transition {
  readonly state: SwimState
  readonly changes: ReadonlyArray<MemberChange>
  /** Set when the event was refused; the state is then unchanged. */
  readonly refused: Refusal | undefined
}

// ---------------------------------------------------------------------------------------------
// construction

export interface SelfOptions {
  readonly nodeId: NodeId
  readonly address: string
  readonly meta?: Readonly<Record<string, string>> | undefined
  readonly status?: "ALIVE" | "JOINING" | undefined
}

/**
 * The state of a starting node. `known` are the records it persisted before (self included, if it
 * ran before): they are all restored, with a fresh lastSeen, so a restarted node counts every member
 * it knew. Its own incarnation starts above the persisted one, which supersedes any LEAVING record
 * or suspicion from its previous life; a persisted REMOVED self stays REMOVED until allowed.
 */
export const initial = (
  self: SelfOptions,
  timeouts: SwimTimeouts,
  nowMs: number,
  known: ReadonlyArray<MemberState> = []
): SwimState => {
  const entries = new Map<NodeId, Entry>()
  for (const member of known) {
    if (member.nodeId !== self.nodeId) entries.set(member.nodeId, { member, lastSeenMs: nowMs })
  }
  const previous = known.find((m) => m.nodeId === self.nodeId)
  const removed = previous?.status === "REMOVED"
  const me = new MemberState({
    nodeId: self.nodeId,
    address: self.address,
    status: removed ? "REMOVED" : self.status ?? "ALIVE",
    incarnation: previous === undefined ? 0 : removed ? previous.incarnation : previous.incarnation + 1,
    heartbeat: 0,
    meta: self.meta ?? {}
  })
  entries.set(self.nodeId, { member: me, lastSeenMs: nowMs })
  return { self: self.nodeId, timeouts, entries: sortById(entries) }
}

// ---------------------------------------------------------------------------------------------
// queries

export const selfMember = (state: SwimState): MemberState => state.entries.get(state.self)!.member

/** All records, self included, ordered by node id. */
export const members = (state: SwimState): ReadonlyArray<MemberState> =>
  Array.from(state.entries.values(), (e) => e.member)

export const get = (state: SwimState, nodeId: NodeId): MemberState | undefined => state.entries.get(nodeId)?.member

/** Counted in the quorum denominator: every status but REMOVED. */
export const isMember = (status: MemberStatus): boolean => status !== "REMOVED"

/** ALIVE members, self included. */
export const alive = (state: SwimState): ReadonlyArray<MemberState> =>
  members(state).filter((m) => m.status === "ALIVE")

/** ALIVE + SUSPECT + DEAD + JOINING + LEAVING, self included: the quorum denominator. */
export const totalMembership = (state: SwimState): number => members(state).filter((m) => isMember(m.status)).length

/** Majority of the membership. */
export const quorumSize = (total: number): number => Math.floor(total / 2) + 1

const reachable = (status: MemberStatus) => status === "ALIVE" || status === "SUSPECT" || status === "JOINING"
const gone = (status: MemberStatus) => status === "DEAD" || status === "LEAVING"

/**
 * Gossip targets for one round: up to `fanout` members picked at random among the ALIVE, SUSPECT and
 * JOINING ones, plus up to `deadProbes` picked among the DEAD and LEAVING ones, so a restarted node or a
 * healed partition is found again (Marmot's newer behaviour). Never self, never REMOVED.
 * `rng` returns a float in [0, 1).
 */
export const targets = (
  state: SwimState,
  fanout: number,
  rng: () => number,
  deadProbes = 1
): ReadonlyArray<MemberState> => {
  const others = members(state).filter((m) => m.nodeId !== state.self)
  return [
    ...sample(others.filter((m) => reachable(m.status)), fanout, rng),
    ...sample(others.filter((m) => gone(m.status)), deadProbes, rng)
  ]
}

/** Up to `n` distinct elements, by a partial Fisher-Yates shuffle. */
export const sample = <A>(items: ReadonlyArray<A>, n: number, rng: () => number): Array<A> => {
  const pool = items.slice()
  const count = Math.max(0, Math.min(n, pool.length))
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (pool.length - i))
    const picked = pool[j]!
    pool[j] = pool[i]!
    pool[i] = picked
  }
  return pool.slice(0, count)
}

// ---------------------------------------------------------------------------------------------
// transitions

export const step = (state: SwimState, event: SwimEvent, nowMs: number): Transition => {
  switch (event._tag) {
    case "Receive":
      return receive(state, event.from, event.members, nowMs)
    case "Tick":
      return tick(state, nowMs)
    case "Remove":
      return remove(state, event.nodeId)
    case "Allow":
      return allow(state, event.nodeId)
    case "Leave":
      return updateSelf(state, (me) =>
        me.status === "LEAVING" || me.status === "REMOVED"
          ? me
          : with_(me, { status: "LEAVING", incarnation: me.incarnation + 1 }))
    case "MarkAlive":
      return updateSelf(state, (me) =>
        me.status === "JOINING" ? with_(me, { status: "ALIVE", incarnation: me.incarnation + 1 }) : me)
    case "SetMeta":
      return updateSelf(state, (me) => with_(me, { meta: { ...event.meta } }))
  }
}

/** Merges records received from a peer. A sender that is REMOVED here is refused. */
export const receive = (
  state: SwimState,
  from: NodeId | undefined,
  incoming: ReadonlyArray<MemberState>,
  nowMs: number
): Transition => {
  if (from !== undefined && from !== state.self && state.entries.get(from)?.member.status === "REMOVED") {
    return refuse(state, "SenderRemoved")
  }
  const edit = new Edit(state)
  // Oldest first, so the outcome does not depend on the order within the batch (REMOVED is sticky
  // until a DEAD above it arrives: later records must not be judged before it).
  const ordered = [...incoming].sort((a, b) => a.incarnation - b.incarnation || a.heartbeat - b.heartbeat)
  for (const record of ordered) {
    if (record.nodeId === state.self) edit.putSelf(mergeSelf(edit.self(), record))
    else edit.put(record.nodeId, mergeOther(edit.entry(record.nodeId), record, nowMs))
  }
  return edit.done()
}

/** Own heartbeat + 1, then ALIVE/JOINING → SUSPECT and SUSPECT → DEAD by time since lastSeen. */
export const tick = (state: SwimState, nowMs: number): Transition => {
  const edit = new Edit(state)
  const me = edit.self()
  edit.putSelf(me.status === "REMOVED" ? me : with_(me, { heartbeat: me.heartbeat + 1 }))
  for (const [id, entry] of state.entries) {
    if (id === state.self) continue
    const silentMs = nowMs - entry.lastSeenMs
    const status = entry.member.status
    if ((status === "ALIVE" || status === "JOINING") && silentMs > state.timeouts.suspectTimeoutMs) {
      edit.put(id, { ...entry, member: with_(entry.member, { status: "SUSPECT" }) })
    } else if (status === "SUSPECT" && silentMs > state.timeouts.deadTimeoutMs) {
      edit.put(id, { ...entry, member: with_(entry.member, { status: "DEAD" }) })
    }
  }
  return edit.done()
}

export const remove = (state: SwimState, nodeId: NodeId): Transition => {
  if (nodeId === state.self) return refuse(state, "CannotRemoveSelf")
  const entry = state.entries.get(nodeId)
  if (entry === undefined) return refuse(state, "UnknownMember")
  if (entry.member.status === "REMOVED") return { state, changes: [], refused: undefined }
  const edit = new Edit(state)
  edit.put(nodeId, { ...entry, member: with_(entry.member, { status: "REMOVED", incarnation: entry.member.incarnation + 1 }) })
  return edit.done()
}

export const allow = (state: SwimState, nodeId: NodeId): Transition => {
  const entry = state.entries.get(nodeId)
  if (entry === undefined) return refuse(state, "UnknownMember")
  if (entry.member.status !== "REMOVED") return refuse(state, "NotRemoved")
  const edit = new Edit(state)
  edit.put(nodeId, { ...entry, member: with_(entry.member, { status: "DEAD", incarnation: entry.member.incarnation + 1 }) })
  return edit.done()
}

// ---------------------------------------------------------------------------------------------
// merge rules

const statusRank: Record<MemberStatus, number> = {
  ALIVE: 0,
  JOINING: 0,
  SUSPECT: 1,
  DEAD: 2,
  LEAVING: -1,
  REMOVED: 3
}

/** At equal incarnation: ALIVE/JOINING → SUSPECT → DEAD, and anything → REMOVED. */
export const escalates = (from: MemberStatus, to: MemberStatus): boolean => {
  if (to === "REMOVED") return from !== "REMOVED"
  if (from === "LEAVING" || from === "REMOVED" || to === "LEAVING" || to === "JOINING" || to === "ALIVE") return false
  return statusRank[to] > statusRank[from]
}

/** The entry for another member after merging `record` into what we knew (`current`, if any). */
export const mergeOther = (current: Entry | undefined, record: MemberState, nowMs: number): Entry => {
  if (current === undefined) return { member: record, lastSeenMs: nowMs }
  const known = current.member
  if (known.status === "REMOVED") {
    const reinstated = record.incarnation > known.incarnation && (record.status === "REMOVED" || record.status === "DEAD")
    return reinstated ? { member: record, lastSeenMs: nowMs } : current
  }
  if (record.incarnation > known.incarnation) return { member: record, lastSeenMs: nowMs }
  if (record.incarnation < known.incarnation) return current
  const status = escalates(known.status, record.status) ? record.status : known.status
  if (record.heartbeat > known.heartbeat) {
    // Fresh news from the member itself (only it bumps its heartbeat): take its address and meta too.
    return {
      member: with_(known, { status, heartbeat: record.heartbeat, address: record.address, meta: record.meta }),
      lastSeenMs: nowMs
    }
  }
  return status === known.status ? current : { ...current, member: with_(known, { status }) }
}

const hurts = (claim: MemberStatus, own: MemberStatus) =>
  claim !== own && (claim === "SUSPECT" || claim === "DEAD" || claim === "LEAVING")

/** Own record after hearing `claim` about self. Our record must dominate every record about us. */
export const mergeSelf = (me: MemberState, claim: MemberState): MemberState => {
  if (me.status === "REMOVED") {
    if (claim.incarnation <= me.incarnation) return me
    if (claim.status === "DEAD") return with_(me, { status: "ALIVE", incarnation: claim.incarnation + 1 })
    if (claim.status === "REMOVED") return with_(me, { incarnation: claim.incarnation })
    return me
  }
  if (claim.status === "REMOVED") {
    return claim.incarnation >= me.incarnation ? with_(me, { status: "REMOVED", incarnation: claim.incarnation }) : me
  }
  const ahead = claim.incarnation > me.incarnation ||
    (claim.incarnation === me.incarnation && (claim.heartbeat > me.heartbeat || hurts(claim.status, me.status)))
  return ahead ? with_(me, { incarnation: claim.incarnation + 1 }) : me
}

// ---------------------------------------------------------------------------------------------
// helpers

type Fields = {
  -readonly [K in "status" | "incarnation" | "heartbeat" | "address" | "meta"]?: MemberState[K]
}

const with_ = (m: MemberState, fields: Fields): MemberState =>
  new MemberState({
    nodeId: m.nodeId,
    address: fields.address ?? m.address,
    status: fields.status ?? m.status,
    incarnation: fields.incarnation ?? m.incarnation,
    heartbeat: fields.heartbeat ?? m.heartbeat,
    meta: fields.meta ?? m.meta
  }, true)

const sameMeta = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every((k) => a[k] === b[k])
}

/** Worth an event and a write to disk: anything but the heartbeat. */
export const significant = (a: MemberState, b: MemberState): boolean =>
  a.status !== b.status || a.incarnation !== b.incarnation || a.address !== b.address || !sameMeta(a.meta, b.meta)

const refuse = (state: SwimState, refused: Refusal): Transition => ({ state, changes: [], refused })

const updateSelf = (state: SwimState, f: (me: MemberState) => MemberState): Transition => {
  const edit = new Edit(state)
  edit.putSelf(f(edit.self()))
  return edit.done()
}

const sortById = (entries: Map<NodeId, Entry>): Map<NodeId, Entry> =>
  new Map([...entries].sort(([a], [b]) => a - b))

/** Copy-on-write edit of a state that records the significant changes. */
class Edit {
  private entries: Map<NodeId, Entry> | undefined
  private added = false
  private readonly changes: Array<MemberChange> = []

  constructor(private readonly state: SwimState) {}

  entry(id: NodeId): Entry | undefined {
    return (this.entries ?? this.state.entries).get(id)
  }

  self(): MemberState {
    return this.entry(this.state.self)!.member
  }

  putSelf(member: MemberState) {
    const current = this.entry(this.state.self)!
    if (member !== current.member) this.put(this.state.self, { ...current, member })
  }

  put(id: NodeId, next: Entry) {
    const current = this.entry(id)
    if (current === next) return
    if (this.entries === undefined) this.entries = new Map(this.state.entries)
    if (current === undefined) this.added = true
    this.entries.set(id, next)
    if (current === undefined || significant(current.member, next.member)) {
      this.changes.push({ previous: current?.member, current: next.member })
    }
  }

  done(): Transition {
    if (this.entries === undefined) return { state: this.state, changes: [], refused: undefined }
    const entries = this.added ? sortById(this.entries) : this.entries
    return { state: { ...this.state, entries }, changes: this.changes, refused: undefined }
  }
}
