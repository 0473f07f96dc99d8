/**
 * One captured row change: the unit that PREPARE carries, the applier applies under LWW, and the
 * commit log stores and anti-entropy ships.
 */
import { Arbitrary, Schema } from "effect"
import { NodeId, nodeId } from "./NodeId.ts"
import { SqlRow } from "./Values.ts"

/**
 * A binary intent key (src/replication/IntentKey.ts: 0x01 table + primary key, 0xFE table,
 * 0xFF database), standard base64 on the wire.
 */
export const KeyBytes = Schema.Uint8ArrayFromBase64.annotations({ identifier: "KeyBytes" })

/** A stamp as `Hlc.toStamp` makes it: non-negative, fits a signed 64-bit INTEGER. */
export const Stamp = Schema.BigInt.pipe(Schema.betweenBigInt(0n, 2n ** 63n - 1n))

/**
 * A row's LWW version: the stamp of the commit that last wrote it and that commit's coordinator.
 * Ordered by `Hlc.compareStamps`.
 */
export const RowVersion = Schema.Struct({ stamp: Stamp, nodeId: NodeId }).annotations({ identifier: "RowVersion" })
export type RowVersion = typeof RowVersion.Type

/** The version of a row that has no version record yet (written before replication saw it). */
export const noVersion: RowVersion = { stamp: 0n, nodeId: nodeId(0) }

/** I = insert (after image only), U = update (both), D = delete (before image only). */
export const Op = Schema.Literal("I", "U", "D")
export type Op = typeof Op.Type

const imagesProblem = (c: {
  readonly op: Op
  readonly columns: ReadonlyArray<string>
  readonly before?: SqlRow | undefined
  readonly after?: SqlRow | undefined
}): string | undefined => {
  if ((c.op === "I") !== (c.before === undefined)) return `op ${c.op}: before image must be ${c.op === "I" ? "absent" : "present"}`
  if ((c.op === "D") !== (c.after === undefined)) return `op ${c.op}: after image must be ${c.op === "D" ? "absent" : "present"}`
  if (c.before !== undefined && c.before.length !== c.columns.length) return "before image and columns differ in length"
  if (c.after !== undefined && c.after.length !== c.columns.length) return "after image and columns differ in length"
  return undefined
}

const fields = {
  database: Schema.String,
  table: Schema.String,
  op: Op,
  /** The intent key of the row (from the after image for I, the before image for U and D). */
  key: KeyBytes,
  /** Column names, in the order of the images. */
  columns: Schema.Array(Schema.String),
  /** The row before the change (U, D). */
  before: Schema.optional(SqlRow),
  /** The row after the change (I, U). */
  after: Schema.optional(SqlRow),
  /**
   * The row version the coordinator read when the statement ran, for the stale-read check.
   * Absent: no check is asked for (ONE, or a coordinator that does not track bases). Present: a
   * participant whose stored version of `key` (live row or tombstone; `noVersion` when it has
   * none) is later than this answers Conflict "stale", and the client gets 1213. A row the
   * coordinator found without a version record is sent as `noVersion`.
   */
  baseStamp: Schema.optional(RowVersion)
}

const arbitrary = () => (fc: typeof import("effect").FastCheck) => {
  const value = Arbitrary.make(SqlRow.value)
  return fc.record({
    database: fc.string(),
    table: fc.string(),
    op: fc.constantFrom<Op>("I", "U", "D"),
    key: fc.uint8Array({ maxLength: 40 }),
    width: fc.nat({ max: 6 }),
    baseStamp: fc.option(Arbitrary.make(RowVersion), { nil: undefined })
  }).chain(({ width, ...rest }) =>
    fc.record({
      columns: fc.array(fc.string(), { minLength: width, maxLength: width }),
      before: rest.op === "I" ? fc.constant(undefined) : fc.array(value, { minLength: width, maxLength: width }),
      after: rest.op === "D" ? fc.constant(undefined) : fc.array(value, { minLength: width, maxLength: width })
    }).map((images) => ({ ...rest, ...images }))
  )
}

export class RowChange extends Schema.Class<RowChange>("RowChange")(
  Schema.Struct(fields).pipe(Schema.filter(imagesProblem, { identifier: "RowChangeImages", arbitrary }))
) {}
