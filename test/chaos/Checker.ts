/**
 * The checks run on the history and the final (converged) tables. Each returns the anomalies it
 * found as readable lines; an empty list means the check passed.
 *
 * What is allowed depends on the write consistency level (docs/CONSISTENCY.md): at QUORUM and ALL
 * the stale-read check and intents make concurrent read-modify-write safe, so lost increments or
 * lost appends are anomalies; at ONE there is no stale-read check (last writer wins), so they are
 * expected and reported as "allowed", not as failures.
 */
import type { History, Op } from "./History.ts"

export interface FinalState {
  readonly sets: ReadonlyArray<{ id: string | number; client: number }>
  readonly counters: ReadonlyArray<{ k: number; v: string | number }>
  readonly lists: ReadonlyArray<{ k: number; v: string }>
  readonly appends: ReadonlyArray<{ k: number; seq: number; val: string | number }>
}

export interface CheckResult {
  readonly name: string
  readonly anomalies: Array<string>
  /** What the level's model allows and was seen (at ONE: lost increments and appends). */
  readonly allowed: Array<string>
  /** Figures for the report (e.g. how many rows were checked). */
  readonly stats: Record<string, number>
}

const done = (ops: ReadonlyArray<Op>, f: Op["f"]) => ops.filter((o) => o.f === f)

/** Unique inserts and deletes: acknowledged rows present, deleted rows gone, no row nobody inserted. */
export function checkSets(history: History, final: FinalState): CheckResult {
  const anomalies: Array<string> = []
  const present = new Set(final.sets.map((r) => Number(r.id)))
  const inserts = new Map<number, Op>()
  for (const op of done(history.ops, "insert")) inserts.set(op.key, op)
  const deletes = new Map<number, Op>()
  for (const op of done(history.ops, "delete")) deletes.set(op.key, op)
  let mustExist = 0
  let mustBeGone = 0
  for (const [id, ins] of inserts) {
    const del = deletes.get(id)
    const there = present.has(id)
    if (ins.outcome === "fail" && there) anomalies.push(`phantom: insert ${id} failed (${ins.error}) but the row exists`)
    if (ins.outcome !== "ok") continue
    if (del === undefined || del.outcome === "fail" || (del.outcome === "ok" && del.affected === 0)) {
      mustExist++
      if (!there) anomalies.push(`lost: insert ${id} acknowledged (node ${ins.node + 1}, at ${ins.completeMs} ms) but the row is missing${del === undefined ? "" : ` (delete ${del.outcome}, affected ${del.affected})`}`)
    } else if (del.outcome === "ok") {
      mustBeGone++
      if (there) anomalies.push(`resurrected: row ${id} deleted (node ${del.node + 1}, at ${del.completeMs} ms, 1 row affected) is present`)
    }
  }
  for (const id of present) if (!inserts.has(id)) anomalies.push(`phantom: row ${id} was never inserted`)
  return { name: "sets", anomalies, allowed: [], stats: { rows: present.size, mustExist, mustBeGone } }
}

/** Counters: acknowledged ≤ final ≤ acknowledged + unknown, per key. */
export function checkCounters(history: History, final: FinalState, level: string): CheckResult {
  const anomalies: Array<string> = []
  const allowed: Array<string> = []
  let acknowledged = 0
  for (const row of final.counters) {
    const ops = history.ops.filter((o) => (o.f === "incr-auto" || o.f === "incr-txn") && o.key === row.k)
    const ok = ops.filter((o) => o.outcome === "ok").length
    const info = ops.filter((o) => o.outcome === "info").length
    acknowledged += ok
    const v = Number(row.v)
    if (v < ok) (level === "ONE" ? allowed : anomalies).push(`lost increments: counter ${row.k} = ${v}, ${ok} acknowledged (${info} unknown)`)
    if (v > ok + info) anomalies.push(`extra increments: counter ${row.k} = ${v}, but only ${ok} acknowledged + ${info} unknown`)
  }
  return { name: "counters", anomalies, allowed, stats: { keys: final.counters.length, acknowledged, allowedAtOne: allowed.length } }
}

/** Appends: every acknowledged element exactly once, unknown ones at most once, failed ones never. */
export function checkAppends(history: History, final: FinalState, level: string): CheckResult {
  const anomalies: Array<string> = []
  const allowed: Array<string> = []
  const count = new Map<number, number>()
  const where = new Map<number, number>()
  for (const row of final.lists) {
    for (const e of row.v.split(" ").filter((x) => x !== "")) {
      count.set(Number(e), (count.get(Number(e)) ?? 0) + 1)
      where.set(Number(e), row.k)
    }
  }
  const rowCount = new Map<number, number>()
  const rowWhere = new Map<number, number>()
  for (const row of final.appends) {
    rowCount.set(Number(row.val), (rowCount.get(Number(row.val)) ?? 0) + 1)
    rowWhere.set(Number(row.val), row.k)
  }
  let acknowledged = 0
  for (const [f, counts, places] of [["append-text", count, where], ["append-row", rowCount, rowWhere]] as const) {
    const ops = new Map<number, Op>()
    for (const op of done(history.ops, f)) ops.set(op.value!, op)
    for (const [e, op] of ops) {
      const n = counts.get(e) ?? 0
      if (op.outcome === "ok") acknowledged++
      if (op.outcome === "ok" && n === 0) (level === "ONE" ? allowed : anomalies).push(`lost ${f}: element ${e} on key ${op.key} acknowledged (node ${op.node + 1}, at ${op.completeMs} ms) is missing`)
      if (n > 1) anomalies.push(`duplicated ${f}: element ${e} appears ${n} times`)
      if (op.outcome === "fail" && n > 0) anomalies.push(`phantom ${f}: element ${e} failed (${op.error}) but is present`)
      if (n > 0 && places.get(e) !== op.key) anomalies.push(`misplaced ${f}: element ${e} appended to key ${op.key} is in key ${places.get(e)}`)
    }
    for (const e of counts.keys()) if (!ops.has(e)) anomalies.push(`phantom ${f}: element ${e} was never appended`)
  }
  // append-row: seq is MAX(seq) + 1 read in the statement, so per key the seqs are 1..n without gaps
  const byKey = new Map<number, Array<number>>()
  for (const row of final.appends) byKey.set(row.k, [...(byKey.get(row.k) ?? []), Number(row.seq)])
  for (const [k, seqs] of byKey) {
    seqs.sort((a, b) => a - b)
    seqs.forEach((s, i) => {
      if (s !== i + 1) anomalies.push(`append-row key ${k}: seq ${s} at position ${i + 1} (gap: an append overwrote or lost a row)`)
    })
  }
  return {
    name: "appends",
    anomalies: anomalies.slice(0, 50).concat(anomalies.length > 50 ? [`… ${anomalies.length - 50} more`] : []),
    allowed,
    stats: { acknowledged, textElements: count.size, rows: final.appends.length, allowedAtOne: allowed.length }
  }
}
