/**
 * A Jepsen-style history: every client operation is recorded at invoke and completion with its
 * outcome. `ok`: the server acknowledged it. `fail`: it certainly did not happen (an error the
 * server documents as "nothing was written", 1213/1205, or a failure before COMMIT was sent).
 * `info`: unknown (timeout, lost connection, a partial commit, an unexpected error): it may or may
 * not have happened, and the checkers must allow both.
 */

export type Outcome = "ok" | "fail" | "info"

export type OpKind = "insert" | "delete" | "incr-auto" | "incr-txn" | "append-text" | "append-row"

export interface Op {
  readonly id: number
  readonly client: number
  readonly node: number
  readonly f: OpKind
  /** insert/delete: the row id; counters and appends: the key. */
  readonly key: number
  /** Appends: the unique element appended. */
  readonly value?: number
  readonly invokeMs: number
  completeMs?: number
  outcome?: Outcome
  error?: string
  /** delete: rows the server said it deleted. */
  affected?: number
  /** incr-txn: attempts that got 1213 and were retried by the client. */
  retries?: number
}

export class History {
  readonly ops: Array<Op> = []
  private readonly t0 = Date.now()
  private nextId = 0

  now(): number {
    return Date.now() - this.t0
  }

  invoke(client: number, node: number, f: OpKind, key: number, value?: number): Op {
    const op: Op = { id: this.nextId++, client, node, f, key, invokeMs: this.now(), ...(value === undefined ? {} : { value }) }
    this.ops.push(op)
    return op
  }

  complete(op: Op, outcome: Outcome, extra: { error?: string; affected?: number; retries?: number } = {}): void {
    op.completeMs = this.now()
    op.outcome = outcome
    if (extra.error !== undefined) op.error = extra.error
    if (extra.affected !== undefined) op.affected = extra.affected
    if (extra.retries !== undefined) op.retries = extra.retries
  }

  /** Counts by kind and outcome, e.g. { insert: { ok: 10, fail: 2, info: 1 } }. */
  summary(): Record<string, Record<Outcome | "pending", number>> {
    const out: Record<string, Record<Outcome | "pending", number>> = {}
    for (const op of this.ops) {
      const row = (out[op.f] ??= { ok: 0, fail: 0, info: 0, pending: 0 })
      row[op.outcome ?? "pending"]++
    }
    return out
  }

  /** The distinct error messages of failed and unknown operations, with how often each occurred. */
  errors(): Array<[string, number]> {
    const m = new Map<string, number>()
    for (const op of this.ops) {
      if (op.error === undefined) continue
      const key = `${op.outcome}: ${op.error.replace(/\d+/g, "N").slice(0, 160)}`
      m.set(key, (m.get(key) ?? 0) + 1)
    }
    return [...m.entries()].sort((a, b) => b[1] - a[1])
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const pick = <A>(rnd: () => number, xs: ReadonlyArray<A>): A => xs[Math.floor(rnd() * xs.length)]!

export const between = (rnd: () => number, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1))
