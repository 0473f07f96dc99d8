/**
 * Replication visibility lag: acknowledgement of an INSERT on node 1 -> the row visible on node 3.
 * One writer connection and one reader connection; see `probeHow`.
 */
import { performance } from "node:perf_hooks"
import type { Connection, RowDataPacket } from "mysql2/promise"
import { r3 } from "./Endpoints.ts"
import { sleep } from "./Processes.ts"

export interface LagReport {
  readonly how: string
  readonly samples: number
  readonly insertErrors: number
  readonly insertErrorKinds: Record<string, number>
  /** Rows acknowledged on node 1 but not seen on node 3 within 10 s. */
  readonly notVisible: number
  readonly pollErrors: number
  readonly pollsPerSample: number
  readonly ackMs: Stats
  readonly lagMs: Stats
  /** Duration of one poll (SELECT by id on node 3). */
  readonly pollMs: Stats
  /** Highest seq acknowledged (rows the table must hold, minus insertErrors that did not commit). */
  readonly acknowledged: number
}

export interface Stats {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly min: number
}

export const stats = (xs: Array<number>): Stats => {
  if (xs.length === 0) return { p50: NaN, p99: NaN, max: NaN, min: NaN }
  const s = [...xs].sort((a, b) => a - b)
  const at = (p: number) => s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))]!
  return { p50: r3(at(0.5)), p99: r3(at(0.99)), max: r3(s[s.length - 1]!), min: r3(s[0]!) }
}

/** How the probe measures, for the report. */
export const probeHow = (gapMs: number) =>
  "one connection to node 1 runs an autocommit INSERT INTO lagprobe (id = sequence number); when it is acknowledged, " +
  "one connection to node 3 sends SELECT seq FROM lagprobe WHERE id = <seq> back to back (one in flight, no sleep) until the row " +
  `is there; lag = answer showing the row - acknowledgement (resolution: one poll round trip); ${gapMs} ms between samples`

export class LagProbe {
  private stopped = false
  private seq: number
  constructor(
    private readonly writer: Connection,
    private readonly reader: Connection,
    firstSeq: number,
    private readonly gapMs: number
  ) {
    this.seq = firstSeq
  }
  stop() {
    this.stopped = true
  }
  /** The last sequence number used (the next probe continues after it). */
  get lastSeq() {
    return this.seq
  }
  async run(maxSamples: number): Promise<LagReport> {
    const ack: Array<number> = []
    const lag: Array<number> = []
    const pollT: Array<number> = []
    let polls = 0
    let insertErrors = 0
    let pollErrors = 0
    let notVisible = 0
    let acknowledged = 0
    const kinds: Record<string, number> = {}
    while (!this.stopped && ack.length + insertErrors < maxSamples) {
      const seq = ++this.seq
      const t0 = performance.now()
      try {
        await this.writer.query(`INSERT INTO lagprobe (id, seq, t) VALUES (${seq}, ${seq}, ${Date.now()})`)
      } catch (e) {
        insertErrors++
        const k = String((e as { errno?: number }).errno ?? (e as { code?: string }).code ?? "other")
        kinds[k] = (kinds[k] ?? 0) + 1
        await sleep(this.gapMs)
        continue
      }
      const t1 = performance.now()
      ack.push(t1 - t0)
      acknowledged++
      for (;;) {
        const p0 = performance.now()
        polls++
        let found = false
        try {
          const [rows] = await this.reader.query<Array<RowDataPacket>>(`SELECT seq FROM lagprobe WHERE id = ${seq}`)
          found = rows.length > 0
        } catch {
          pollErrors++
        }
        const p1 = performance.now()
        pollT.push(p1 - p0)
        if (found) {
          lag.push(p1 - t1)
          break
        }
        if (p1 - t1 > 10_000) {
          notVisible++
          break
        }
      }
      await sleep(this.gapMs)
    }
    return {
      how: probeHow(this.gapMs),
      samples: lag.length,
      insertErrors,
      insertErrorKinds: kinds,
      notVisible,
      pollErrors,
      pollsPerSample: r3(polls / Math.max(1, acknowledged)),
      ackMs: stats(ack),
      lagMs: stats(lag),
      pollMs: stats(pollT),
      acknowledged
    }
  }
}

/** Sample lag while `load` runs: from once its connections are up until ~3 s before its `seconds` end. */
export async function probeDuring<T>(probe: LagProbe, load: Promise<T>, seconds: number): Promise<[T, LagReport]> {
  await sleep(Math.min(2000, seconds * 100))
  const probed = probe.run(Number.MAX_SAFE_INTEGER)
  const stopAt = setTimeout(() => probe.stop(), Math.max(1000, seconds * 1000 - 3000))
  try {
    const loaded = await load
    probe.stop()
    return [loaded, await probed]
  } finally {
    probe.stop()
    clearTimeout(stopAt)
  }
}

/** One line: the lag and what went wrong while measuring it. */
export const describeLag = (l: LagReport) =>
  `n=${l.samples} p50 ${l.lagMs.p50} ms, p99 ${l.lagMs.p99} ms, max ${l.lagMs.max} ms ` +
  `(ack p50 ${l.ackMs.p50} ms, p99 ${l.ackMs.p99}; poll p50 ${l.pollMs.p50} ms; ${l.pollsPerSample} polls/sample; ` +
  `insert errors ${l.insertErrors}${l.insertErrors ? ` ${JSON.stringify(l.insertErrorKinds)}` : ""}, not visible in 10 s ${l.notVisible})`
