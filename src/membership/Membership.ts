/**
 * Cluster membership by SWIM-style gossip: the Effect shell around the pure state machine in Swim.ts.
 *
 * `make` restores the members persisted by the `MembershipStore`, joins through the seed addresses
 * (retrying on a Schedule until some peer is known), runs one gossip round every `gossipIntervalMs`
 * (own heartbeat + 1, failure detection, full member list to `gossipFanout` random peers plus one
 * DEAD/LEAVING probe), serves the `GossipRpcs` handlers, persists and publishes every change, and
 * announces LEAVING when its scope closes. Time comes only from `Clock`, randomness only from `Random`.
 */
import { Context, Data, Duration, Effect, FiberSet, Layer, PubSub, Random, Schedule, Stream, SynchronizedRef } from "effect"
import {
  GossipRequest,
  GossipResponse,
  JoinRequest,
  JoinResponse,
  type MemberState,
  type NodeId,
  PingResponse
} from "../../proto-schemas/src/Gossip.ts"
import { makePeerClient } from "../network/PeerNetwork.ts"
import { GossipRpcs } from "./GossipRpcs.ts"
import { MembershipStore } from "./MembershipStore.ts"
import * as Swim from "./Swim.ts"

// ---------------------------------------------------------------------------------------------
// config

export interface MembershipSettings {
  readonly nodeId: NodeId
  /** `host:port` peers use to reach this node's peer server. */
  readonly advertiseAddress: string
  /** Addresses to join through; this node's own address is skipped. */
  readonly seedNodes: ReadonlyArray<string>
  readonly gossipIntervalMs: number
  readonly gossipFanout: number
  /** ALIVE with no news for this long → SUSPECT. */
  readonly suspectTimeoutMs: number
  /** No news for this long → DEAD (counted from the last news, like Marmot). */
  readonly deadTimeoutMs: number
  /** Deadline of one Gossip call (Marmot: 2 s). */
  readonly gossipTimeoutMs: number
  /** Deadline of one Join call (Marmot: 5 s). */
  readonly joinTimeoutMs: number
  /** Initial meta of this node. */
  readonly meta: Readonly<Record<string, string>>
}

export class InvalidMembershipConfig extends Data.TaggedError("InvalidMembershipConfig")<{ readonly reason: string }> {
  override get message() {
    return `membership config: ${this.reason}`
  }
}

const validate = (s: MembershipSettings): string | undefined => {
  if (s.gossipIntervalMs <= 0) return "gossip_interval_ms must be > 0"
  if (!Number.isInteger(s.gossipFanout) || s.gossipFanout < 1) return "gossip_fanout must be an integer ≥ 1"
  if (s.suspectTimeoutMs <= s.gossipIntervalMs) return "suspect_timeout_ms must be > gossip_interval_ms"
  if (s.deadTimeoutMs <= s.suspectTimeoutMs) return "dead_timeout_ms must be > suspect_timeout_ms"
  if (s.gossipTimeoutMs <= 0 || s.joinTimeoutMs <= 0) return "gossip and join timeouts must be > 0"
  return undefined
}

export class MembershipConfig extends Context.Tag("marmot/membership/MembershipConfig")<
  MembershipConfig,
  MembershipSettings
>() {
  /** Marmot's effective defaults (cfg/config.go). */
  static readonly defaults = {
    seedNodes: [],
    gossipIntervalMs: 1000,
    gossipFanout: 3,
    suspectTimeoutMs: 5000,
    deadTimeoutMs: 10000,
    gossipTimeoutMs: 2000,
    joinTimeoutMs: 5000,
    meta: {}
  } satisfies Omit<MembershipSettings, "nodeId" | "advertiseAddress">

  static readonly make = (
    options: Pick<MembershipSettings, "nodeId" | "advertiseAddress"> & Partial<MembershipSettings>
  ): Effect.Effect<MembershipSettings, InvalidMembershipConfig> => {
    const settings = { ...MembershipConfig.defaults, ...options }
    const reason = validate(settings)
    return reason === undefined ? Effect.succeed(settings) : Effect.fail(new InvalidMembershipConfig({ reason }))
  }

  static readonly layer = (
    options: Pick<MembershipSettings, "nodeId" | "advertiseAddress"> & Partial<MembershipSettings>
  ): Layer.Layer<MembershipConfig, InvalidMembershipConfig> => Layer.effect(MembershipConfig, MembershipConfig.make(options))
}

// ---------------------------------------------------------------------------------------------
// service

/** A member was added (`previous` undefined) or changed status, incarnation, address or meta. */
export class MembershipEvent extends Data.Class<{
  readonly previous: MemberState | undefined
  readonly member: MemberState
}> {}

export class MembershipRefused extends Data.TaggedError("MembershipRefused")<{
  readonly operation: "remove" | "allow"
  readonly nodeId: NodeId
  readonly reason: Swim.Refusal
}> {
  override get message() {
    return `cannot ${this.operation} node ${this.nodeId}: ${this.reason}`
  }
}

export class Membership extends Context.Tag("marmot/membership/Membership")<Membership, {
  readonly nodeId: NodeId
  /** This node's current record (its incarnation moves). */
  readonly self: Effect.Effect<MemberState>
  /** Every known member, self and REMOVED ones included, by node id. */
  readonly members: Effect.Effect<ReadonlyArray<MemberState>>
  /** ALIVE members, self included. */
  readonly alive: Effect.Effect<ReadonlyArray<MemberState>>
  /** ALIVE + SUSPECT + DEAD + JOINING + LEAVING, self included: the quorum denominator. */
  readonly totalMembership: Effect.Effect<number>
  /** Changes from the moment of subscription (a slow subscriber loses the oldest; re-read `members`). */
  readonly changes: Stream.Stream<MembershipEvent>
  /** Operator: the member stops counting, and its gossip is refused until `allow`. */
  readonly remove: (nodeId: NodeId) => Effect.Effect<void, MembershipRefused>
  /** Operator: a REMOVED member may rejoin (it is DEAD until it refutes). */
  readonly allow: (nodeId: NodeId) => Effect.Effect<void, MembershipRefused>
  /** Replaces this node's meta (gossiped with its next heartbeat). */
  readonly setMeta: (meta: Readonly<Record<string, string>>) => Effect.Effect<void>
  /** Announces LEAVING to every reachable member; also done when the layer is released. */
  readonly leave: Effect.Effect<void>
}>() {
  static readonly make = Effect.gen(function*() {
    return yield* makeMembership
  })

  /** The service plus the `GossipRpcs` handlers, to be served by `PeerServer.layer(GossipRpcs …)`. */
  static readonly layer = Layer.scopedContext(Effect.gen(function*() {
    const { handlers, service } = yield* makeMembership
    const context = yield* GossipRpcs.toHandlersContext(handlers)
    return Context.add(context, Membership, service)
  }))
}

/** Bounded by design: events past this many for one slow subscriber drop the oldest. */
const eventCapacity = 1024

const joinRetry = Schedule.exponential(Duration.millis(500), 2).pipe(
  Schedule.union(Schedule.spaced(Duration.seconds(10)))
)

const connected = (state: Swim.SwimState) =>
  Swim.members(state).some((m) =>
    m.nodeId !== state.self && (m.status === "ALIVE" || m.status === "SUSPECT" || m.status === "JOINING")
  )

const describeChange = (change: Swim.MemberChange) =>
  change.previous === undefined
    ? `member ${change.current.nodeId} (${change.current.address}) added as ${change.current.status}`
    : `member ${change.current.nodeId} ${change.previous.status} → ${change.current.status} (incarnation ${change.current.incarnation})`

const makeMembership = Effect.gen(function*() {
  const config = yield* MembershipConfig
  const store = yield* MembershipStore
  const peers = yield* makePeerClient(GossipRpcs)
  const timeouts = { suspectTimeoutMs: config.suspectTimeoutMs, deadTimeoutMs: config.deadTimeoutMs }
  const known = yield* store.load
  const started = Swim.initial(
    { nodeId: config.nodeId, address: config.advertiseAddress, meta: config.meta },
    timeouts,
    yield* Effect.clockWith((clock) => clock.currentTimeMillis),
    known
  )
  const stateRef = yield* SynchronizedRef.make(started)
  const events = yield* Effect.acquireRelease(PubSub.sliding<MembershipEvent>(eventCapacity), PubSub.shutdown)
  const fibers = yield* FiberSet.make()

  const persist = (state: Swim.SwimState) =>
    store.save(Swim.members(state)).pipe(
      Effect.catchAll((error) => Effect.logError("cannot persist membership", error))
    )
  yield* persist(started)

  // Handlers run in the RPC server's fibers: every log line says which node and subsystem it is from.
  const annotate = Effect.annotateLogs({ subsystem: "membership", node: config.nodeId })

  /** Runs one event through the state machine; persists, logs and publishes what changed. */
  const apply = (event: Swim.SwimEvent) =>
    SynchronizedRef.modifyEffect(stateRef, (state) =>
      Effect.gen(function*() {
        const transition = Swim.step(state, event, yield* Effect.clockWith((clock) => clock.currentTimeMillis))
        if (transition.changes.length > 0) {
          yield* persist(transition.state)
          for (const change of transition.changes) {
            const down = change.current.status === "SUSPECT" || change.current.status === "DEAD"
            yield* down ? Effect.logWarning(describeChange(change)) : Effect.logInfo(describeChange(change))
          }
          yield* PubSub.publishAll(
            events,
            transition.changes.map((c) => new MembershipEvent({ previous: c.previous, member: c.current }))
          )
        }
        return [transition, transition.state] as const
      })).pipe(annotate)

  const reply = (transition: Swim.Transition, from: NodeId) =>
    transition.refused === "SenderRemoved"
      ? [Swim.get(transition.state, from)!] // tell a removed node it is removed, and nothing else
      : Swim.members(transition.state)

  const handlers = GossipRpcs.of({
    Gossip: (request) =>
      Effect.map(
        apply({ _tag: "Receive", from: request.from, members: request.members }),
        (t) => new GossipResponse({ members: reply(t, request.from) })
      ),
    Join: (request) =>
      Effect.map(
        apply({ _tag: "Receive", from: request.member.nodeId, members: [request.member] }),
        (t) => new JoinResponse({ members: reply(t, request.member.nodeId) })
      ),
    Ping: () =>
      Effect.map(SynchronizedRef.get(stateRef), (state) => {
        const me = Swim.selfMember(state)
        return new PingResponse({ nodeId: me.nodeId, status: me.status, incarnation: me.incarnation })
      })
  })

  /** One exchange: push our list, merge the answer. Failures are normal (that is what timeouts detect). */
  const gossipTo = (target: MemberState, request: GossipRequest) =>
    peers.call(target, (client) => client.Gossip(request), { timeout: Duration.millis(config.gossipTimeoutMs) })
      .pipe(
        Effect.flatMap((response) => apply({ _tag: "Receive", from: target.nodeId, members: response.members })),
        Effect.catchTags({
          PeerUnavailable: (e) => Effect.logDebug(e.message),
          Unauthorized: (e) => Effect.logWarning(`gossip to ${target.address} refused: ${e.message}`)
        }),
        Effect.asVoid,
        annotate
      )

  const inFlight = new Set<NodeId>()
  const round = Effect.gen(function*() {
    const { state } = yield* apply({ _tag: "Tick" })
    const draws: Array<number> = []
    for (let i = 0; i <= config.gossipFanout; i++) draws.push(yield* Random.next)
    const picked = Swim.targets(state, config.gossipFanout, () => draws.shift() ?? 0)
    const request = new GossipRequest({ from: config.nodeId, members: Swim.members(state) })
    for (const target of picked) {
      if (inFlight.has(target.nodeId)) continue // the previous round's call to it is still waiting
      inFlight.add(target.nodeId)
      yield* FiberSet.run(fibers, gossipTo(target, request).pipe(Effect.ensuring(Effect.sync(() => inFlight.delete(target.nodeId)))))
    }
  })

  const seeds = config.seedNodes.filter((address) => address !== config.advertiseAddress)
  const joinOnce = Effect.gen(function*() {
    if (connected(yield* SynchronizedRef.get(stateRef))) return
    for (const seed of seeds) {
      const me = Swim.selfMember(yield* SynchronizedRef.get(stateRef))
      const joined = yield* peers.callAddress(seed, (client) => client.Join(new JoinRequest({ member: me })), {
        timeout: Duration.millis(config.joinTimeoutMs)
      }).pipe(
        Effect.flatMap((response) => apply({ _tag: "Receive", from: undefined, members: response.members })),
        Effect.as(true),
        Effect.catchAll((error) => Effect.as(Effect.logDebug(`join through ${seed} failed: ${error.message}`), false))
      )
      if (joined) return yield* Effect.logInfo(`joined the cluster through ${seed}`)
    }
    return yield* Effect.fail(`no seed answered (${seeds.join(", ")})`)
  })

  const leave = Effect.gen(function*() {
    const { changes, state } = yield* apply({ _tag: "Leave" })
    if (changes.length === 0) return
    yield* Effect.logInfo("leaving the cluster")
    const request = new GossipRequest({ from: config.nodeId, members: Swim.members(state) })
    const reachable = Swim.members(state).filter((m) =>
      m.nodeId !== config.nodeId && (m.status === "ALIVE" || m.status === "SUSPECT" || m.status === "JOINING")
    )
    yield* Effect.forEach(reachable, (target) => gossipTo(target, request), { concurrency: "unbounded", discard: true })
  })

  // Released in reverse: the loops stop first, then LEAVING goes out, then the clients close.
  // Interruptible so the calls' timeouts work inside the finalizer (a dead peer must not hold us).
  yield* Effect.addFinalizer(() => Effect.interruptible(annotate(leave)))
  yield* round.pipe(Effect.repeat(Schedule.spaced(Duration.millis(config.gossipIntervalMs))), annotate, Effect.forkScoped)
  if (seeds.length > 0) {
    yield* joinOnce.pipe(
      Effect.tapError((reason) => Effect.logWarning(`cannot join yet: ${reason}; running alone and retrying`)),
      Effect.retry(joinRetry),
      annotate,
      Effect.forkScoped
    )
  }

  const read = <A>(f: (state: Swim.SwimState) => A) => Effect.map(SynchronizedRef.get(stateRef), f)
  const operator = (operation: "remove" | "allow") => (nodeId: NodeId) =>
    Effect.flatMap(apply({ _tag: operation === "remove" ? "Remove" : "Allow", nodeId }), (t) =>
      t.refused === undefined ? Effect.void : Effect.fail(new MembershipRefused({ operation, nodeId, reason: t.refused })))

  const service = Membership.of({
    nodeId: config.nodeId,
    self: read(Swim.selfMember),
    members: read(Swim.members),
    alive: read(Swim.alive),
    totalMembership: read(Swim.totalMembership),
    changes: Stream.fromPubSub(events),
    remove: operator("remove"),
    allow: operator("allow"),
    setMeta: (meta) => Effect.asVoid(apply({ _tag: "SetMeta", meta })),
    leave
  })
  return { service, handlers }
})
