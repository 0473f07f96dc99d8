/**
 * AUTO_INCREMENT id generators that stay unique when many nodes, and several worker processes of
 * one node, insert at the same time (Marmot's `id/generator.go`, shared/research/marmot.md §10).
 * Pure: the clock is a parameter.
 *
 *   compact (53-bit, JS-safe; the default):
 *     id = ((now_ms − 1735776000000) << 12) | ((node_id & 63) << 6) | seq6
 *   extended (64-bit, the HLC layout):
 *     id = (unix_ms << 22) | ((node_id & 63) << 16) | seq16
 *
 * The sequence field is shared by the node's worker processes: worker w of W uses the values
 * w, w + W, w + 2W, … (so 64 / W ids per millisecond per worker in compact mode). Within a
 * generator ids strictly ascend: the clock is never taken backwards, and when a millisecond's
 * values run out the generator moves on to the next millisecond at once (Marmot waits for it;
 * not waiting keeps a large insert from blocking the event loop, and the ids it takes ahead are
 * still only this worker's).
 */

export type AutoIdMode = "compact" | "extended"

/** 2025-01-02T00:00:00Z: Marmot's compact epoch (its comment says Jan 1; the constant wins). */
export const COMPACT_EPOCH_MS = 1_735_776_000_000

export interface AutoIdLayout {
  readonly mode: AutoIdMode
  readonly nodeId: number
  readonly workerIndex: number
  readonly workerCount: number
}

const fields = {
  compact: { seqBits: 12 - 6, nodeShift: 6, msShift: 12, epoch: COMPACT_EPOCH_MS },
  extended: { seqBits: 16, nodeShift: 16, msShift: 22, epoch: 0 }
} as const

export class AutoIdGenerator {
  private lastMs = -1
  /** how many of this worker's sequence values `lastMs` has used */
  private used = 0
  private readonly perMs: number
  private readonly node: bigint
  private readonly msShift: bigint
  private readonly epoch: number

  constructor(readonly layout: AutoIdLayout, private readonly now: () => number = Date.now) {
    const f = fields[layout.mode]
    const slots = 2 ** f.seqBits
    if (layout.workerCount < 1 || layout.workerIndex < 0 || layout.workerIndex >= layout.workerCount) {
      throw new RangeError(`auto ids: worker ${layout.workerIndex} of ${layout.workerCount}`)
    }
    if (layout.workerCount > slots) {
      throw new RangeError(`auto_id_mode = "${layout.mode}" gives at most ${slots} worker processes distinct ids (workers = ${layout.workerCount})`)
    }
    this.perMs = Math.floor((slots - 1 - layout.workerIndex) / layout.workerCount) + 1
    this.node = BigInt(layout.nodeId & 63) << BigInt(f.nodeShift)
    this.msShift = BigInt(f.msShift)
    this.epoch = f.epoch
  }

  next(): bigint {
    let ms = this.now() - this.epoch
    if (ms < 0) ms = 0
    if (ms <= this.lastMs) {
      ms = this.lastMs
      if (this.used >= this.perMs) {
        ms++
        this.used = 0
      }
    } else {
      this.used = 0
    }
    this.lastMs = ms
    const seq = this.layout.workerIndex + this.used * this.layout.workerCount
    this.used++
    return (BigInt(ms) << this.msShift) | this.node | BigInt(seq)
  }

  /**
   * An explicit id was inserted: as MySQL moves its counter past it, later ids of this generator
   * are above it, when it lies in this layout's range up to a minute ahead of the clock (an id
   * further ahead would drag every later id with it).
   */
  observe(id: bigint): void {
    const ms = Number(id >> this.msShift)
    if (ms < this.lastMs || ms > this.now() - this.epoch + 60_000) return
    this.lastMs = ms
    this.used = this.perMs
  }
}

/** The fields of an id (for tests and diagnostics). */
export const decodeAutoId = (mode: AutoIdMode, id: bigint): { readonly unixMs: number; readonly node: number; readonly seq: number } => {
  const f = fields[mode]
  return {
    unixMs: Number(id >> BigInt(f.msShift)) + f.epoch,
    node: Number((id >> BigInt(f.nodeShift)) & 63n),
    seq: Number(id & BigInt(2 ** f.seqBits - 1))
  }
}
