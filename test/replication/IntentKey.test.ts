import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import {
  databaseKey,
  ddlKey,
  decodeKey,
  dmlKey,
  keyFromString,
  keyString,
  type PkValue
} from "../../src/replication/IntentKey.ts"

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
const golden = (...parts: Array<string>): string => parts.join("").replace(/\s+/g, "")

/** The identity SQLite gives a PK value: integers whatever their JS type, floats, text, blobs. */
const canonical = (v: PkValue): string => {
  if (v === null) return "null"
  switch (typeof v) {
    case "bigint":
      return `int ${v}`
    case "number":
      return Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63 ? `int ${BigInt(v)}` : `float ${v}`
    case "string":
      return `text ${JSON.stringify(v)}`
    default:
      return `blob ${hex(v)}`
  }
}
const canonicalRow = (table: string, pk: ReadonlyArray<PkValue>): string => JSON.stringify([table, pk.map(canonical)])

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
/** Any PK value, text over all of Unicode (well-formed, as SQLite hands it out). */
const anyValue: fc.Arbitrary<PkValue> = fc.oneof(
  fc.constant(null),
  int64,
  fc.integer(),
  fc.double(),
  fc.string({ unit: "binary" }),
  fc.uint8Array({ maxLength: 20 })
)
/** A small domain where equal values (in different JS forms) come up all the time. */
const nearValue: fc.Arbitrary<PkValue> = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -2, max: 2 }),
  fc.bigInt({ min: -2n, max: 2n }),
  fc.constantFrom(-0, 0.5, -0.5, NaN, Infinity, -Infinity, 2 ** 63, -(2 ** 63)),
  fc.constantFrom(2n ** 63n - 1n, -(2n ** 63n)),
  fc.constantFrom("", "a", "b", "ab", "é", "\u0000"),
  fc.constantFrom(new Uint8Array(), Uint8Array.of(0x61), Uint8Array.of(0x61, 0x62), Uint8Array.of(0))
)
const table = fc.constantFrom("t", "u", "tt", "é", "")
const row = (value: fc.Arbitrary<PkValue>) =>
  fc.tuple(table, fc.array(value, { maxLength: 4 }))

describe("IntentKey", () => {
  it("golden bytes", () => {
    assert.strictEqual(hex(dmlKey("users", [42])), golden("01", "05 7573657273", "01", "01 000000000000002a"))
    assert.strictEqual(hex(dmlKey("t", [-1n])), golden("01", "01 74", "01", "01 ffffffffffffffff"))
    assert.strictEqual(
      hex(dmlKey("order_items", [7n, "é"])),
      golden("01", "0b 6f726465725f6974656d73", "02", "01 0000000000000007", "03 02 c3a9")
    )
    assert.strictEqual(
      hex(dmlKey("t", [null, 1.5, Uint8Array.of(0xde, 0xad)])),
      golden("01", "01 74", "03", "00", "02 3ff8000000000000", "04 02 dead")
    )
    assert.strictEqual(hex(dmlKey("t", [NaN])), golden("01 01 74 01", "02 7ff8000000000000"))
    assert.strictEqual(hex(dmlKey("t", [Infinity, -Infinity])), golden("01 01 74 02", "02 7ff0000000000000", "02 fff0000000000000"))
    assert.strictEqual(hex(dmlKey("t", [-(2n ** 63n), 2n ** 63n - 1n])), golden("01 01 74 02", "01 8000000000000000", "01 7fffffffffffffff"))
    // 2^53 is integral but not safe; 2^63 is outside int64, so it stays a float.
    assert.strictEqual(hex(dmlKey("t", [2 ** 53, 2 ** 63])), golden("01 01 74 02", "01 0020000000000000", "02 43e0000000000000"))
    assert.strictEqual(hex(dmlKey("t", [-(2 ** 32) - 1])), golden("01 01 74 01", "01 fffffffeffffffff"))
    assert.strictEqual(hex(dmlKey("t", ["", new Uint8Array()])), golden("01 01 74 02", "03 00", "04 00"))
    assert.strictEqual(hex(dmlKey("t", ["😀"])), golden("01 01 74 01", "03 04 f09f9880"))
    assert.strictEqual(hex(dmlKey("t", [])), golden("01 01 74 00"))
    assert.strictEqual(hex(dmlKey("a".repeat(200), [null])), golden("01 c801", "61".repeat(200), "01 00"))
    assert.strictEqual(hex(ddlKey("users")), golden("fe 05 7573657273"))
    assert.strictEqual(hex(databaseKey("shop")), golden("ff 04 73686f70"))
    assert.strictEqual(hex(databaseKey("")), "ff00")
  })

  it.prop("different PK tuples give different keys, equal ones the same", [row(nearValue), row(nearValue)], ([[ta, a], [tb, b]]) => {
    assert.strictEqual(hex(dmlKey(ta, a)) === hex(dmlKey(tb, b)), canonicalRow(ta, a) === canonicalRow(tb, b))
  }, { fastCheck: { numRuns: 2000 } })

  it.prop("keys are injective over arbitrary values", [row(anyValue), row(anyValue)], ([[ta, a], [tb, b]]) => {
    assert.strictEqual(hex(dmlKey(ta, a)) === hex(dmlKey(tb, b)), canonicalRow(ta, a) === canonicalRow(tb, b))
    // A tuple's key never equals the key of a tuple with a value dropped or added.
    if (a.length > 0) assert.notStrictEqual(hex(dmlKey(ta, a)), hex(dmlKey(ta, a.slice(1))))
  }, { fastCheck: { numRuns: 500 } })

  it.prop("table/database/row keys never collide", [fc.string({ unit: "binary" }), row(anyValue)], ([name, [t, pk]]) => {
    const keys = new Set([hex(ddlKey(name)), hex(databaseKey(name)), hex(dmlKey(t, pk))])
    assert.strictEqual(keys.size, 3)
  })

  it.prop("an integral number and the equal bigint give the same key", [int64], ([i]) => {
    const n = Number(i)
    if (BigInt(n) === i) assert.strictEqual(hex(dmlKey("t", [n])), hex(dmlKey("t", [i])))
    const safe = BigInt.asIntN(53, i)
    assert.strictEqual(hex(dmlKey("t", [Number(safe), "x"])), hex(dmlKey("t", [safe, "x"])))
  })

  it("canonical -0 and NaN", () => {
    const zero = hex(dmlKey("t", [0]))
    assert.strictEqual(hex(dmlKey("t", [-0])), zero)
    assert.strictEqual(hex(dmlKey("t", [0n])), zero)
    // A NaN with another payload (bits 0x7ff8000000000001 and a negative quiet NaN).
    const bits = new DataView(new ArrayBuffer(8))
    bits.setUint32(0, 0x7ff8_0000)
    bits.setUint32(4, 1)
    const otherNaN = bits.getFloat64(0)
    bits.setUint32(0, 0xfff8_0000)
    const negativeNaN = bits.getFloat64(0)
    assert.isTrue(Number.isNaN(otherNaN) && Number.isNaN(negativeNaN))
    assert.strictEqual(hex(dmlKey("t", [otherNaN])), hex(dmlKey("t", [NaN])))
    assert.strictEqual(hex(dmlKey("t", [negativeNaN])), hex(dmlKey("t", [NaN])))
    // 2.0 as a REAL equals the INTEGER 2 in SQLite; 2.5 does not.
    assert.strictEqual(hex(dmlKey("t", [2])), hex(dmlKey("t", [2n])))
    assert.notStrictEqual(hex(dmlKey("t", [2.5])), hex(dmlKey("t", [2n])))
  })

  it("text and blob with the same bytes are different keys; a lone surrogate is U+FFFD", () => {
    assert.notStrictEqual(hex(dmlKey("t", ["a"])), hex(dmlKey("t", [Uint8Array.of(0x61)])))
    assert.strictEqual(hex(dmlKey("t", ["\ud800"])), hex(dmlKey("t", ["\ufffd"])))
    assert.strictEqual(hex(dmlKey("\udc00", [])), hex(dmlKey("\ufffd", [])))
  })

  it("refuses integers outside int64", () => {
    assert.throws(() => dmlKey("t", [2n ** 63n]), RangeError)
    assert.throws(() => dmlKey("t", [-(2n ** 63n) - 1n]), RangeError)
  })

  it.prop("decodeKey reads a key back", [row(anyValue), fc.string({ unit: "binary" })], ([[t, pk], name]) => {
    const key = dmlKey(t, pk)
    const decoded = Either.getOrThrow(decodeKey(key))
    assert.strictEqual(decoded._tag, "Dml")
    if (decoded._tag !== "Dml") return
    assert.strictEqual(canonicalRow(decoded.table, decoded.pk), canonicalRow(t, pk))
    assert.strictEqual(hex(dmlKey(decoded.table, decoded.pk)), hex(key))
    // A plain Uint8Array (as the wire decodes it) reads the same.
    assert.deepStrictEqual(Either.getOrThrow(decodeKey(Uint8Array.from(key))), decoded)
    assert.deepStrictEqual(Either.getOrThrow(decodeKey(ddlKey(name))), { _tag: "Ddl", table: name })
    assert.deepStrictEqual(Either.getOrThrow(decodeKey(databaseKey(name))), { _tag: "Database", name })
  })

  it("decodeKey refuses malformed keys", () => {
    const bad = (h: string, reason: string) => {
      const result = decodeKey(Buffer.from(h, "hex"))
      assert.isTrue(Either.isLeft(result), h)
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left._tag, "MalformedIntentKey")
        assert.include(result.left.message, reason)
      }
    }
    bad("", "truncated")
    bad("02", "unknown key kind 0x2")
    bad("010174", "truncated")
    bad("0101740101000000", "truncated")
    bad("0101740107", "unknown value tag 0x7")
    bad("01017400ff", "trailing bytes")
    bad("fe01ff", "invalid UTF-8")
    bad("fe8000", "non-minimal length")
    bad("fe05", "truncated")
    bad("feffffffffff", "length too long")
  })

  it.prop("keyString is hex in byte order, and keyFromString inverts it", [fc.uint8Array(), fc.uint8Array()], ([a, b]) => {
    const sa = keyString(a)
    assert.strictEqual(sa, hex(a))
    assert.strictEqual(keyString(Buffer.from(a)), sa)
    assert.deepStrictEqual(keyFromString(sa), a)
    const byBytes = Buffer.compare(Buffer.from(a), Buffer.from(b))
    const byString = sa < keyString(b) ? -1 : sa > keyString(b) ? 1 : 0
    assert.strictEqual(byString, byBytes)
  })
})
