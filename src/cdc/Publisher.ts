/**
 * The node's change-data-capture publisher: one fiber per `[[publisher.sinks]]` entry follows
 * every database's local commit log from that sink's persistent cursor, turns entries into
 * Debezium events and publishes them; the cursor moves only after the broker acknowledged the
 * batch (at-least-once). Runs once per node, in the supervisor process. See DESIGN.md.
 */
import { Context, Effect, Layer, PubSub, Queue, type Scope } from "effect"
import { NodeConfig } from "../config/NodeConfig.ts"
import { Membership } from "../membership/Membership.ts"
import { CommitSignal } from "../replication/CommitSignal.ts"
import { CursorStore, type CursorRow, type CursorStoreError } from "./CursorStore.ts"
import { connectKafka } from "./KafkaSink.ts"
import { connectNats } from "./NatsSink.ts"
import { aloneOrigins, membershipOrigins, type OriginView } from "./Origins.ts"
import { MemorySinks, type SinkConnector } from "./Sink.ts"
import { type Acked, runSink } from "./SinkLoop.ts"

export type { Acked } from "./SinkLoop.ts"

export interface PublisherService {
  /** The configured sinks that run (none when `[publisher] enabled` is false). */
  readonly sinks: ReadonlyArray<string>
  /** Wakes every sink now instead of at its next poll (call after a commit to cut latency). */
  readonly notify: Effect.Effect<void>
  /** Every sink's saved cursors. */
  readonly cursors: Effect.Effect<ReadonlyArray<CursorRow>, CursorStoreError>
  /** Acknowledged batches from now on (a sliding buffer: a slow reader loses the oldest). */
  readonly acks: Effect.Effect<Queue.Dequeue<Acked>, never, Scope.Scope>
}

export interface PublisherOptions {
  /** Builds a sink's client (the real ones by type, or memory sinks in tests). */
  readonly connect: SinkConnector
  /** Runs after a batch was acknowledged and before its cursor is saved (the crash test kills the process here). */
  readonly afterPublish?: (sink: string, database: string, lastSeq: bigint) => Effect.Effect<void>
  /** Which members' commits this node publishes (publish_from = "origin"); alone (all its own) by default. */
  readonly origins?: OriginView
  /** Commits of this process's ApplyQueues: each wakes every sink (else they find commits at their next poll). */
  readonly commits?: CommitSignal["Type"]
}

/** The real clients, by sink type. */
export const connectSink: SinkConnector = (sink, nodeId) => sink.type === "kafka" ? connectKafka(sink, nodeId) : connectNats(sink, nodeId)

const make = (options: PublisherOptions) =>
  Effect.gen(function*() {
    const config = yield* NodeConfig
    const origins = options.origins ?? aloneOrigins
    const store = yield* CursorStore
    const acks = yield* PubSub.sliding<Acked>(1024)
    const settings = config.publisher
    const sinks = settings.enabled ? settings.sinks : []
    const wakers: Array<Queue.Queue<void>> = []

    for (const sink of sinks) {
      const wake = yield* Queue.sliding<void>(1)
      wakers.push(wake)
      const client = yield* options.connect(sink, config.nodeId)
      yield* Effect.forkScoped(Effect.scoped(runSink({ config, store, acks, origins, afterPublish: options.afterPublish }, sink, client, wake)))
    }
    if (options.commits !== undefined) yield* options.commits.subscribe(() => wakers.forEach((w) => w.unsafeOffer(undefined)))

    return Publisher.of({
      sinks: sinks.map((s) => s.name),
      notify: Effect.forEach(wakers, (w) => Queue.offer(w, undefined), { discard: true }),
      cursors: store.all,
      acks: PubSub.subscribe(acks)
    })
  })

/** What runs when `[publisher]` is disabled or has no sinks: nothing (not even the cursor file). */
const idle = Effect.map(PubSub.sliding<Acked>(1), (acks) =>
  Publisher.of({ sinks: [], notify: Effect.void, cursors: Effect.succeed([]), acks: PubSub.subscribe(acks) }))

export class Publisher extends Context.Tag("marmot/cdc/Publisher")<Publisher, PublisherService>() {
  static readonly make = make
  /** Publisher with explicit sink clients and hooks (tests, the crash child); needs NodeConfig. */
  static readonly layerWith = (options: PublisherOptions) =>
    Layer.unwrapEffect(Effect.map(NodeConfig, (config) =>
      config.publisher.enabled && config.publisher.sinks.length > 0
        ? Layer.scoped(Publisher, make(options)).pipe(Layer.provide(CursorStore.layer))
        : Layer.effect(Publisher, idle)))
  /** The node's publisher: sinks from `[publisher]` in NodeConfig, cursors under `<data_dir>/cdc`. */
  static readonly layer = Publisher.layerWith({ connect: connectSink })
  /**
   * The publisher of a cluster node: woken by every commit of the node's ApplyQueues, and
   * `publish_from = "origin"` sinks follow the membership.
   */
  static readonly layerInCluster = Layer.unwrapEffect(
    Effect.map(
      Effect.all([Membership, CommitSignal]),
      ([membership, commits]) => Publisher.layerWith({ connect: connectSink, origins: membershipOrigins(membership), commits })
    )
  )
  /** Publisher over in-memory sinks (`memory.events(name)`), same config, cursors and loop. */
  static readonly layerTest = (memory: MemorySinks) => Publisher.layerWith({ connect: memory.connect })
}
