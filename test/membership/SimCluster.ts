/**
 * A cluster of membership nodes in one process on the simulated network, for the simulation tests.
 * Every node is built from the production layers (`Membership.layer`, `PeerServer.layer`,
 * `ClusterAuth.layer`); only the transport (`SimNetwork`), the store (memory) and time (TestClock)
 * differ. Node `i` has node id `i + 1` and joins through node 0.
 */
import { Context, Duration, Effect, Exit, Fiber, Layer, Option, Random, Redacted, Scope, TestClock } from "effect"
import { type MemberStatus, type NodeId, nodeId } from "../../proto-schemas/src/Gossip.ts"
import { GossipRpcs } from "../../src/membership/GossipRpcs.ts"
import { Membership, MembershipConfig, type MembershipSettings } from "../../src/membership/Membership.ts"
import { MembershipStore } from "../../src/membership/MembershipStore.ts"
import * as ClusterAuth from "../../src/network/ClusterAuth.ts"
import { PeerClientProtocol } from "../../src/network/PeerNetwork.ts"
import * as PeerServer from "../../src/network/PeerServer.ts"
import { type SimConditions, SimNetwork } from "../../src/network/SimNetwork.ts"

export const addressOf = (i: number) => `10.0.0.${i + 1}:7946`
export const idOf = (i: number): NodeId => nodeId(i + 1)

export interface ClusterOptions {
  readonly size: number
  readonly seed: string
  readonly settings?: Partial<MembershipSettings>
  readonly secret?: string
  readonly network?: Partial<SimConditions>
}

/** One node: the production membership stack on the simulated network. */
export const nodeLayer = (
  address: string,
  settings: Pick<MembershipSettings, "nodeId" | "advertiseAddress"> & Partial<MembershipSettings>,
  store: MembershipStore["Type"],
  secret: Option.Option<Redacted.Redacted<string>>
) =>
  PeerServer.layer(GossipRpcs).pipe(
    Layer.provideMerge(Membership.layer),
    Layer.provide(PeerServer.layerProtocolSim(address)),
    Layer.provide(PeerClientProtocol.layerSim(address)),
    Layer.provide(ClusterAuth.layer(secret)),
    Layer.provide(MembershipConfig.layer(settings)),
    Layer.provide(Layer.succeed(MembershipStore, store))
  )

export const makeCluster = (options: ClusterOptions) =>
  Effect.gen(function*() {
    // Made in the same scope as the nodes, before them, so it outlives their goodbyes.
    const network = yield* SimNetwork.make({ seed: options.seed, ...options.network })
    const secret = Option.some(Redacted.make(options.secret ?? "sim-secret"))
    const indexes = Array.from({ length: options.size }, (_, i) => i)
    const stores: Array<MembershipStore["Type"]> = yield* Effect.forEach(indexes, () => MembershipStore.makeMemory)
    const running = new Map<number, { scope: Scope.CloseableScope; membership: Membership["Type"] }>()
    let generation = 0

    const start = (i: number, overrides?: Partial<MembershipSettings>) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const layer = nodeLayer(addressOf(i), {
          nodeId: idOf(i),
          advertiseAddress: addressOf(i),
          seedNodes: [addressOf(0)],
          ...options.settings,
          ...overrides
        }, stores[i]!, secret).pipe(Layer.provide(Layer.succeed(SimNetwork, network)))
        const context = yield* Layer.buildWithScope(layer, scope).pipe(
          Effect.withRandom(Random.make(`${options.seed}/${i}/${generation++}`)),
          Effect.orDie
        )
        running.set(i, { scope, membership: Context.get(context, Membership) })
      })

    /**
     * Graceful stop: the node announces LEAVING. Its goodbye travels the simulated network, so the
     * clock keeps moving while it closes.
     */
    const stop = (i: number) =>
      Effect.suspend(() => {
        const node = running.get(i)
        running.delete(i)
        return node === undefined ? Effect.void : whileAdvancing(Scope.close(node.scope, Exit.void))
      })

    /** The node's machine dies: it goes silent first, so nothing it says on the way down gets out. */
    const crash = (i: number) => Effect.zipRight(network.crash(addressOf(i)), stop(i))

    /** Starts node i again on its address, with the store it had (or an empty one: `wipe`). */
    const restart = (i: number, options?: { readonly wipe?: boolean; readonly settings?: Partial<MembershipSettings> }) =>
      Effect.gen(function*() {
        if (options?.wipe === true) stores[i] = yield* MembershipStore.makeMemory
        yield* network.restart(addressOf(i))
        yield* start(i, options?.settings)
      })

    const membership = (i: number) => {
      const node = running.get(i)
      return node === undefined ? Effect.dieMessage(`node ${i} is not running`) : Effect.succeed(node.membership)
    }

    /** Node i's view: status by node id. */
    const view = (i: number) =>
      Effect.flatMap(membership(i), (m) => m.members).pipe(
        Effect.map((members) => new Map(members.map((m) => [m.nodeId, m.status] as const)))
      )

    /** Node i sees node j with status s. */
    const sees = (i: number, j: number, status: MemberStatus) =>
      Effect.map(view(i), (v) => v.get(idOf(j)) === status)

    /** Node i's record of node j. */
    const record = (i: number, j: number) =>
      Effect.flatMap(membership(i), (m) => m.members).pipe(
        Effect.flatMap((members) => {
          const found = members.find((m) => m.nodeId === idOf(j))
          return found === undefined ? Effect.dieMessage(`node ${i} does not know node ${j}`) : Effect.succeed(found)
        })
      )

    yield* tearDownAtOnce(network, running, addressOf)
    yield* Effect.forEach(indexes, (i) => start(i), { discard: true })
    return { network, indexes, start, stop, crash, restart, membership, view, sees, record } as const
  })

export type Cluster = Effect.Effect.Success<ReturnType<typeof makeCluster>>

/**
 * Teardown of a simulated cluster: every machine dies at once (no goodbyes to wait for), then the
 * nodes' layers are released.
 */
export const tearDownAtOnce = (
  network: SimNetwork["Type"],
  running: Map<number, { readonly scope: Scope.CloseableScope }>,
  addressOf: (i: number) => string
) =>
  Effect.addFinalizer(() =>
    Effect.gen(function*() {
      const nodes = [...running.entries()]
      running.clear()
      yield* Effect.forEach(nodes, ([i]) => network.crash(addressOf(i)), { discard: true })
      yield* whileAdvancing(
        Effect.forEach(nodes, ([, node]) => Scope.close(node.scope, Exit.void), { concurrency: "unbounded", discard: true })
      )
    })
  )

/** Runs `effect` while moving TestClock forward, until it completes. */
export const whileAdvancing = <A, E, R>(effect: Effect.Effect<A, E, R>, stepMs = 100) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let waited = 0; fiber.unsafePoll() === null; waited += stepMs) {
      if (waited > 60_000) return yield* Effect.dieMessage("still running after 60 s of simulated time")
      yield* TestClock.adjust(Duration.millis(stepMs))
    }
    return yield* Fiber.join(fiber)
  })

/** Moves TestClock forward in small steps so every delivery and timer fires in order. */
export const advance = (ms: number, stepMs = 500) =>
  Effect.forEach(Array.from({ length: Math.ceil(ms / stepMs) }), () => TestClock.adjust(Duration.millis(stepMs)), {
    discard: true
  })

/**
 * Advances until `check` holds, at most `withinMs`; fails with `what` and the time it gave up.
 */
export const eventually = <E, R>(what: string, check: Effect.Effect<boolean, E, R>, withinMs: number, stepMs = 250) =>
  Effect.gen(function*() {
    for (let waited = 0; waited <= withinMs; waited += stepMs) {
      if (yield* check) return waited
      yield* TestClock.adjust(Duration.millis(stepMs))
    }
    return yield* Effect.dieMessage(`not within ${withinMs} ms: ${what}`)
  })

/** Everyone in `observers` sees everyone in `subjects` as `status`. */
export const allSee = (cluster: Cluster, observers: ReadonlyArray<number>, subjects: ReadonlyArray<number>, status: MemberStatus) =>
  Effect.forEach(observers, (i) =>
    Effect.map(cluster.view(i), (v) => subjects.every((j) => j === i || v.get(idOf(j)) === status))).pipe(
      Effect.map((oks) => oks.every(Boolean))
    )


/** Every node of the cluster, by index. */
export const everyone = (cluster: Cluster): ReadonlyArray<number> => cluster.indexes
