/**
 * The `[telemetry]` section: OpenTelemetry tracing of writes across nodes (src/telemetry). Read
 * strictly like the rest of the config, so a misspelt key is named in the ConfigError.
 */
import { ConfigError } from "./ConfigError.ts"
import type { Reader } from "./NodeConfig.ts"

export interface TelemetrySettings {
  /** false: no spans at all (Effect's tracer is switched off). */
  readonly enabled: boolean
  /** OTLP/HTTP collector base URL (spans go to `<endpoint>/v1/traces`); empty = spans are not exported. */
  readonly otlpEndpoint: string
  /** `service.name` of the node's spans. */
  readonly serviceName: string
  /** Fraction of writes traced (a trace is sampled where it starts; the other nodes follow). */
  readonly sampleRatio: number
}

export function telemetryDefaults(): TelemetrySettings {
  return { enabled: false, otlpEndpoint: "", serviceName: "marmot", sampleRatio: 1 }
}

export function readTelemetry(r: Reader): TelemetrySettings {
  const d = telemetryDefaults()
  const enabled = r.bool("enabled", d.enabled)
  const otlpEndpoint = r.string("otlp_endpoint", d.otlpEndpoint)
  if (otlpEndpoint !== "" && !/^https?:\/\/[^/]+/.test(otlpEndpoint)) {
    throw new ConfigError({ key: r.key("otlp_endpoint"), reason: "must be an http:// or https:// URL (e.g. http://127.0.0.1:4318)" })
  }
  const serviceName = r.string("service_name", d.serviceName)
  if (serviceName === "") throw new ConfigError({ key: r.key("service_name"), reason: "must not be empty" })
  const ratio = r.take("sample_ratio")
  const sampleRatio = ratio === undefined ? d.sampleRatio : typeof ratio === "bigint" ? Number(ratio) : ratio
  if (typeof sampleRatio !== "number" || !(sampleRatio >= 0 && sampleRatio <= 1)) {
    throw new ConfigError({ key: r.key("sample_ratio"), reason: "must be a number between 0 and 1" })
  }
  r.done()
  return { enabled, otlpEndpoint: otlpEndpoint.replace(/\/+$/, ""), serviceName, sampleRatio }
}
