import { readFileSync } from "node:fs"
import { parse } from "smol-toml"
import { describe, expect, it } from "vitest"
import { applyOverrides, ConfigError, defaults, fromToml } from "../../src/config/NodeConfig.ts"

describe("NodeConfig", () => {
  it("fills every default from an empty file", () => {
    expect(fromToml({})).toEqual(defaults)
  })

  it("config/marmot.example.toml is valid and states exactly the defaults", () => {
    const text = readFileSync(new URL("../../config/marmot.example.toml", import.meta.url), "utf8")
    expect(fromToml(parse(text) as Record<string, unknown>)).toEqual(defaults)
  })

  it("reads [admin]; an unknown key there is named", () => {
    const s = fromToml({ admin: { http_port: 9090, bind_address: "0.0.0.0", advertise_address: "10.0.0.5:9090", secret: "a" } })
    expect(s.admin).toEqual({ httpPort: 9090, bindAddress: "0.0.0.0", advertiseAddress: "10.0.0.5:9090", secret: "a" })
    expect(fromToml({ admin: { secret: "" } }).admin.secret).toBeUndefined()
    expect(() => fromToml({ admin: { port: 1 } })).toThrowError(/admin\.port: unknown key/)
    expect(() => fromToml({ admin: { http_port: 70000 } })).toThrowError(/admin\.http_port: must be between 0 and 65535/)
  })

  it("reads the cluster, replication and transaction sections, and checks the gossip timings", () => {
    const s = fromToml({
      cluster: { grpc_port: 8081, seed_nodes: ["10.0.0.1:8081"], cluster_secret: "k", gossip_interval_ms: 200 },
      replication: { default_write_consistency: "ALL", anti_entropy_interval_ms: 500 },
      transaction: { heartbeat_timeout_seconds: 3 }
    })
    expect(s.cluster).toMatchObject({ grpcPort: 8081, seedNodes: ["10.0.0.1:8081"], clusterSecret: "k", gossipIntervalMs: 200 })
    expect(s.replication).toMatchObject({ defaultWriteConsistency: "ALL", antiEntropyIntervalMs: 500 })
    expect(s.transaction.heartbeatTimeoutSeconds).toBe(3)
    expect(() => fromToml({ cluster: { seed_nodes: "a:1" } })).toThrowError(/cluster\.seed_nodes: must be an array of strings/)
    expect(() => fromToml({ replication: { default_write_consistency: "TWO" } })).toThrowError(/replication\.default_write_consistency: must be one of ONE, QUORUM, ALL/)
    expect(() => fromToml({ cluster: { suspect_timeout_ms: 500, gossip_interval_ms: 1000 } })).toThrowError(/cluster\.suspect_timeout_ms: must be greater than/)
    expect(() => fromToml({ cluster: { grpc_prot: 1 } })).toThrowError(/cluster\.grpc_prot: unknown key/)
    expect(applyOverrides(defaults, { clusterSecret: "from-env" }).cluster.clusterSecret).toBe("from-env")
  })

  it("reads the mysql section and users", () => {
    const s = fromToml({ node_id: 3, mysql: { port: 3307, users: [{ name: "app", password: "pw" }] } })
    expect(s.nodeId).toBe(3)
    expect(s.mysql.port).toBe(3307)
    expect(s.mysql.users).toEqual([{ name: "app", password: "pw" }])
  })

  it("names an unknown key", () => {
    expect(() => fromToml({ mysql: { prot: 1 } })).toThrowError(new ConfigError({ key: "mysql.prot", reason: "unknown key" }))
    expect(() => fromToml({ nodeid: 1 })).toThrowError(/nodeid: unknown key/)
    expect(() => fromToml({ mysql: { users: [{ name: "a", pass: "x" }] } })).toThrowError(/mysql\.users\[0\]\.pass: unknown key/)
  })

  it("names a key with a bad value", () => {
    expect(() => fromToml({ mysql: { port: "x" } })).toThrowError(/mysql\.port: must be an integer/)
    expect(() => fromToml({ mysql: { port: 70000 } })).toThrowError(/mysql\.port: must be between 0 and 65535/)
    expect(() => fromToml({ logging: { level: "loud" } })).toThrowError(/logging\.level: must be one of/)
    expect(() => fromToml({ mysql: { auto_id_mode: "wide" } })).toThrowError(/mysql\.auto_id_mode: must be one of compact, extended/)
  })

  it("reads auto_id_mode (default compact, as Marmot)", () => {
    expect(fromToml({}).mysql.autoIdMode).toBe("compact")
    expect(fromToml({ mysql: { auto_id_mode: "extended" } }).mysql.autoIdMode).toBe("extended")
  })

  it("lets command-line flags override the file", () => {
    const s = applyOverrides(fromToml({ mysql: { port: 3307 } }), { mysqlPort: 0, dataDir: "/tmp/x" })
    expect(s.mysql.port).toBe(0)
    expect(s.dataDir).toBe("/tmp/x")
  })
})
