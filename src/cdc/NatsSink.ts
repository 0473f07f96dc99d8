/**
 * NATS JetStream sink (@nats-io/transport-node + @nats-io/jetstream). Subjects are the topics;
 * one stream holds `{topic_prefix}.>` (an existing stream that owns those subjects is used as it
 * is, else `MARMOT_<PREFIX>` is created). Every event goes with its id as the message id, so the
 * stream drops an event published twice within its duplicate window (2 minutes by default).
 *
 * Order: the client never reconnects by itself (`reconnect: false`): a broken connection fails
 * every publish still waiting, the batch is retried on a new connection from its first event,
 * and what the old connection got stored (a prefix of what it sent) comes back as duplicates.
 * The first event of a batch goes alone, the rest are pipelined behind its ack.
 */
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { Effect } from "effect"
import type { ChangeEvent } from "./Debezium.ts"
import { fromPromise, type PublishResult, SinkError, type SinkConnector } from "./Sink.ts"

export const streamNameFor = (prefix: string): string => "MARMOT_" + prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, "_")

const publishTimeoutMs = 5_000
const encoder = new TextEncoder()

export const connectNats: SinkConnector = (sink, nodeId) =>
  Effect.gen(function*() {
    /** `proven` once the connection had a publish acknowledged. */
    let current: { nc: NatsConnection; js: JetStreamClient; proven: boolean } | undefined
    const close = Effect.promise(async () => {
      const c = current
      current = undefined
      if (c !== undefined && !c.nc.isClosed()) await c.nc.close().catch(() => undefined)
    })
    yield* Effect.addFinalizer(() => close)

    const open = Effect.gen(function*() {
      if (current !== undefined && !current.nc.isClosed()) return current
      const nc = yield* fromPromise(sink.name, `connect ${sink.natsUrl}`, () =>
        connect({
          servers: sink.natsUrl.split(","),
          reconnect: false,
          timeout: publishTimeoutMs,
          name: `marmot-${nodeId}-${sink.name}`,
          // An Error (with its stack) per request otherwise: a fifth of the publish cost.
          noAsyncTraces: true
        }))
      const ready = yield* fromPromise(sink.name, "stream setup", async () => {
        const jsm = await jetstreamManager(nc)
        const probe = `${sink.topicPrefix}.transaction`
        const existing = await jsm.streams.find(probe).catch(() => undefined)
        if (existing === undefined) await jsm.streams.add({ name: streamNameFor(sink.topicPrefix), subjects: [`${sink.topicPrefix}.>`] })
        return jetstream(nc)
      }).pipe(Effect.tapError(() => Effect.promise(() => nc.close().catch(() => undefined))))
      current = { nc, js: ready, proven: false }
      return current
    })

    const send = (js: JetStreamClient, e: ChangeEvent) =>
      js.publish(e.topic, encoder.encode(e.value ?? ""), { msgID: e.id, timeout: publishTimeoutMs })

    const publish = (events: ReadonlyArray<ChangeEvent>) =>
      Effect.gen(function*() {
        if (events.length === 0) return { stored: 0, duplicates: 0 }
        const connection = yield* open
        const { js } = connection
        const result = yield* Effect.tryPromise({
          try: async (): Promise<PublishResult> => {
            // On a new connection the first event goes alone: it proves the stream takes messages
            // before the rest follow (a stream not ready yet could refuse one and take the next).
            const first = connection.proven ? undefined : await send(js, events[0]!)
            connection.proven = true
            const rest = await Promise.allSettled((first === undefined ? events : events.slice(1)).map((e) => send(js, e)))
            let duplicates = first?.duplicate === true ? 1 : 0
            for (const r of rest) {
              if (r.status === "rejected") throw r.reason
              if (r.value.duplicate) duplicates++
            }
            return { stored: events.length - duplicates, duplicates }
          },
          catch: (e) => new SinkError({ sink: sink.name, reason: `publish: ${e instanceof Error ? e.message : String(e)}` })
        }).pipe(Effect.tapError(() => close))
        return result
      })

    return { name: sink.name, tombstones: false, publish }
  })
