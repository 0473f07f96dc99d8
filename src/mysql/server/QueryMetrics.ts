/**
 * What one MySQL worker counts on its hot path (plain numbers, no registry lookups): statements by
 * kind, errors sent by MySQL code, connections, and statement latency in fixed buckets. The worker
 * reports a snapshot to its node's supervisor every second over the process bus
 * (`ProcessBus.reportMetrics`); the node's admin port adds up every worker's (src/admin/WorkerMetrics.ts).
 */

/** Upper bounds of the latency buckets, ms (Marmot's read buckets 0.1 ms … 250 ms, then up to 10 s for writes). */
export const latencyBoundsMs: ReadonlyArray<number> = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000, 2500, 10_000]

export interface QueryMetricsSnapshot {
  /** Statements executed, by statement kind (select, insert, update, ddl, begin, ...). */
  readonly queries: Readonly<Record<string, number>>
  /** ERR packets sent, by MySQL error code. */
  readonly errors: Readonly<Record<string, number>>
  readonly connectionsOpen: number
  readonly connectionsTotal: number
  /** Statements per latency bucket (not cumulative); one more than `latencyBoundsMs`: the overflow. */
  readonly latencyBuckets: ReadonlyArray<number>
  readonly latencySumMs: number
}

export class QueryMetrics {
  private readonly queries = new Map<string, number>()
  private readonly errors = new Map<number, number>()
  private readonly buckets = new Array<number>(latencyBoundsMs.length + 1).fill(0)
  private sumMs = 0
  private open = 0
  private total = 0

  /** `now` is a millisecond clock with sub-millisecond precision (performance.now in production). */
  constructor(readonly now: () => number) {}

  /** A statement of `kind` that started at `startedMs` (from `now`) has been answered. */
  statement(kind: string, startedMs: number): void {
    this.queries.set(kind, (this.queries.get(kind) ?? 0) + 1)
    const ms = this.now() - startedMs
    this.sumMs += ms
    let i = 0
    while (i < latencyBoundsMs.length && ms > latencyBoundsMs[i]!) i++
    this.buckets[i]!++
  }

  error(code: number): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1)
  }

  opened(): void {
    this.open++
    this.total++
  }

  closed(): void {
    this.open--
  }

  snapshot(): QueryMetricsSnapshot {
    return {
      queries: Object.fromEntries(this.queries),
      errors: Object.fromEntries([...this.errors].map(([code, n]) => [String(code), n])),
      connectionsOpen: this.open,
      connectionsTotal: this.total,
      latencyBuckets: [...this.buckets],
      latencySumMs: this.sumMs
    }
  }
}
