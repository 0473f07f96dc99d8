import { describe, expect, it } from "vitest"
import { fromToml } from "../../src/config/NodeConfig.ts"

const gc = (replication: Record<string, unknown>) => fromToml({ replication }).replication.gc

describe("[replication] gc_* keys", () => {
  it("defaults to Marmot's: every 60 s, 2 h minimum, 24 h maximum", () => {
    expect(gc({})).toEqual({ intervalMs: 60_000, minRetentionMs: 7_200_000, maxRetentionMs: 86_400_000 })
  })

  it("takes fractional hours and 0 = unlimited maximum", () => {
    expect(gc({ anti_entropy_interval_ms: 500, gc_interval_seconds: 1, gc_min_retention_hours: 0.001, gc_max_retention_hours: 0 })).toEqual({
      intervalMs: 1000,
      minRetentionMs: 3600,
      maxRetentionMs: 0
    })
  })

  it("refuses what breaks Marmot's rules, naming the keys", () => {
    expect(() => gc({ gc_min_retention_hours: 3, gc_max_retention_hours: 2 })).toThrowError(
      /replication\.gc_min_retention_hours: must be less than replication\.gc_max_retention_hours/
    )
    expect(() => gc({ anti_entropy_interval_ms: 10_000, gc_min_retention_hours: 0.001 })).toThrowError(
      /replication\.gc_min_retention_hours: must be at least replication\.anti_entropy_interval_ms \(10000 ms\)/
    )
    expect(() => gc({ anti_entropy_interval_ms: 5000, gc_min_retention_hours: 0.0015, gc_max_retention_hours: 0.002 }))
      .toThrowError(/replication\.gc_max_retention_hours: must be 0 \(unlimited\) or at least twice replication\.anti_entropy_interval_ms/)
    expect(() => gc({ anti_entropy_interval_ms: 5000, gc_interval_seconds: 2 })).toThrowError(
      /replication\.gc_interval_seconds: must be at least replication\.anti_entropy_interval_ms \(5000 ms\)/
    )
    expect(() => gc({ gc_min_retention_hours: "2" })).toThrowError(/replication\.gc_min_retention_hours: must be a number/)
    expect(() => gc({ gc_max_retention_hours: -1 })).toThrowError(/replication\.gc_max_retention_hours: must be between 0 and/)
  })
})
