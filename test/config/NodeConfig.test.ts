import { describe, expect, it } from "vitest"
import { applyOverrides, ConfigError, defaults, fromToml } from "../../src/config/NodeConfig.ts"

describe("NodeConfig", () => {
  it("fills every default from an empty file", () => {
    expect(fromToml({})).toEqual(defaults)
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
