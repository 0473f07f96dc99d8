import { Effect, Either } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { applyOverrides, type NodeSettings, defaults, fromToml, load } from "../../src/config/NodeConfig.ts"
import { checkReplica } from "../../src/config/ReplicaSettings.ts"
import { makeDatabaseFilter } from "../../src/replica/DatabaseFilter.ts"

const replica = (section: Record<string, unknown>, rest: Record<string, unknown> = {}): NodeSettings => {
  const s = fromToml({ replica: section, ...rest })
  checkReplica(s)
  return s
}

const valid = { enabled: true, follow_addresses: ["127.0.0.1:8081"], secret: "k" }

describe("[replica]", () => {
  it("reads every key; off by default", () => {
    expect(defaults.replica.enabled).toBe(false)
    const s = replica({
      ...valid,
      replicate_databases: ["shop", "app_*"],
      poll_interval_ms: 50,
      discovery_interval_ms: 1000,
      write_mode: "forward",
      forward_timeout_ms: 5000,
      snapshot_threshold_transactions: 0,
      snapshot_cache_ttl_seconds: 5
    })
    expect(s.replica).toEqual({
      enabled: true,
      followAddresses: ["127.0.0.1:8081"],
      replicateDatabases: ["shop", "app_*"],
      secret: "k",
      pollIntervalMs: 50,
      discoveryIntervalMs: 1000,
      writeMode: "forward",
      forwardTimeoutMs: 5000,
      snapshotThresholdTransactions: 0,
      snapshotCacheTtlSeconds: 5
    })
  })

  it("names the key that is missing or wrong", () => {
    expect(() => replica({ enabled: true, secret: "k" })).toThrowError(/replica\.follow_addresses: is required for a replica/)
    expect(() => replica({ enabled: true, follow_addresses: ["127.0.0.1:8081"] })).toThrowError(/replica\.secret: is required for a replica/)
    expect(() => replica({ ...valid, follow_addresses: ["nohost"] })).toThrowError(/replica\.follow_addresses: "nohost" is not host:port/)
    expect(() => replica({ ...valid, replicate_databases: ["__marmot_system"] })).toThrowError(/replica\.replicate_databases: __marmot_system is node-local/)
    expect(() => replica({ ...valid, poll_interval_ms: 0 })).toThrowError(/replica\.poll_interval_ms: must be between 10 and/)
    expect(() => replica({ ...valid, follow: [] })).toThrowError(/replica\.follow: unknown key/)
    expect(() => replica({ ...valid, snapshot_cache_ttl_seconds: -1 })).toThrowError(/replica\.snapshot_cache_ttl_seconds: must be between 0 and/)
    expect(() => replica({ ...valid, write_mode: "proxy" })).toThrowError(/replica\.write_mode: must be one of reject, forward/)
    expect(() => replica(valid, { cluster: { grpc_port: 8082 } })).toThrowError(/replica\.enabled: a replica is not a cluster member/)
    expect(() => replica(valid, { cluster: { seed_nodes: ["127.0.0.1:8081"] } })).toThrowError(/replica\.enabled: a replica is not a cluster member/)
  })

  it("takes follow addresses from --follow-addresses and the secret from MARMOT_REPLICA_SECRET", () => {
    const s = applyOverrides(fromToml({ replica: { enabled: true, secret: "file" } }), {
      followAddresses: ["10.0.0.1:8081", "10.0.0.2:8081"],
      replicaSecret: "env"
    })
    checkReplica(s)
    expect(s.replica.followAddresses).toEqual(["10.0.0.1:8081", "10.0.0.2:8081"])
    expect(s.replica.secret).toBe("env")
  })

  it("is checked by load after the overrides, with the key named", () => {
    const dir = mkdtempSync(join(tmpdir(), "replica-config-"))
    try {
      const file = join(dir, "marmot.toml")
      writeFileSync(file, `[replica]\nenabled = true\nsecret = "k"\n`)
      const missing = Effect.runSync(Effect.either(load(file, {})))
      expect(Either.isLeft(missing) && missing.left.message).toBe(
        "config: replica.follow_addresses: is required for a replica (or --follow-addresses host:port,...)"
      )
      const loaded = Effect.runSync(load(file, { followAddresses: ["127.0.0.1:9"] }))
      expect(loaded.replica.followAddresses).toEqual(["127.0.0.1:9"])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("replicate_databases: names and globs; empty = every database", () => {
    expect(makeDatabaseFilter([])("anything")).toBe(true)
    const only = makeDatabaseFilter(["shop", "app_*"])
    expect(["shop", "app_1", "app_"].every(only)).toBe(true)
    expect(["shop2", "other", "xapp_1"].some(only)).toBe(false)
  })
})
