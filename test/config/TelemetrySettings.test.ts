import { describe, expect, it } from "vitest"
import { fromToml } from "../../src/config/NodeConfig.ts"

describe("[telemetry] keys", () => {
  it("off by default; reads enabled, the OTLP endpoint (trailing / dropped), service name and sample ratio", () => {
    expect(fromToml({}).telemetry).toEqual({ enabled: false, otlpEndpoint: "", serviceName: "marmot", sampleRatio: 1 })
    const s = fromToml({ telemetry: { enabled: true, otlp_endpoint: "http://127.0.0.1:4318/", service_name: "db", sample_ratio: 0.25 } })
    expect(s.telemetry).toEqual({ enabled: true, otlpEndpoint: "http://127.0.0.1:4318", serviceName: "db", sampleRatio: 0.25 })
    expect(fromToml({ telemetry: { sample_ratio: 0n } }).telemetry.sampleRatio).toBe(0)
  })

  it("names the bad key", () => {
    expect(() => fromToml({ telemetry: { sample_ratio: 1.5 } })).toThrowError(/^config: telemetry\.sample_ratio: must be a number between 0 and 1$/)
    expect(() => fromToml({ telemetry: { sample_ratio: "all" } })).toThrowError(/^config: telemetry\.sample_ratio:/)
    expect(() => fromToml({ telemetry: { otlp_endpoint: "collector:4318" } })).toThrowError(/^config: telemetry\.otlp_endpoint: must be an http:\/\/ or https:\/\/ URL/)
    expect(() => fromToml({ telemetry: { service_name: "" } })).toThrowError(/^config: telemetry\.service_name: must not be empty$/)
    expect(() => fromToml({ telemetry: { enabled: "yes" } })).toThrowError(/^config: telemetry\.enabled: must be true or false$/)
    expect(() => fromToml({ telemetry: { endpoint: "http://x" } })).toThrowError(/^config: telemetry\.endpoint: unknown key$/)
  })
})
