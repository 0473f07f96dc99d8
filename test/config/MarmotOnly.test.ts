import { Effect, Either } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { fromToml, load } from "../../src/config/NodeConfig.ts"

describe("Marmot sections that configure nothing here", () => {
  it("refuses [connection_pool] and [coordinator], naming the key and what to set instead", () => {
    expect(() => fromToml({ connection_pool: { pool_size: 4 } })).toThrowError(
      /^config: connection_pool\.pool_size: marmot-ts has no SQLite connection pool .* scale with mysql\.workers/
    )
    expect(() => fromToml({ coordinator: { prepare_timeout_ms: 2000, commit_timeout_ms: 2000 } })).toThrowError(
      /^config: coordinator\.prepare_timeout_ms: .* bounded by replication\.write_timeout_ms: set that instead/
    )
    expect(() => fromToml({ coordinator: {} })).toThrowError(/^config: coordinator: /)
  })

  it("stops the node at load, before anything starts", () => {
    const dir = mkdtempSync(join(tmpdir(), "marmot-only-"))
    try {
      const file = join(dir, "marmot.toml")
      writeFileSync(file, "[coordinator]\nabort_timeout_ms = 2000\n")
      const loaded = Effect.runSync(Effect.either(load(file, {})))
      expect(Either.isLeft(loaded) && loaded.left.message).toMatch(/^config: coordinator\.abort_timeout_ms: /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
