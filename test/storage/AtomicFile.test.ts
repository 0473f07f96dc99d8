import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { writeAtomically } from "../../src/storage/AtomicFile.ts"

const dir = mkdtempSync(join(tmpdir(), "atomic-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("writeAtomically", () => {
  it("concurrent saves of one file all succeed, the last one stays whole, and no temp file is left", async () => {
    const path = join(dir, "state.json")
    const texts = Array.from({ length: 200 }, (_, i) => JSON.stringify({ i, pad: "x".repeat(i * 37) }))
    await Promise.all(texts.map((t) => writeAtomically(dir, path, t)))
    expect(readFileSync(path, "utf8")).toBe(texts[199])
    expect(readdirSync(dir)).toEqual(["state.json"])
  })
})
