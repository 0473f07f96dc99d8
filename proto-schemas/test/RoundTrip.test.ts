import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { Packr, Unpackr } from "msgpackr"
import { ExchangeRequest, ExchangeResponse } from "../src/Exchange.ts"
import { ClockSkewError, PeerUnavailable, SchemaMismatch, Unauthorized } from "../src/Errors.ts"
import { Hlc, make as makeHlc } from "../src/Hlc.ts"
import { NodeId, nodeId } from "../src/NodeId.ts"
import { KeyBytes, RowChange, RowVersion } from "../src/RowChange.ts"
import {
  AbortRequest,
  Ack,
  CommitRequest,
  CommittedTransaction,
  Conflict,
  ConsistencyLevel,
  parseTxnId,
  Prepared,
  PrepareRequest,
  PrepareVote,
  Rejected,
  txnIdOf
} from "../src/Transaction.ts"
import { SqlValue } from "../src/Values.ts"

/**
 * Deep equality with the wire's blind spots made explicit: bytes compare by content (a decoded
 * Uint8Array may come back as a Buffer), NaN equals NaN, and a key whose value is undefined is the
 * same as a missing key (JSON drops it). Class instances must come back as the same class.
 * -0 equals 0 here (a node id or a version of -0 is just 0); SQL values, where the sign is kept,
 * are checked by comparing encodings, which write -0 as {"f": "-0"}.
 */
const same = (a: unknown, b: unknown, path = "$"): void => {
  if (typeof a === "number" && typeof b === "number") {
    assert.isTrue(a === b || (Number.isNaN(a) && Number.isNaN(b)), `${path}: ${a} vs ${b}`)
    return
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    assert.isTrue(a instanceof Uint8Array && b instanceof Uint8Array, `${path}: bytes vs non-bytes`)
    assert.strictEqual(Buffer.from(a as Uint8Array).toString("hex"), Buffer.from(b as Uint8Array).toString("hex"), path)
    return
  }
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
    assert.strictEqual(a, b, path)
    return
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    assert.isTrue(Array.isArray(a) && Array.isArray(b), `${path}: array vs non-array`)
    const [x, y] = [a as Array<unknown>, b as Array<unknown>]
    assert.strictEqual(x.length, y.length, `${path}.length`)
    x.forEach((v, i) => same(v, y[i], `${path}[${i}]`))
    return
  }
  assert.strictEqual(Object.getPrototypeOf(a), Object.getPrototypeOf(b), `${path}: class`)
  const keys = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined).sort()
  assert.deepStrictEqual(keys(a), keys(b), `${path}: keys`)
  for (const k of keys(a)) same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)
}

const packr = new Packr()
const unpackr = new Unpackr()

/** Every schema that crosses a process boundary. */
const schemas = {
  NodeId,
  Hlc,
  SqlValue,
  KeyBytes,
  RowVersion,
  RowChange,
  ConsistencyLevel,
  PrepareRequest,
  PrepareVote,
  CommitRequest,
  AbortRequest,
  Ack,
  CommittedTransaction,
  ExchangeRequest,
  ExchangeResponse,
  PeerUnavailable,
  ClockSkewError,
  SchemaMismatch,
  Unauthorized
} satisfies Record<string, Schema.Schema<any, any, never>>

const roundTrip = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encodeSync(schema)
  const decode = Schema.decodeUnknownSync(schema)
  return (value: A): void => {
    const encoded = encode(value)
    same(decode(encoded), value, "direct")
    const json = JSON.stringify(encoded)
    same(decode(JSON.parse(json)), value, "json")
    same(decode(unpackr.unpack(packr.pack(encoded))), value, "msgpack")
    // What came back encodes to the same JSON (this is where a lost -0 in a SqlValue would show).
    assert.strictEqual(JSON.stringify(encode(decode(JSON.parse(json)))), json)
    assert.strictEqual(JSON.stringify(encode(decode(unpackr.unpack(packr.pack(encoded))))), json)
  }
}

describe("wire round trips (direct, JSON, msgpack)", () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it.prop(`${name}: decode(encode(x)) = x`, [schema], ([value]) => roundTrip(schema as Schema.Schema<unknown, unknown>)(value), {
      fastCheck: { numRuns: 200 }
    })
  }
})

describe("SqlValue encoding", () => {
  const encode = Schema.encodeSync(SqlValue)
  const decode = Schema.decodeUnknownEither(SqlValue)

  it("uses the documented forms", () => {
    assert.deepStrictEqual(
      [null, "x", 1.5, 0, -0, NaN, Infinity, -Infinity, 5n, -(2n ** 63n), Uint8Array.of(1, 2, 255)].map((v) => encode(v)),
      [null, "x", 1.5, 0, { f: "-0" }, { f: "NaN" }, { f: "Infinity" }, { f: "-Infinity" }, { i: "5" }, { i: "-9223372036854775808" }, { b: "AQL/" }]
    )
  })

  it("keeps a Buffer's bytes only (not its pool)", () => {
    const pooled = Buffer.from("hello")
    assert.deepStrictEqual(encode(pooled), { b: "aGVsbG8=" })
  })

  it("refuses what is not a SQL value", () => {
    for (const bad of [{ i: "1.5" }, { i: "9223372036854775808" }, { b: "not base64!" }, { f: "nan" }, {}, [1], true]) {
      assert.isTrue(Either.isLeft(decode(bad)), JSON.stringify(bad))
    }
    assert.throws(() => encode(2n ** 63n))
  })
})

describe("RowChange", () => {
  const base = { database: "d", table: "t", key: Uint8Array.of(1), columns: ["id", "v"] }

  it("checks the images against the op", () => {
    assert.doesNotThrow(() => new RowChange({ ...base, op: "I", after: [1n, "a"] }))
    assert.doesNotThrow(() => new RowChange({ ...base, op: "U", before: [1n, "a"], after: [1n, "b"], baseStamp: { stamp: 5n, nodeId: nodeId(2) } }))
    assert.doesNotThrow(() => new RowChange({ ...base, op: "D", before: [1n, "a"] }))
    assert.throws(() => new RowChange({ ...base, op: "I", before: [1n, "a"], after: [1n, "a"] }))
    assert.throws(() => new RowChange({ ...base, op: "U", after: [1n, "a"] }))
    assert.throws(() => new RowChange({ ...base, op: "D", before: [1n, "a"], after: [1n, "a"] }))
    assert.throws(() => new RowChange({ ...base, op: "I", after: [1n] }))
  })

  it("has a readable wire form", () => {
    const change = new RowChange({ ...base, op: "U", before: [1n, "a"], after: [1n, null], baseStamp: { stamp: 65536n, nodeId: nodeId(2) } })
    assert.deepStrictEqual(JSON.parse(JSON.stringify(Schema.encodeSync(RowChange)(change))), {
      database: "d",
      table: "t",
      op: "U",
      key: "AQ==",
      columns: ["id", "v"],
      before: [{ i: "1" }, "a"],
      after: [{ i: "1" }, null],
      baseStamp: { stamp: "65536", nodeId: 2 }
    })
  })
})

describe("PrepareVote", () => {
  it("decodes each variant by its tag", () => {
    const decode = Schema.decodeUnknownSync(PrepareVote)
    assert.instanceOf(decode({ _tag: "Prepared", hlc: { wallMs: 1, logical: 0, nodeId: 1 } }), Prepared)
    assert.instanceOf(decode({ _tag: "Conflict", key: "AQ==", holder: "x", reason: "stale" }), Conflict)
    assert.instanceOf(decode({ _tag: "Rejected", code: 1146, sqlState: "42S02", message: "no table" }), Rejected)
    assert.throws(() => decode({ _tag: "Conflict", key: "AQ==", holder: "x", reason: "other" }))
  })
})

describe("txnIdOf", () => {
  it("formats and parses", () => {
    const h = makeHlc(1_700_000_000_000, 7, 3)
    const id = txnIdOf(h)
    assert.strictEqual(id, "018bcfe568000007-00000003")
    same(parseTxnId(id), h)
    assert.isUndefined(parseTxnId("nope"))
    assert.isUndefined(parseTxnId("ffffffffffffffff-00000001"))
  })

  it.prop("string order is HLC order", [Hlc, Hlc], ([a, b]) => {
    const [x, y] = [txnIdOf(a), txnIdOf(b)]
    const byString = x < y ? -1 : x > y ? 1 : 0
    const byHlc = a.wallMs !== b.wallMs ? Math.sign(a.wallMs - b.wallMs) : a.logical !== b.logical ? Math.sign(a.logical - b.logical) : Math.sign(a.nodeId - b.nodeId)
    assert.strictEqual(byString, byHlc)
    same(parseTxnId(x), a)
  })
})

describe("errors", () => {
  it("have readable messages and survive the wire as their class", () => {
    const error = new ClockSkewError({ driftMs: 4000, maxDriftMs: 500, nodeId: nodeId(7) })
    assert.strictEqual(error.message, "clock of node 7 is 4000 ms ahead (limit 500 ms)")
    const wire = JSON.parse(JSON.stringify(Schema.encodeSync(ClockSkewError)(error)))
    assert.deepStrictEqual(wire, { _tag: "ClockSkewError", driftMs: 4000, maxDriftMs: 500, nodeId: 7 })
    const back = Schema.decodeUnknownSync(Schema.Union(PeerUnavailable, ClockSkewError, SchemaMismatch, Unauthorized))(wire)
    assert.instanceOf(back, ClockSkewError)
    assert.strictEqual(new PeerUnavailable({ nodeId: nodeId(2) }).message, "peer 2 is unavailable")
    assert.strictEqual(
      new SchemaMismatch({ database: "shop", expected: 4, actual: 3 }).message,
      "schema of database shop is at version 3, expected 4"
    )
    assert.strictEqual(new Unauthorized().message, "unauthorized peer")
  })
})

describe("schemas ignore unknown fields (additive evolution)", () => {
  it("a newer peer's extra fields are dropped, not refused", () => {
    const commit = Schema.decodeUnknownSync(CommitRequest)({
      txnId: "a",
      commitHlc: { wallMs: 1, logical: 2, nodeId: 3, future: true },
      future: "field"
    })
    same(commit, new CommitRequest({ txnId: "a", commitHlc: makeHlc(1, 2, 3) }))
    same(Schema.decodeUnknownSync(AbortRequest)({ txnId: "a", reason: "later" }), new AbortRequest({ txnId: "a" }))
    same(Schema.decodeUnknownSync(Ack)({ hlc: { wallMs: 0, logical: 0, nodeId: 0 }, extra: 1 }), new Ack({ hlc: makeHlc(0, 0, 0) }))
  })
})
