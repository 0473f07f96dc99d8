import { describe, expect, it } from "vitest"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import { ExchangeRequest, ExchangeResponse } from "../../proto-schemas/src/Exchange.ts"
import { BinaryDecodeError, BinaryReader, BinaryWriter } from "../../src/network/Binary.ts"
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../../src/replication/ExchangeCodec.ts"

// The Schema's encoded form is the reference: the binary codec must round-trip to the same thing.
const requestJson = Schema.encodeSync(ExchangeRequest)
const responseJson = Schema.encodeSync(ExchangeResponse)

describe("ExchangeCodec", () => {
  it("round-trips every request the Schema accepts, to the same Schema-encoded form", () => {
    fc.assert(
      fc.property(Arbitrary.make(ExchangeRequest), (request) => {
        const decoded = decodeRequest(encodeRequest(request).slice())
        expect(requestJson(decoded)).toEqual(requestJson(request)) // toEqual: an absent optional field and an undefined one are the same message
        // and the decoded request passes the Schema's own validation
        expect(() => Schema.validateSync(ExchangeRequest)(decoded)).not.toThrow()
      }),
      { numRuns: 300 }
    )
  })

  it("round-trips every response the Schema accepts", () => {
    fc.assert(
      fc.property(Arbitrary.make(ExchangeResponse), (response) => {
        const decoded = decodeResponse(encodeResponse(response).slice())
        expect(responseJson(decoded)).toEqual(responseJson(response))
      }),
      { numRuns: 300 }
    )
  })

  it("keeps -0, NaN, infinities, 64-bit integers and bytes exactly", () => {
    const [request] = fc.sample(Arbitrary.make(ExchangeRequest), { seed: 7, numRuns: 1 })
    expect(request).toBeDefined()
    const w = new BinaryWriter(1)
    for (const n of [-0, NaN, Infinity, -Infinity, 1.5]) w.f64(n)
    w.i64(-(2n ** 63n))
    w.i64(2n ** 63n - 1n)
    w.bytes(new Uint8Array([0, 255, 7]))
    w.string("é漢字🙂".repeat(30))
    w.varuint(2 ** 53 - 1)
    const r = new BinaryReader(w.finish())
    expect(Object.is(r.f64(), -0)).toBe(true)
    expect(r.f64()).toBeNaN()
    expect([r.f64(), r.f64(), r.f64()]).toStrictEqual([Infinity, -Infinity, 1.5])
    expect([r.i64(), r.i64()]).toStrictEqual([-(2n ** 63n), 2n ** 63n - 1n])
    expect(r.bytes()).toStrictEqual(new Uint8Array([0, 255, 7]))
    expect(r.string()).toBe("é漢字🙂".repeat(30))
    expect(r.varuint()).toBe(2 ** 53 - 1)
    expect(r.done).toBe(true)
  })

  it("refuses truncated, padded and corrupted frames with BinaryDecodeError, never anything else", () => {
    const samples = fc.sample(Arbitrary.make(ExchangeRequest), { seed: 11, numRuns: 40 })
    for (const request of samples) {
      const bytes = encodeRequest(request).slice()
      for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 17))) {
        expect(() => decodeRequest(bytes.subarray(0, cut))).toThrow(BinaryDecodeError)
      }
      expect(() => decodeRequest(new Uint8Array([...bytes, 0]))).toThrow(BinaryDecodeError)
    }
    // random bytes: either a valid request or a BinaryDecodeError
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decodeRequest(junk)
        } catch (e) {
          expect(e).toBeInstanceOf(BinaryDecodeError)
        }
      }),
      { numRuns: 2000 }
    )
    // a count larger than the frame is refused before anything is allocated for it
    expect(() => decodeRequest(new Uint8Array([0xff, 0xff, 0xff, 0x7f]))).toThrow(/count/)
  })
})
