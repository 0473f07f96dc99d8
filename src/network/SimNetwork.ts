/**
 * An in-process network for deterministic simulation: named nodes, each with at most one RPC server
 * (registered by `PeerServer.layerProtocolSim`) and any number of client connections
 * (`PeerClientProtocol.layerSim`). It moves the same `@effect/rpc` protocol messages the TCP transport
 * moves, through the same msgpack serialization, so every payload is still Schema-encoded by the
 * client and Schema-decoded by the server.
 *
 * Faults, all decided by a Random seeded at construction and timed by the Effect Clock (so TestClock
 * drives them): per-message delay in [minDelayMs, maxDelayMs], per-message loss with `dropRate`,
 * partitions, and crashed nodes (black holes). Delivery on one connection and direction is FIFO and
 * never duplicated, as on a TCP connection.
 */
import { RpcClient, RpcClientError, RpcSerialization, RpcServer } from "@effect/rpc"
import type { FromClientEncoded, FromServerEncoded } from "@effect/rpc/RpcMessage"
import { Context, Deferred, Duration, Effect, Exit, FiberSet, Layer, Mailbox, Random, type Scope } from "effect"
import { framedMsgPack } from "./FramedMsgPack.ts"

export interface SimConditions {
  /** Probability in [0, 1] that any one message is lost. */
  readonly dropRate: number
  readonly minDelayMs: number
  readonly maxDelayMs: number
}

export interface SimStats {
  readonly sent: number
  readonly delivered: number
  readonly dropped: number
}

export interface SimOptions extends Partial<SimConditions> {
  readonly seed: string | number
}

export const defaultConditions: SimConditions = { dropRate: 0, minDelayMs: 1, maxDelayMs: 10 }

export class SimNetwork extends Context.Tag("marmot/network/SimNetwork")<SimNetwork, {
  /** Registers the RPC server of `address` for as long as the scope lives. */
  readonly listen: (address: string) => Effect.Effect<RpcServer.Protocol["Type"], never, Scope.Scope>
  /** A client connection from node `from` to the server at `to`, closed with the scope. */
  readonly connect: (from: string, to: string) => Effect.Effect<RpcClient.Protocol["Type"], never, Scope.Scope>
  /**
   * Splits the network: messages pass only between addresses on the same side. Addresses not listed
   * form one more side together. Replaces any earlier partition.
   */
  readonly partition: (...sides: ReadonlyArray<ReadonlyArray<string>>) => Effect.Effect<void>
  readonly heal: Effect.Effect<void>
  /** Every message to or from `address` is lost, and its open connections are dropped. */
  readonly crash: (address: string) => Effect.Effect<void>
  readonly restart: (address: string) => Effect.Effect<void>
  readonly setConditions: (conditions: Partial<SimConditions>) => Effect.Effect<void>
  /** Registers the peer lane handler of `address` (src/network/PeerLane.ts `layerSim`) while the scope lives. */
  readonly laneServe: (
    address: string,
    handler: (request: Uint8Array, credential: string) => Effect.Effect<Uint8Array, unknown>
  ) => Effect.Effect<void, never, Scope.Scope>
  /**
   * One lane request from `from` to `to` and its answer. Fails at once when `from` is down or nothing
   * serves at `to` (refused), or with the answer's failure; a lost request or answer, or a server
   * that restarted meanwhile, never completes (the caller's deadline ends it).
   */
  readonly laneCall: (from: string, to: string, request: Uint8Array, credential: string) => Effect.Effect<Uint8Array, "refused" | "failed">
  readonly stats: Effect.Effect<SimStats>
}>() {
  static readonly make = (options: SimOptions): Effect.Effect<SimNetwork["Type"], never, Scope.Scope> =>
    makeSimNetwork(options)

  static readonly layer = (options: SimOptions): Layer.Layer<SimNetwork> =>
    Layer.scoped(SimNetwork, SimNetwork.make(options))
}

type Parser = ReturnType<RpcSerialization.RpcSerialization["Type"]["unsafeMake"]>

/** Delivery order of one direction: nothing arrives before what was sent earlier. */
interface Order {
  lastDeliveryMs: number
}

interface LaneServer {
  readonly handler: (request: Uint8Array, credential: string) => Effect.Effect<Uint8Array, unknown>
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => unknown
}

/** One direction of a connection: sender-side encoder, receiver-side decoder, FIFO clock. */
interface Lane extends Order {
  readonly encoder: Parser
  readonly decoder: Parser
  lastDeliveryMs: number
}

interface Server {
  readonly address: string
  /** Requests that arrived, handed to the RPC server by a fiber of the server's own scope. */
  readonly inbox: Mailbox.Mailbox<readonly [clientId: number, message: FromClientEncoded]>
  readonly disconnects: Mailbox.Mailbox<number>
  readonly links: Map<number, Link>
  nextClientId: number
}

interface Link {
  readonly from: string
  readonly to: string
  /** Responses that arrived, handed to the RPC client by a fiber of the client's own scope. */
  readonly inbox: Mailbox.Mailbox<FromServerEncoded>
  readonly up: Lane
  readonly down: Lane
  server: Server | undefined
  clientId: number
  closed: boolean
}

const lane = (): Lane => ({
  encoder: framedMsgPack.unsafeMake(),
  decoder: framedMsgPack.unsafeMake(),
  lastDeliveryMs: 0
})

const refused = (message: string) => new RpcClientError.RpcClientError({ reason: "Protocol", message })

const makeSimNetwork = Effect.fnUntraced(function*(options: SimOptions) {
  const random = Random.make(options.seed)
  // The network's own time: delays are physical, whatever a node's (possibly skewed) clock says.
  const clock = yield* Effect.clock
  const fibers = yield* FiberSet.make()
  let conditions: SimConditions = { ...defaultConditions, ...options }
  const servers = new Map<string, Server>()
  const links = new Set<Link>()
  const crashed = new Set<string>()
  let sides = new Map<string, number>()
  let sent = 0
  let delivered = 0
  let dropped = 0

  const side = (address: string) => sides.get(address) ?? -1
  const blocked = (a: string, b: string) => crashed.has(a) || crashed.has(b) || side(a) !== side(b)

  /** Carries one message from `from` to `to`: lost, or delivered once after a delay, in order. */
  const carry = (order: Order, from: string, to: string, open: () => boolean, deliver: () => void) =>
    Effect.gen(function*() {
      sent++
      if (blocked(from, to) || (yield* random.next) < conditions.dropRate) {
        dropped++
        return
      }
      const span = Math.max(0, conditions.maxDelayMs - conditions.minDelayMs)
      const delayMs = conditions.minDelayMs + (yield* random.nextIntBetween(0, span + 1))
      const now = clock.unsafeCurrentTimeMillis()
      const at = Math.max(now + delayMs, order.lastDeliveryMs + 1)
      order.lastDeliveryMs = at
      const arrive = Effect.sync(() => {
        // Still in flight when the link broke or a partition started: lost.
        if (!open() || blocked(from, to)) {
          dropped++
          return
        }
        delivered++
        deliver()
      })
      if (at <= now) return yield* arrive
      yield* FiberSet.run(fibers, Effect.zipRight(clock.sleep(Duration.millis(at - now)), arrive))
    })

  /** Sends one RPC message down a lane, through the msgpack serialization. */
  const transmit = <M>(link: Link, lane: Lane, from: string, to: string, message: M, deliver: (m: M) => void) =>
    Effect.suspend(() => {
      const encoded = lane.encoder.encode(message)
      const decoded = encoded === undefined ? [] : lane.decoder.decode(encoded) as ReadonlyArray<M>
      return carry(lane, from, to, () => !link.closed, () => decoded.forEach(deliver))
    })

  const laneServers = new Map<string, LaneServer>()
  const laneOrders = new Map<string, Order>()
  const orderOf = (from: string, to: string) => {
    const key = `${from}>${to}`
    let order = laneOrders.get(key)
    if (order === undefined) laneOrders.set(key, order = { lastDeliveryMs: 0 })
    return order
  }

  const laneServe = (address: string, handler: LaneServer["handler"]) =>
    Effect.gen(function*() {
      const run = yield* FiberSet.makeRuntime<never>()
      const server: LaneServer = { handler, run }
      laneServers.set(address, server)
      yield* Effect.addFinalizer(() => Effect.sync(() => laneServers.get(address) === server && laneServers.delete(address)))
    })

  const laneCall = (from: string, to: string, request: Uint8Array, credential: string) =>
    Effect.gen(function*() {
      const target = laneServers.get(to)
      if (crashed.has(from) || (target === undefined && !blocked(from, to))) return yield* Effect.fail("refused" as const)
      const answer = yield* Deferred.make<Uint8Array, "refused" | "failed">()
      const open = () => target !== undefined && laneServers.get(to) === target
      const copy = request.slice()
      yield* carry(orderOf(from, to), from, to, open, () =>
        target!.run(
          target!.handler(copy, credential).pipe(
            Effect.exit,
            Effect.flatMap((exit) =>
              carry(orderOf(to, from), to, from, () => true, () =>
                Deferred.unsafeDone(answer, Exit.isSuccess(exit) ? Exit.succeed(exit.value.slice()) : Exit.fail("failed" as const)))
            )
          )
        ))
      return yield* Deferred.await(answer)
    })

  const reset = (link: Link) =>
    Effect.suspend(() => {
      if (link.closed) return Effect.void
      link.closed = true
      links.delete(link)
      if (link.server !== undefined) {
        link.server.links.delete(link.clientId)
        link.server.disconnects.unsafeOffer(link.clientId)
      }
      link.inbox.unsafeOffer({ _tag: "ClientProtocolError", error: refused(`connection to ${link.to} reset`) })
      return Effect.void
    })

  /**
   * Hands what arrives in `inbox` to `handle`, in order, in a fiber of the current (node's) scope.
   * Explicitly interruptible: a connection may be opened from a finalizer (a node's goodbye).
   */
  const drain = <A>(inbox: Mailbox.Mailbox<A>, handle: (a: A) => Effect.Effect<void>) =>
    inbox.take.pipe(
      Effect.flatMap(handle),
      Effect.forever,
      Effect.catchAll(() => Effect.void),
      Effect.interruptible,
      Effect.forkScoped
    )

  const listen = (address: string) =>
    RpcServer.Protocol.make((writeRequest) =>
      Effect.gen(function*() {
        if (servers.has(address)) return yield* Effect.die(`SimNetwork: ${address} is already listening`)
        const disconnects = yield* Mailbox.make<number>()
        const inbox = yield* Mailbox.make<readonly [number, FromClientEncoded]>()
        const server: Server = { address, inbox, disconnects, links: new Map(), nextClientId: 0 }
        yield* drain(inbox, ([clientId, message]) => writeRequest(clientId, message))
        servers.set(address, server)
        yield* Effect.addFinalizer(() =>
          Effect.suspend(() => {
            if (servers.get(address) === server) servers.delete(address)
            const open = [...server.links.values()]
            // A stopped process resets its connections; a crashed machine just goes silent.
            return Effect.forEach(open, (link) => blocked(link.from, link.to) ? Effect.void : reset(link), {
              discard: true
            })
          })
        )
        return {
          disconnects,
          send: (clientId: number, response: FromServerEncoded) =>
            Effect.suspend(() => {
              const link = server.links.get(clientId)
              if (link === undefined || link.closed) return Effect.void
              return transmit(link, link.down, link.to, link.from, response, (m) => link.inbox.unsafeOffer(m))
            }),
          end: () => Effect.void,
          clientIds: Effect.sync(() => new Set(server.links.keys())),
          initialMessage: Effect.succeedNone,
          supportsAck: true,
          supportsTransferables: false,
          supportsSpanPropagation: true
        }
      })
    )

  const connect = (from: string, to: string) =>
    RpcClient.Protocol.make((writeResponse) =>
      Effect.gen(function*() {
        const inbox = yield* Mailbox.make<FromServerEncoded>()
        yield* drain(inbox, writeResponse)
        const link: Link = {
          from,
          to,
          inbox,
          up: lane(),
          down: lane(),
          server: undefined,
          clientId: -1,
          closed: false
        }
        links.add(link)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            link.closed = true
            links.delete(link)
            if (link.server !== undefined && link.server.links.get(link.clientId) === link) {
              link.server.links.delete(link.clientId)
              link.server.disconnects.unsafeOffer(link.clientId)
            }
          })
        )
        return {
          send: (request: FromClientEncoded) =>
            Effect.suspend(() => {
              if (crashed.has(from)) return Effect.fail(refused(`${from} is down`)) // a dead machine sends nothing
              if (link.server !== undefined && servers.get(to) !== link.server) link.closed = true
              if (link.closed) return Effect.fail(refused(`connection to ${to} closed`))
              if (link.server === undefined) {
                // Connecting: refused when nothing listens there (a crashed node's port just times out).
                const server = servers.get(to)
                if (server === undefined && !blocked(from, to)) {
                  return Effect.fail(refused(`connection to ${to} refused`))
                }
                if (server === undefined) return Effect.sync(() => void (sent++, dropped++))
                link.server = server
                link.clientId = server.nextClientId++
                server.links.set(link.clientId, link)
              }
              const server = link.server
              return transmit(link, link.up, from, to, request, (message) => server.inbox.unsafeOffer([link.clientId, message]))
            }),
          supportsAck: true,
          supportsTransferables: false
        }
      })
    )

  return SimNetwork.of({
    listen,
    connect,
    laneServe,
    laneCall,
    partition: (...groups) =>
      Effect.sync(() => {
        sides = new Map(groups.flatMap((group, i) => group.map((address) => [address, i] as const)))
      }),
    heal: Effect.sync(() => {
      sides = new Map()
    }),
    crash: (address) =>
      Effect.suspend(() => {
        crashed.add(address)
        const affected = [...links].filter((link) => link.from === address || link.to === address)
        return Effect.forEach(affected, (link) =>
          Effect.sync(() => {
            link.closed = true
            links.delete(link)
            if (link.server !== undefined) {
              link.server.links.delete(link.clientId)
              link.server.disconnects.unsafeOffer(link.clientId)
            }
          }), { discard: true })
      }),
    restart: (address) =>
      Effect.sync(() => {
        crashed.delete(address)
      }),
    setConditions: (update) =>
      Effect.sync(() => {
        conditions = { ...conditions, ...update }
      }),
    stats: Effect.sync(() => ({ sent, delivered, dropped }))
  })
})
