/** The authentication state machine: TLS upgrade, require_secure_transport, caching_sha2_password full authentication. */
import { describe, expect, it } from "vitest"
import { scrambleCachingSha2 } from "../../../src/mysql/protocol/Auth.ts"
import { Capability } from "../../../src/mysql/protocol/Constants.ts"
import { ResponseBuffer } from "../../../src/mysql/protocol/ResponseBuffer.ts"
import { type Authenticator, startAuthentication, storedUser } from "../../../src/mysql/server/Authentication.ts"
import { packetsOf, parseHandshake } from "../protocol/helpers.ts"

const CLIENT = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA

const fixed = (caps: number) => {
  const b = Buffer.alloc(32)
  b.writeUInt32LE(caps >>> 0, 0)
  b.writeUInt32LE(1 << 24, 4)
  b[8] = 45
  return b
}

const handshakeResponse = (user: string, response: Buffer, plugin: string) =>
  Buffer.concat([fixed(CLIENT), Buffer.from(user + "\0"), Buffer.from([response.length]), response, Buffer.from(plugin + "\0")])

const setup = (auth: Partial<Authenticator>, secure = false) => {
  const authenticator: Authenticator = { users: new Map([["app", storedUser("pw")]]), randomBytes: (n) => Buffer.alloc(n, 7), ...auth }
  const out = new ResponseBuffer(0)
  let isSecure = secure
  const a = startAuthentication(authenticator, out, 1, "127.0.0.1", { secure: () => isSecure })
  const greeting = parseHandshake(packetsOf(out.take())[0]!.payload)
  let seq = 1
  const send = (payload: Buffer) => {
    const step = a.step({ sequenceId: seq, payload }, out)
    const replies = packetsOf(out.take())
    seq = (replies.at(-1)?.sequenceId ?? seq) + 1
    return { step, replies: replies.map((p) => p.payload) }
  }
  return { greeting, send, authenticator, secure: (v: boolean) => (isSecure = v) }
}

const sha2 = "caching_sha2_password"

describe("authentication", () => {
  it("offers CLIENT_SSL only with TLS configured, and CLIENT_LOCAL_FILES only with LOCAL INFILE on", () => {
    expect(setup({}).greeting.capabilities & Capability.SSL).toBe(0)
    expect(setup({ tls: true }).greeting.capabilities & Capability.SSL).toBe(Capability.SSL)
    expect(setup({}).greeting.capabilities & Capability.LOCAL_FILES).toBe(0)
    expect(setup({ localInfile: true }).greeting.capabilities & Capability.LOCAL_FILES).toBe(Capability.LOCAL_FILES)
    expect(setup({ defaultPlugin: sha2 }).greeting.authPluginName).toBe(sha2)
  })

  it("an SSLRequest starts TLS when offered, and is refused otherwise", () => {
    expect(setup({ tls: true }).send(fixed(CLIENT | Capability.SSL)).step).toEqual({ _tag: "StartTls" })
    const off = setup({}).send(fixed(CLIENT | Capability.SSL))
    expect(off.step._tag).toBe("Failed")
    expect(off.replies[0]![0]).toBe(0xff)
  })

  it("require_secure_transport refuses plaintext with 3159 and lets a secure transport in", () => {
    const plain = setup({ requireSecureTransport: true })
    const r = plain.send(handshakeResponse("app", scrambleCachingSha2("pw", plain.greeting.scramble), sha2))
    expect(r.step._tag).toBe("Failed")
    expect(r.replies[0]!.readUInt16LE(1)).toBe(3159)
    expect(r.replies[0]!.subarray(4, 9).toString()).toBe("HY000")
    const tls = setup({ requireSecureTransport: true }, true)
    expect(tls.send(handshakeResponse("app", scrambleCachingSha2("pw", tls.greeting.scramble), sha2)).step._tag).toBe("Done")
  })

  it("an empty fast-auth cache asks for full authentication; over plaintext it is refused with 1045", () => {
    const s = setup({ sha2Cache: new Set() })
    const first = s.send(handshakeResponse("app", scrambleCachingSha2("pw", s.greeting.scramble), sha2))
    expect(first.step).toEqual({ _tag: "Continue" })
    expect([...first.replies[0]!]).toEqual([0x01, 0x04])
    const key = s.send(Buffer.from([0x02]))
    expect(key.step._tag).toBe("Failed")
    expect(key.replies[0]!.readUInt16LE(1)).toBe(1045)
  })

  it("full authentication over a secure transport checks the cleartext password and fills the cache", () => {
    const cache = new Set<string>()
    const wrong = setup({ sha2Cache: cache }, true)
    wrong.send(handshakeResponse("app", scrambleCachingSha2("pw", wrong.greeting.scramble), sha2))
    expect(wrong.send(Buffer.from("nope\0")).step._tag).toBe("Failed")
    expect(cache.size).toBe(0)
    const right = setup({ sha2Cache: cache }, true)
    right.send(handshakeResponse("app", scrambleCachingSha2("pw", right.greeting.scramble), sha2))
    expect(right.send(Buffer.from("pw\0")).step).toMatchObject({ _tag: "Done", user: "app" })
    expect([...cache]).toEqual(["app"])
    // cached now: the scramble alone suffices, even over plaintext
    const fast = setup({ sha2Cache: cache })
    const r = fast.send(handshakeResponse("app", scrambleCachingSha2("pw", fast.greeting.scramble), sha2))
    expect(r.step._tag).toBe("Done")
    expect([...r.replies[0]!]).toEqual([0x01, 0x03])
    const bad = setup({ sha2Cache: cache })
    expect(bad.send(handshakeResponse("app", scrambleCachingSha2("px", bad.greeting.scramble), sha2)).step._tag).toBe("Failed")
  })
})
