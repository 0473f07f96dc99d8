/**
 * Kafka sink (kafkajs). acks = all, one request in flight per broker (so a retried request cannot
 * overtake the next one), messages keyed by the Debezium key (murmur2 partitioner: one key, one
 * partition, so per-key order holds), topics auto-created by the broker. Each message carries its
 * event id in the header `marmot.event.id` for consumers that want to drop duplicates
 * (delivery is at-least-once: a batch retried after a lost ack is stored twice).
 * Not idempotent: kafkajs's idempotent producer needs a controller id that librdkafka's mock
 * cluster (the test broker) does not give.
 */
import { Effect } from "effect"
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs"
import type { ChangeEvent } from "./Debezium.ts"
import { fromPromise, type SinkConnector } from "./Sink.ts"

export const eventIdHeader = "marmot.event.id"

export const connectKafka: SinkConnector = (sink, nodeId) =>
  Effect.gen(function*() {
    const kafka = new Kafka({
      clientId: `marmot-${nodeId}-${sink.name}`,
      brokers: [...sink.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      // The Publisher owns the retry policy (retry_* settings); kafkajs retries a little inside a publish.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 }
    })
    let producer: Producer | undefined
    const close = Effect.promise(async () => {
      const p = producer
      producer = undefined
      if (p !== undefined) await p.disconnect().catch(() => undefined)
    })
    yield* Effect.addFinalizer(() => close)

    const open = Effect.gen(function*() {
      if (producer !== undefined) return producer
      const p = kafka.producer({
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
        maxInFlightRequests: 1,
        idempotent: false
      })
      yield* fromPromise(sink.name, `connect ${sink.brokers.join(",")}`, () => p.connect())
      producer = p
      return p
    })

    const publish = (events: ReadonlyArray<ChangeEvent>) =>
      Effect.gen(function*() {
        if (events.length === 0) return { stored: 0, duplicates: 0 }
        const p = yield* open
        const byTopic = new Map<string, Array<ChangeEvent>>()
        for (const e of events) {
          const list = byTopic.get(e.topic) ?? []
          list.push(e)
          byTopic.set(e.topic, list)
        }
        yield* fromPromise(sink.name, "send", () =>
          p.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, list]) => ({
              topic,
              messages: list.map((e) => ({ key: e.key, value: e.value, headers: { [eventIdHeader]: e.id } }))
            }))
          })).pipe(Effect.tapError(() => close))
        return { stored: events.length, duplicates: 0 }
      })

    return { name: sink.name, tombstones: true, publish }
  })
