import { describe, expect, it } from "vitest"
import { fromToml } from "../../src/config/NodeConfig.ts"

const ddl = (section: Record<string, unknown>) => fromToml({ ddl: section }).ddl

describe("[ddl] keys", () => {
  it("defaults to Marmot's 30 s DDL lock lease", () => {
    expect(ddl({})).toEqual({ lockLeaseMs: 30_000 })
    expect(ddl({ lock_lease_seconds: 5 })).toEqual({ lockLeaseMs: 5000 })
  })

  it("refuses a bad lease or an unknown key, naming it", () => {
    expect(() => ddl({ lock_lease_seconds: 0 })).toThrowError(/ddl\.lock_lease_seconds/)
    expect(() => ddl({ lock_lease: 5 })).toThrowError(/ddl\.lock_lease: unknown key/)
  })
})
