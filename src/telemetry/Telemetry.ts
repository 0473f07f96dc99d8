/**
 * Tracing (`[telemetry]`): OpenTelemetry spans through `@effect/opentelemetry` and the OTel SDK,
 * exported by OTLP/HTTP. Every process of a node (supervisor core, MySQL workers) provides
 * `Telemetry.layer` once; with telemetry off it switches Effect's tracer off, so `withSpan` costs
 * next to nothing on the write path. A trace crosses processes as a `TraceParent` (the worker →
 * supervisor IPC message) and nodes inside the peer RPCs (@effect/rpc request tracing).
 * See DESIGN.md.
 */
import { NodeSdk } from "@effect/opentelemetry"
import { type Context as OtelContext, trace } from "@opentelemetry/api"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SpanProcessor,
  TraceIdRatioBasedSampler
} from "@opentelemetry/sdk-trace-base"
import { Context, Effect, FiberRef, FiberRefs, HashMap, Layer, Logger, Option, Tracer } from "effect"
import type { TelemetrySettings } from "../config/TelemetrySettings.ts"

/** The span context one process hands another (the IPC hop): W3C trace and span ids. */
export interface TraceParent {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean
}

export const traceParentOf = (span: Tracer.AnySpan): TraceParent => ({ traceId: span.traceId, spanId: span.spanId, sampled: span.sampled })

/** Runs `effect` as a child of a span of another process (unchanged without one). */
export const withRemoteParent = (parent: TraceParent | undefined) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  parent === undefined ? effect : Effect.withParentSpan(effect, Tracer.externalSpan(parent))

/**
 * A span named `name` around an effect when `tracing` is on; nothing at all when it is off (even a
 * no-op span costs microseconds per write: bench/tracing-overhead.ts).
 */
export const spanWhen = (tracing: boolean) =>
(name: string, attributes: Record<string, unknown>) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  tracing ? Effect.withSpan(effect, name, { captureStackTrace: false, attributes }) : effect

/** `Effect.annotateCurrentSpan` when `tracing` is on. */
export const annotateWhen = (tracing: boolean) => (key: string, value: unknown): Effect.Effect<void> =>
  tracing ? Effect.annotateCurrentSpan(key, value) : Effect.void

/** Who is tracing: the node and which of its processes. */
export interface TraceIdentity {
  readonly nodeId: number
  readonly process: "core" | "worker"
}

/**
 * Traces start at a statement or a write. A span that would start a trace inside the peer
 * transport (a gossip ping, an anti-entropy pull: the RPC server traces every request) is not
 * recorded; everything else follows its parent, and a new trace is kept with `ratio`.
 */
export const sampler = (ratio: number): Sampler => {
  const sampled = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) })
  return {
    shouldSample: (context: OtelContext, traceId, spanName, spanKind, attributes, links) =>
      trace.getSpanContext(context) === undefined && /^Peer(Server|Client)\./.test(spanName)
        ? { decision: SamplingDecision.NOT_RECORD }
        : sampled.shouldSample(context, traceId, spanName, spanKind, attributes, links),
    toString: () => `MarmotSampler{ratio=${ratio}}`
  }
}

/** The SDK with `processor` (OTLP in production, an in-memory exporter in tests). */
export const layerWith = (
  settings: Pick<TelemetrySettings, "serviceName" | "sampleRatio">,
  identity: TraceIdentity,
  processor: SpanProcessor | ReadonlyArray<SpanProcessor>
): Layer.Layer<never> =>
  Layer.discard(NodeSdk.layer(() => ({
    resource: {
      serviceName: settings.serviceName,
      attributes: { "service.instance.id": `node-${identity.nodeId}-${identity.process}`, "marmot.node_id": identity.nodeId, "marmot.process": identity.process }
    },
    spanProcessor: processor,
    tracerConfig: { sampler: sampler(settings.sampleRatio) }
  })))

/** What `[telemetry]` asks for: nothing (tracer off), spans without export, or spans POSTed to the OTLP endpoint. */
export const layer = (settings: TelemetrySettings, identity: TraceIdentity): Layer.Layer<never> => {
  if (!settings.enabled) return Layer.setTracerEnabled(false)
  if (settings.otlpEndpoint === "") return layerWith(settings, identity, [])
  const exporter = new OTLPTraceExporter({ url: `${settings.otlpEndpoint}/v1/traces` })
  return layerWith(settings, identity, new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 }))
}

/** Adds `trace_id` and `span_id` to what `logger` writes inside a sampled (exported) span. */
export const withTraceIds = <Message, Output>(logger: Logger.Logger<Message, Output>): Logger.Logger<Message, Output> =>
  Logger.mapInputOptions(logger, (options) => {
    const span = Context.getOption(FiberRefs.getOrDefault(options.context, FiberRef.currentContext), Tracer.ParentSpan)
    if (Option.isNone(span) || !span.value.sampled) return options
    return {
      ...options,
      annotations: HashMap.set(HashMap.set(options.annotations, "trace_id", span.value.traceId as unknown), "span_id", span.value.spanId as unknown)
    }
  })

/** The node's logger: logfmt lines on stderr/stdout as before, with the trace ids of the span they were written in. */
export const logger: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(withTraceIds(Logger.logfmtLogger)))
