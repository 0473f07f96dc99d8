import { describe, expect, it } from "vitest"
import { placeholderCount, splitStatements } from "../../src/sql/Translator.ts"

describe("splitStatements", () => {
  it("splits on top-level semicolons and drops empty statements", () => {
    expect(splitStatements("SELECT 1; SELECT 2;;  ; ")).toEqual(["SELECT 1", "SELECT 2"])
  })
  it("ignores semicolons in strings, identifiers and comments", () => {
    expect(splitStatements("SELECT 'a;b', \"c;\\\"d\", `e;f` -- x;y\n; /* ; */ SELECT 2 # z;w\n"))
      .toEqual(["SELECT 'a;b', \"c;\\\"d\", `e;f` -- x;y", "/* ; */ SELECT 2 # z;w"])
  })
  it("keeps backslash-escaped quotes inside strings", () => {
    expect(splitStatements("INSERT INTO t VALUES ('O\\'Brien;'); SELECT 1")).toEqual(["INSERT INTO t VALUES ('O\\'Brien;')", "SELECT 1"])
  })
  it("keeps executable comments as content", () => {
    expect(splitStatements("/*!40101 SET NAMES utf8 */; /* only a comment */;")).toEqual(["/*!40101 SET NAMES utf8 */"])
  })
  it("drops comment-only statements", () => {
    expect(splitStatements("-- hello\n; # x\n")).toEqual([])
  })
})

describe("placeholderCount", () => {
  it("counts ? outside strings and comments", () => {
    expect(placeholderCount("SELECT c FROM sbtest1 WHERE id=?")).toBe(1)
    expect(placeholderCount("SELECT '?', \"?\", `?` /* ? */ FROM t WHERE a = ? AND b = ? -- ?\n")).toBe(2)
    expect(placeholderCount("INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)")).toBe(4)
    expect(placeholderCount("SELECT 1")).toBe(0)
  })
})
