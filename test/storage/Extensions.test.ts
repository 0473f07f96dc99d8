import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { resolveExtension } from "../../src/storage/Extensions.ts"

let dir: string
let ext: string

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "marmot-extres-"))
  ext = path.join(dir, "ext")
  mkdirSync(ext)
  mkdirSync(path.join(ext, "sub.so"))
  for (const f of ["plain", "a.so", "libb.so", "libc.dylib"]) writeFileSync(path.join(ext, f), "")
  writeFileSync(path.join(dir, "out.so"), "")
  symlinkSync(path.join(dir, "out.so"), path.join(ext, "out.so"))
  symlinkSync(path.join(ext, "a.so"), path.join(ext, "alias.so"))
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const codeOf = (f: () => unknown) => {
  try {
    f()
    return 0
  } catch (e) {
    return (e as { code: number }).code
  }
}

describe("resolveExtension", () => {
  it("tries name, name.so, libname.so, .dylib inside the directory (symlinks inside are fine)", () => {
    expect(resolveExtension(ext, "plain")).toBe(path.join(ext, "plain"))
    expect(resolveExtension(ext, "a")).toBe(path.join(ext, "a.so"))
    expect(resolveExtension(ext, "b")).toBe(path.join(ext, "libb.so"))
    expect(resolveExtension(ext, "c")).toBe(path.join(ext, "libc.dylib"))
    expect(resolveExtension(ext, "alias")).toBe(path.join(ext, "a.so"))
  })

  it("refuses paths and escapes with 1124, missing names, directories and a missing directory setting with 1126", () => {
    for (const name of ["../out", "/etc/passwd", "x/y", "..", ".", ".hidden", "a\\b", "out", "", "a\0"]) expect(codeOf(() => resolveExtension(ext, name)), name).toBe(1124)
    expect(codeOf(() => resolveExtension(ext, "nope"))).toBe(1126)
    expect(codeOf(() => resolveExtension(ext, "sub"))).toBe(1126)
    expect(codeOf(() => resolveExtension(undefined, "a"))).toBe(1126)
    expect(codeOf(() => resolveExtension(path.join(dir, "missing"), "a"))).toBe(1126)
  })
})
