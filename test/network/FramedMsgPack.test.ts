import { describe, expect, it } from "vitest"
import { framedMsgPack } from "../../src/network/FramedMsgPack.ts"

const messages = [
  { _tag: "Request", id: "1", tag: "PullLog", payload: { limit: 500 } },
  { _tag: "Chunk", id: "2", values: [{ bytes: Buffer.alloc(200_000, 7) }] },
  { _tag: "Exit", id: "3", exit: { _tag: "Success", value: "ok" } }
]

/** msgpack gives binary as a Buffer or a Uint8Array, depending on what it decoded from. */
const bytesAsBuffer = (message: unknown): unknown =>
  JSON.parse(JSON.stringify(message, (_, v) => v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : v))

const stream = (): Uint8Array => {
  const encoder = framedMsgPack.unsafeMake()
  const frames = messages.map((m) => encoder.encode(m) as Uint8Array)
  return Buffer.concat(frames)
}

describe("framed msgpack", () => {
  it("decodes messages whatever the pieces they arrive in", () => {
    const bytes = stream()
    for (const pieceBytes of [1, 3, 4, 5, 1000, 65536, bytes.byteLength]) {
      const decoder = framedMsgPack.unsafeMake()
      const decoded: Array<unknown> = []
      for (let at = 0; at < bytes.byteLength; at += pieceBytes) decoded.push(...decoder.decode(bytes.subarray(at, at + pieceBytes)))
      expect(decoded.map(bytesAsBuffer)).toEqual(messages.map(bytesAsBuffer))
    }
  })

  it("refuses a frame longer than the limit (a broken stream)", () => {
    const decoder = framedMsgPack.unsafeMake()
    expect(() => decoder.decode(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0]))).toThrow(/exceeds/)
  })
})
