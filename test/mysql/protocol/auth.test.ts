/** Password scrambling / verification and the auth-phase packets. */
import { describe, expect, it } from "vitest"
import {
  CACHING_SHA2_FAST_AUTH_SUCCESS,
  CACHING_SHA2_PERFORM_FULL_AUTH,
  nativePasswordHash,
  scrambleCachingSha2,
  scrambleNativePassword,
  sha2PasswordHash,
  verifyCachingSha2,
  verifyNativePassword
} from "../../../src/mysql/protocol/Auth.ts"
import { writeAuthMoreData, writeAuthSwitchRequest } from "../../../src/mysql/protocol/Encode.ts"
import { ResponseBuffer } from "../../../src/mysql/protocol/ResponseBuffer.ts"
import { xorshift } from "./helpers.ts"

const rng = xorshift(0xa11ce)
const scramble = () => rng.bytes(20)

describe("mysql_native_password", () => {
  it("stores SHA1(SHA1(pw)), as MySQL's PASSWORD() shows it", () => {
    expect(nativePasswordHash("password").toString("hex").toUpperCase()).toBe("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")
  })
})

describe.each([
  ["mysql_native_password", nativePasswordHash, scrambleNativePassword, verifyNativePassword, 20],
  ["caching_sha2_password", sha2PasswordHash, scrambleCachingSha2, verifyCachingSha2, 32]
] as const)("%s", (_, hash, scrambleFor, verify, size) => {
  it("accepts the right password and nothing else", () => {
    for (const pw of ["secret", "é€𝄞", "x".repeat(200)]) {
      const s = scramble()
      const stored = hash(pw)
      expect(stored).toHaveLength(size)
      const resp = scrambleFor(pw, s)
      expect(resp).toHaveLength(size)
      expect(verify(s, resp, stored)).toBe(true)
      expect(verify(scramble(), resp, stored)).toBe(false)
      expect(verify(s, scrambleFor(pw + "!", s), stored)).toBe(false)
      expect(verify(s, resp.subarray(1), stored)).toBe(false)
      expect(verify(s, Buffer.alloc(0), stored)).toBe(false)
      expect(verify(s, resp, undefined)).toBe(false)
    }
  })

  it("an empty password is an empty response", () => {
    const s = scramble()
    expect(scrambleFor("", s)).toHaveLength(0)
    expect(verify(s, Buffer.alloc(0), undefined)).toBe(true)
    expect(verify(s, Buffer.alloc(0), hash("x"))).toBe(false)
  })
})

describe("caching_sha2_password fast path", () => {
  it("fast-auth result bytes", () => {
    expect([CACHING_SHA2_FAST_AUTH_SUCCESS, CACHING_SHA2_PERFORM_FULL_AUTH]).toEqual([3, 4])
    const out = new ResponseBuffer(2)
    writeAuthMoreData(out, Buffer.from([CACHING_SHA2_FAST_AUTH_SUCCESS]))
    expect(out.take().toString("hex")).toBe("0200000201" + "03")
  })
})

describe("AuthSwitchRequest", () => {
  const s = Buffer.alloc(20, 0x41)
  it("mysql_native_password: scramble + NUL, as MySQL and MariaDB send it", () => {
    const out = new ResponseBuffer(2)
    writeAuthSwitchRequest(out, "mysql_native_password", s)
    const bytes = out.take()
    expect(bytes.readUIntLE(0, 3)).toBe(1 + 22 + 21)
    expect(bytes[3]).toBe(2)
    expect(bytes.subarray(4).toString("latin1")).toBe("\xfemysql_native_password\0" + "A".repeat(20) + "\0")
  })

  it("other plugins: the data as given", () => {
    const out = new ResponseBuffer()
    writeAuthSwitchRequest(out, "caching_sha2_password", s)
    expect(out.take().subarray(4).toString("latin1")).toBe("\xfecaching_sha2_password\0" + "A".repeat(20))
  })
})

describe("malformed stored hashes", () => {
  it("are rejected, never thrown on", () => {
    const s = scramble()
    expect(verifyNativePassword(s, Buffer.alloc(19), Buffer.alloc(19))).toBe(false)
    expect(verifyNativePassword(s, Buffer.alloc(20), Buffer.alloc(32))).toBe(false)
    expect(verifyCachingSha2(s, Buffer.alloc(20), Buffer.alloc(20))).toBe(false)
    expect(verifyCachingSha2(s, Buffer.alloc(32), Buffer.alloc(0))).toBe(false)
  })
})
