import { compareStamps, type Hlc } from "../../proto-schemas/src/Hlc.ts"
import type { RowChange, RowVersion } from "../../proto-schemas/src/RowChange.ts"
import { noVersion } from "../../proto-schemas/src/RowChange.ts"
import { Conflict, Prepared, type PrepareRequest, type PrepareVote } from "../../proto-schemas/src/Transaction.ts"
import { keyString, kindDatabase } from "./IntentKey.ts"

/**
 * A participant's write intents (Percolator style): PREPARE reserves every key a transaction
 * changes until its COMMIT or ABORT. A second live transaction on a key is refused ("intent");
 * a change built on a stale read of its row is refused ("stale"). A coordinator that stops
 * sending heartbeats loses its intents after the heartbeat timeout, so a crash before COMMIT
 * never blocks rows forever. A schema change also holds its database's key (the DDL lock): held
 * longer than the DDL lease, another schema change may take it over (the holder loses its intents),
 * so a stuck one cannot block the database's schema for good.
 * Pure: time comes in as `nowMs`, stored versions through a function.
 */
interface Held {
  readonly request: PrepareRequest
  readonly keys: ReadonlyArray<string>
  readonly preparedAtMs: number
  lastHeartbeatMs: number
}

export type StoredVersion = (database: string, table: string, key: Uint8Array) => RowVersion | undefined

export class IntentTable {
  private readonly byKey = new Map<string, string>()
  private readonly byTxn = new Map<string, Held>()

  constructor(private readonly heartbeatTimeoutMs: number, private readonly ddlLeaseMs = Number.POSITIVE_INFINITY) {}

  private slot(database: string, key: Uint8Array): string {
    return database + "\u0000" + keyString(key)
  }

  /** Whether `txnId` still holds `key`: its coordinator is heard from, and a DDL lock is within its lease. */
  private holds(txnId: string, key: Uint8Array, nowMs: number): boolean {
    const held = this.byTxn.get(txnId)
    if (held === undefined || nowMs - held.lastHeartbeatMs > this.heartbeatTimeoutMs) return false
    return key[0] !== kindDatabase || nowMs - held.preparedAtMs <= this.ddlLeaseMs
  }

  /** The vote for `request`; on Prepared every key of it is reserved. Re-preparing is idempotent. */
  prepare(request: PrepareRequest, nowMs: number, hlc: Hlc, stored: StoredVersion): PrepareVote {
    const keys = request.locks === undefined ? request.changes.map((c) => c.key) : [...request.changes.map((c) => c.key), ...request.locks]
    const slots = keys.map((key) => this.slot(request.database, key))
    for (let i = 0; i < slots.length; i++) {
      const holder = this.byKey.get(slots[i]!)
      if (holder !== undefined && holder !== request.txnId && this.holds(holder, keys[i]!, nowMs)) {
        return new Conflict({ key: keys[i]!, holder, reason: "intent" }, true)
      }
      const change = request.changes[i]
      const stale = change === undefined ? undefined : this.staleness(request, change, stored)
      if (stale !== undefined) return stale
    }
    for (const slot of slots) {
      const previous = this.byKey.get(slot)
      if (previous !== undefined && previous !== request.txnId) this.release(previous)
      this.byKey.set(slot, request.txnId)
    }
    const held = this.byTxn.get(request.txnId)
    if (held === undefined) this.byTxn.set(request.txnId, { request, keys: slots, preparedAtMs: nowMs, lastHeartbeatMs: nowMs })
    else held.lastHeartbeatMs = nowMs
    return new Prepared({ hlc }, true)
  }

  private staleness(request: PrepareRequest, change: RowChange, stored: StoredVersion): Conflict | undefined {
    const base = change.baseStamp
    if (base === undefined) return undefined
    const current = stored(request.database, change.table, change.key) ?? noVersion
    if (compareStamps(current.stamp, current.nodeId, base.stamp, base.nodeId) > 0) {
      return new Conflict({ key: change.key, holder: "", reason: "stale" }, true)
    }
    return undefined
  }

  heartbeat(txnId: string, nowMs: number): boolean {
    const held = this.byTxn.get(txnId)
    if (held === undefined) return false
    held.lastHeartbeatMs = nowMs
    return true
  }

  /** The prepared request of a transaction (COMMIT needs its changes), if still held. */
  prepared(txnId: string): PrepareRequest | undefined {
    return this.byTxn.get(txnId)?.request
  }

  /** COMMIT or ABORT: frees the transaction's keys. */
  release(txnId: string): void {
    const held = this.byTxn.get(txnId)
    if (held === undefined) return
    this.byTxn.delete(txnId)
    for (const slot of held.keys) if (this.byKey.get(slot) === txnId) this.byKey.delete(slot)
  }

  /** Drops the transactions whose coordinator went silent; returns their ids. */
  expire(nowMs: number): ReadonlyArray<string> {
    const expired: Array<string> = []
    for (const [txnId, held] of this.byTxn) {
      if (nowMs - held.lastHeartbeatMs > this.heartbeatTimeoutMs) expired.push(txnId)
    }
    for (const txnId of expired) this.release(txnId)
    return expired
  }

  get size(): number {
    return this.byTxn.size
  }
}
