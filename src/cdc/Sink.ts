/**
 * A sink client: where one `[[publisher.sinks]]` entry's events go. `publish` resolves once the
 * broker acknowledged every event of the batch (in order), or fails with SinkError; the Publisher
 * retries the whole batch, so a client may see an event more than once (ids make that harmless
 * in JetStream). Clients (re)connect lazily inside `publish`, so a broker that is down at startup
 * or goes away later is just a failed publish.
 */
import { Data, Effect, type Scope } from "effect"
import type { SinkSettings } from "../config/PublisherSettings.ts"
import type { ChangeEvent } from "./Debezium.ts"

export class SinkError extends Data.TaggedError("SinkError")<{ readonly sink: string; readonly reason: string }> {
  override get message() {
    return `cdc sink ${this.sink}: ${this.reason}`
  }
}

export interface PublishResult {
  /** Events the broker stored now. */
  readonly stored: number
  /** Events the broker recognised as already stored (JetStream msgID); always 0 for Kafka. */
  readonly duplicates: number
}

export interface SinkClient {
  readonly name: string
  /** Kafka keeps tombstones (null values after deletes, for compaction); NATS drops them. */
  readonly tombstones: boolean
  readonly publish: (events: ReadonlyArray<ChangeEvent>) => Effect.Effect<PublishResult, SinkError>
}

/** Builds the client of one sink; its connections live as long as the scope. */
export type SinkConnector = (sink: SinkSettings, nodeId: number) => Effect.Effect<SinkClient, never, Scope.Scope>

/** Turns a rejected promise into SinkError. */
export const fromPromise = <A>(sink: string, what: string, f: () => Promise<A>): Effect.Effect<A, SinkError> =>
  Effect.tryPromise({ try: f, catch: (e) => new SinkError({ sink, reason: `${what}: ${e instanceof Error ? e.message : String(e)}` }) })

/**
 * In-memory sinks for tests: every stored event per sink, duplicates dropped by id like JetStream
 * (set `dedupe: false` to keep them, like Kafka), and failures on demand.
 */
export class MemorySinks {
  readonly stored = new Map<string, Array<ChangeEvent>>()
  readonly attempts = new Map<string, number>()
  private readonly ids = new Map<string, Set<string>>()
  /** Fail the next n publishes of a sink. */
  readonly failNext = new Map<string, number>()

  constructor(readonly options: { readonly dedupe: boolean; readonly tombstones: boolean } = { dedupe: true, tombstones: true }) {}

  events(sink: string): ReadonlyArray<ChangeEvent> {
    return this.stored.get(sink) ?? []
  }

  readonly connect: SinkConnector = (sink) =>
    Effect.succeed({
      name: sink.name,
      tombstones: this.options.tombstones,
      publish: (events) =>
        Effect.suspend(() => {
          this.attempts.set(sink.name, (this.attempts.get(sink.name) ?? 0) + 1)
          const failures = this.failNext.get(sink.name) ?? 0
          if (failures > 0) {
            this.failNext.set(sink.name, failures - 1)
            return Effect.fail(new SinkError({ sink: sink.name, reason: "injected failure" }))
          }
          const out = this.stored.get(sink.name) ?? []
          this.stored.set(sink.name, out)
          const ids = this.ids.get(sink.name) ?? new Set()
          this.ids.set(sink.name, ids)
          let stored = 0
          let duplicates = 0
          for (const e of events) {
            if (this.options.dedupe && ids.has(e.id)) {
              duplicates++
              continue
            }
            ids.add(e.id)
            out.push(e)
            stored++
          }
          return Effect.succeed({ stored, duplicates })
        })
    })
}
