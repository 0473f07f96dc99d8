/**
 * The peer lane's codec for 2PC exchanges: `ExchangeRequest` and `ExchangeResponse` (their Schemas in
 * proto-schemas/src/Exchange.ts stay the definition of the messages) to and from a compact binary
 * frame. It replaces Schema encoding and msgpack on the write path, where they cost more than the
 * write itself. Decoding checks what the Schemas check (ranges, image shapes, literals) and throws
 * `BinaryDecodeError` on anything else; the instances are built without a second validation.
 *
 * Round trips equal the Schema's own (a property test compares them: test/replication/ExchangeCodec.test.ts).
 */
import { ClockSkewError } from "../../proto-schemas/src/Errors.ts"
import {
  AbortStep, Acked, CommitStep, ExchangeRequest, ExchangeResponse, PrepareStep,
  type Step, type StepOutcome, type StepTrace
} from "../../proto-schemas/src/Exchange.ts"
import { type Hlc, make as makeHlc, maxLogical, maxWallMs } from "../../proto-schemas/src/Hlc.ts"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import { ApplyFailed, NotPrepared } from "../../proto-schemas/src/Replication.ts"
import { type Op, RowChange, type RowVersion } from "../../proto-schemas/src/RowChange.ts"
import {
  AbortRequest, CommitRequest, Conflict, type ConsistencyLevel, Prepared, PrepareRequest, Rejected
} from "../../proto-schemas/src/Transaction.ts"
import type { SqlRow, SqlValue } from "../../proto-schemas/src/Values.ts"
import { BinaryDecodeError, BinaryReader, BinaryWriter } from "../network/Binary.ts"

const fail = (what: string): never => {
  throw new BinaryDecodeError(what)
}

// ---------------------------------------------------------------------------------------------
// small parts

const writeHlc = (w: BinaryWriter, h: Hlc) => {
  w.varuint(h.wallMs)
  w.u16(h.logical)
  w.u32(h.nodeId)
}
const readHlc = (r: BinaryReader): Hlc => {
  const wallMs = r.varuint()
  if (wallMs > maxWallMs) fail(`HLC wall time ${wallMs} out of range`)
  const logical = r.u16()
  if (logical > maxLogical) fail(`HLC logical ${logical} out of range`)
  return makeHlc(wallMs, logical, r.u32())
}

const VALUE_NULL = 0
const VALUE_STRING = 1
const VALUE_NUMBER = 2
const VALUE_INT64 = 3
const VALUE_BYTES = 4

const writeValue = (w: BinaryWriter, v: SqlValue) => {
  if (v === null) w.u8(VALUE_NULL)
  else if (typeof v === "string") {
    w.u8(VALUE_STRING)
    w.string(v)
  } else if (typeof v === "number") {
    w.u8(VALUE_NUMBER)
    w.f64(v)
  } else if (typeof v === "bigint") {
    w.u8(VALUE_INT64)
    w.i64(v)
  } else {
    w.u8(VALUE_BYTES)
    w.bytes(v)
  }
}
const readValue = (r: BinaryReader): SqlValue => {
  const tag = r.u8()
  switch (tag) {
    case VALUE_NULL:
      return null
    case VALUE_STRING:
      return r.string()
    case VALUE_NUMBER:
      return r.f64()
    case VALUE_INT64:
      return r.i64()
    case VALUE_BYTES:
      return r.bytes()
    default:
      return fail(`unknown SQL value tag ${tag}`)
  }
}

const writeRow = (w: BinaryWriter, row: SqlRow | undefined) => {
  if (row === undefined) return w.u8(0)
  w.u8(1)
  w.varuint(row.length)
  for (const v of row) writeValue(w, v)
}
const readRow = (r: BinaryReader): SqlRow | undefined => {
  if (!r.bool()) return undefined
  const n = r.count()
  const row = new Array<SqlValue>(n)
  for (let i = 0; i < n; i++) row[i] = readValue(r)
  return row
}

const writeStrings = (w: BinaryWriter, xs: ReadonlyArray<string>) => {
  w.varuint(xs.length)
  for (const x of xs) w.string(x)
}
const readStrings = (r: BinaryReader): Array<string> => {
  const n = r.count()
  const xs = new Array<string>(n)
  for (let i = 0; i < n; i++) xs[i] = r.string()
  return xs
}

const ops: ReadonlyArray<Op> = ["I", "U", "D"]
const levels: ReadonlyArray<ConsistencyLevel> = ["ONE", "QUORUM", "ALL"]
const literal = <A>(values: ReadonlyArray<A>, i: number, what: string): A => values[i] ?? fail(`unknown ${what} ${i}`)

const maxStamp = 2n ** 63n - 1n

const writeChange = (w: BinaryWriter, c: RowChange) => {
  w.string(c.database)
  w.string(c.table)
  w.u8(ops.indexOf(c.op))
  w.bytes(c.key)
  writeStrings(w, c.columns)
  writeRow(w, c.before)
  writeRow(w, c.after)
  if (c.baseStamp === undefined) w.u8(0)
  else {
    w.u8(1)
    w.i64(c.baseStamp.stamp)
    w.u32(c.baseStamp.nodeId)
  }
}
const readChange = (r: BinaryReader): RowChange => {
  const database = r.string()
  const table = r.string()
  const op = literal(ops, r.u8(), "row change op")
  const key = r.bytes()
  const columns = readStrings(r)
  const before = readRow(r)
  const after = readRow(r)
  let baseStamp: RowVersion | undefined
  if (r.bool()) {
    const stamp = r.i64()
    if (stamp < 0n || stamp > maxStamp) fail(`base stamp ${stamp} out of range`)
    baseStamp = { stamp, nodeId: r.u32() as NodeId }
  }
  if ((op === "I") !== (before === undefined) || (op === "D") !== (after === undefined)) fail(`row change ${op} with the wrong images`)
  if ((before !== undefined && before.length !== columns.length) || (after !== undefined && after.length !== columns.length)) {
    fail("row image and columns differ in length")
  }
  return new RowChange({ database, table, op, key, columns, before, after, baseStamp }, true)
}

const writeTrace = (w: BinaryWriter, trace: StepTrace | undefined) => {
  if (trace === undefined) return w.u8(0)
  w.u8(1)
  w.string(trace.traceId)
  w.string(trace.spanId)
  w.bool(trace.sampled)
}
const readTrace = (r: BinaryReader): StepTrace | undefined =>
  r.bool() ? { traceId: r.string(), spanId: r.string(), sampled: r.bool() } : undefined

const databaseOps = ["create", "drop"] as const

// ---------------------------------------------------------------------------------------------
// steps

const STEP_PREPARE = 1
const STEP_COMMIT = 2
const STEP_ABORT = 3

const writePrepare = (w: BinaryWriter, p: PrepareRequest) => {
  w.string(p.txnId)
  w.u32(p.coordinator)
  writeHlc(w, p.startHlc)
  w.string(p.database)
  if (p.schemaVersion === undefined) w.u8(0)
  else {
    w.u8(1)
    w.varuint(p.schemaVersion)
  }
  w.varuint(p.changes.length)
  for (const c of p.changes) writeChange(w, c)
  w.u8(levels.indexOf(p.consistency))
  if (p.locks === undefined) w.u8(0)
  else {
    w.u8(1)
    w.varuint(p.locks.length)
    for (const k of p.locks) w.bytes(k)
  }
  if (p.ddl === undefined) w.u8(0)
  else {
    w.u8(1)
    writeStrings(w, p.ddl)
  }
  w.u8(p.databaseOp === undefined ? 0 : databaseOps.indexOf(p.databaseOp) + 1)
}
const readPrepare = (r: BinaryReader): PrepareRequest => {
  const txnId = r.string()
  const coordinator = r.u32() as NodeId
  const startHlc = readHlc(r)
  const database = r.string()
  const schemaVersion = r.bool() ? r.varuint() : undefined
  const n = r.count()
  const changes = new Array<RowChange>(n)
  for (let i = 0; i < n; i++) changes[i] = readChange(r)
  const consistency = literal(levels, r.u8(), "consistency level")
  let locks: Array<Uint8Array> | undefined
  if (r.bool()) {
    const m = r.count()
    locks = new Array<Uint8Array>(m)
    for (let i = 0; i < m; i++) locks[i] = r.bytes()
  }
  const ddl = r.bool() ? readStrings(r) : undefined
  const op = r.u8()
  const databaseOp = op === 0 ? undefined : literal(databaseOps, op - 1, "database op")
  return new PrepareRequest(
    { txnId, coordinator, startHlc, database, schemaVersion, changes, consistency, locks, ddl, databaseOp },
    true
  )
}

const writeStep = (w: BinaryWriter, step: Step) => {
  switch (step._tag) {
    case "PrepareStep":
      w.u8(STEP_PREPARE)
      writePrepare(w, step.request)
      break
    case "CommitStep":
      w.u8(STEP_COMMIT)
      w.string(step.request.txnId)
      writeHlc(w, step.request.commitHlc)
      if (step.request.database === undefined) w.u8(0)
      else {
        w.u8(1)
        w.string(step.request.database)
      }
      break
    case "AbortStep":
      w.u8(STEP_ABORT)
      w.string(step.request.txnId)
      break
  }
  writeTrace(w, step.trace)
}
const readStep = (r: BinaryReader): Step => {
  const tag = r.u8()
  switch (tag) {
    case STEP_PREPARE: {
      const request = readPrepare(r)
      return new PrepareStep({ request, trace: readTrace(r) }, true)
    }
    case STEP_COMMIT: {
      const txnId = r.string()
      const commitHlc = readHlc(r)
      const database = r.bool() ? r.string() : undefined
      return new CommitStep({ request: new CommitRequest({ txnId, commitHlc, database }, true), trace: readTrace(r) }, true)
    }
    case STEP_ABORT: {
      const request = new AbortRequest({ txnId: r.string() }, true)
      return new AbortStep({ request, trace: readTrace(r) }, true)
    }
    default:
      return fail(`unknown step tag ${tag}`)
  }
}

// ---------------------------------------------------------------------------------------------
// outcomes

const OUT_PREPARED = 1
const OUT_CONFLICT = 2
const OUT_REJECTED = 3
const OUT_ACKED = 4
const OUT_NOT_PREPARED = 5
const OUT_APPLY_FAILED = 6
const OUT_CLOCK_SKEW = 7

const conflictReasons = ["intent", "stale", "schema"] as const

const writeOutcome = (w: BinaryWriter, o: StepOutcome) => {
  switch (o._tag) {
    case "Prepared":
      w.u8(OUT_PREPARED)
      return writeHlc(w, o.hlc)
    case "Acked":
      w.u8(OUT_ACKED)
      return writeHlc(w, o.hlc)
    case "Conflict":
      w.u8(OUT_CONFLICT)
      w.bytes(o.key)
      w.string(o.holder)
      return w.u8(conflictReasons.indexOf(o.reason))
    case "Rejected":
      w.u8(OUT_REJECTED)
      w.i32(o.code)
      w.string(o.sqlState)
      return w.string(o.message)
    case "NotPrepared":
      w.u8(OUT_NOT_PREPARED)
      return w.string(o.txnId)
    case "ApplyFailed":
      w.u8(OUT_APPLY_FAILED)
      w.string(o.txnId)
      return w.string(o.reason)
    case "ClockSkewError":
      w.u8(OUT_CLOCK_SKEW)
      w.f64(o.driftMs)
      w.f64(o.maxDriftMs)
      return w.u32(o.nodeId)
  }
}
const finite = (n: number) => Number.isFinite(n) ? n : fail(`non-finite number ${n}`)
const readOutcome = (r: BinaryReader): StepOutcome => {
  const tag = r.u8()
  switch (tag) {
    case OUT_PREPARED:
      return new Prepared({ hlc: readHlc(r) }, true)
    case OUT_ACKED:
      return new Acked({ hlc: readHlc(r) }, true)
    case OUT_CONFLICT: {
      const key = r.bytes()
      const holder = r.string()
      return new Conflict({ key, holder, reason: literal(conflictReasons, r.u8(), "conflict reason") }, true)
    }
    case OUT_REJECTED: {
      const code = r.i32()
      const sqlState = r.string()
      return new Rejected({ code, sqlState, message: r.string() }, true)
    }
    case OUT_NOT_PREPARED:
      return new NotPrepared({ txnId: r.string() }, true)
    case OUT_APPLY_FAILED: {
      const txnId = r.string()
      return new ApplyFailed({ txnId, reason: r.string() }, true)
    }
    case OUT_CLOCK_SKEW: {
      const driftMs = finite(r.f64())
      const maxDriftMs = finite(r.f64())
      return new ClockSkewError({ driftMs, maxDriftMs, nodeId: r.u32() as NodeId }, true)
    }
    default:
      return fail(`unknown outcome tag ${tag}`)
  }
}

// ---------------------------------------------------------------------------------------------
// frames

const finish = (r: BinaryReader) => {
  if (!r.done) fail("trailing bytes after the message")
}

export const encodeRequest = (request: ExchangeRequest): Uint8Array => {
  const w = new BinaryWriter()
  w.varuint(request.steps.length)
  for (const s of request.steps) writeStep(w, s)
  return w.finish()
}

/** Throws `BinaryDecodeError` on a malformed frame. */
export const decodeRequest = (bytes: Uint8Array): ExchangeRequest => {
  const r = new BinaryReader(bytes)
  const n = r.count()
  const steps = new Array<Step>(n)
  for (let i = 0; i < n; i++) steps[i] = readStep(r)
  finish(r)
  return new ExchangeRequest({ steps }, true)
}

export const encodeResponse = (response: ExchangeResponse): Uint8Array => {
  const w = new BinaryWriter(64)
  w.varuint(response.outcomes.length)
  for (const o of response.outcomes) writeOutcome(w, o)
  return w.finish()
}

/** Throws `BinaryDecodeError` on a malformed frame. */
export const decodeResponse = (bytes: Uint8Array): ExchangeResponse => {
  const r = new BinaryReader(bytes)
  const n = r.count()
  const outcomes = new Array<StepOutcome>(n)
  for (let i = 0; i < n; i++) outcomes[i] = readOutcome(r)
  finish(r)
  return new ExchangeResponse({ outcomes }, true)
}
