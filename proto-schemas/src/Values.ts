/**
 * SQL values as they travel between nodes: exactly what better-sqlite3 hands out with
 * `safeIntegers` on (INTEGER → bigint, REAL → number, TEXT → string, BLOB → Buffer, NULL → null).
 *
 * The encoded form must survive both JSON (ndjson RPC, the admin API, test fixtures) and msgpack
 * (the peer RPC): JSON has no bigint, no bytes, no NaN/Infinity and drops the sign of -0. So every
 * value that JSON cannot carry as itself becomes a one-key object (documented in ../DESIGN.md):
 *
 * | value                              | encoded                    |
 * |------------------------------------|----------------------------|
 * | null                               | null                       |
 * | string                             | the string                 |
 * | finite number other than -0        | the number                 |
 * | -0, NaN, Infinity, -Infinity        | {"f": "-0" / "NaN" / "Infinity" / "-Infinity"} |
 * | bigint (signed 64-bit)             | {"i": "<decimal digits>"}  |
 * | Uint8Array / Buffer                | {"b": "<standard base64>"} |
 *
 * Decoded bytes are plain `Uint8Array`s (proto-schemas depends on nothing but effect); wrap them
 * with `Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)` where a Buffer is needed.
 */
import { Schema } from "effect"

export type SqlValue = null | number | bigint | string | Uint8Array

const isPlainNumber = (n: number): boolean => Number.isFinite(n) && !Object.is(n, -0)

/** Numbers JSON carries as themselves. */
const PlainNumber = Schema.Number.pipe(
  Schema.filter(isPlainNumber, {
    identifier: "PlainNumber",
    arbitrary: () => (fc) => fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => n === 0 ? 0 : n)
  })
)

const specialNames = ["-0", "NaN", "Infinity", "-Infinity"] as const

/** -0, NaN and the infinities as `{f: name}`. */
const SpecialNumber = Schema.transform(
  Schema.Struct({ f: Schema.Literal(...specialNames) }),
  Schema.Number.pipe(
    Schema.filter((n) => !isPlainNumber(n), {
      identifier: "SpecialNumber",
      arbitrary: () => (fc) => fc.constantFrom(-0, NaN, Infinity, -Infinity)
    })
  ),
  {
    strict: true,
    decode: ({ f }) => f === "-0" ? -0 : Number(f),
    encode: (n) => ({ f: Object.is(n, -0) ? "-0" as const : n > 0 ? "Infinity" as const : n < 0 ? "-Infinity" as const : "NaN" as const })
  }
)

/** SQLite INTEGERs are signed 64-bit. */
export const Int64FromSelf = Schema.BigIntFromSelf.pipe(Schema.betweenBigInt(-(2n ** 63n), 2n ** 63n - 1n))

/** A signed 64-bit integer as `{i: "<decimal>"}`. */
const Int64 = Schema.transform(
  Schema.Struct({ i: Schema.BigInt }),
  Int64FromSelf,
  { strict: true, decode: ({ i }) => i, encode: (i) => ({ i }) }
)

/** Bytes as `{b: "<base64>"}`. */
const Bytes = Schema.transform(
  Schema.Struct({ b: Schema.Uint8ArrayFromBase64 }),
  Schema.Uint8ArrayFromSelf,
  { strict: true, decode: ({ b }) => b, encode: (b) => ({ b }) }
)

export const SqlValue: Schema.Schema<SqlValue, SqlValueEncoded> = Schema.Union(
  Schema.Null,
  Schema.String,
  PlainNumber,
  SpecialNumber,
  Int64,
  Bytes
).annotations({ identifier: "SqlValue" })

export type SqlValueEncoded =
  | null
  | string
  | number
  | { readonly f: typeof specialNames[number] }
  | { readonly i: string }
  | { readonly b: string }

/** A row image: one value per column, positional. */
export const SqlRow = Schema.Array(SqlValue)
export type SqlRow = ReadonlyArray<SqlValue>
