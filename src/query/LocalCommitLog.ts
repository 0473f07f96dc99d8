/**
 * A standalone node with a change publisher: each committed transaction also writes its row
 * versions and an entry in the database's commit log, in the same SQLite transaction as its rows,
 * so the publisher (src/cdc) follows standalone writes exactly as it follows replicated ones.
 * Timestamps come from a hybrid logical clock kept per worker process; transaction ids carry the
 * worker index, so two workers of the node never issue the same one.
 */
import * as Hlc from "../../proto-schemas/src/Hlc.ts"
import { CommittedTransaction, txnIdOf } from "../../proto-schemas/src/Transaction.ts"
import { Applier, primaryKeyOf } from "../replication/Applier.ts"
import { CaptureSink } from "../storage/Capture.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import { buildRequest } from "./Replication.ts"

export class LocalCommitLog {
  private last: Hlc.Hlc
  private readonly appliers = new WeakMap<DatabaseHandle, { version: number; applier: Applier }>()

  constructor(private readonly nodeId: number, private readonly workerIndex: number) {
    this.last = Hlc.zero(nodeId)
  }

  /** Records what `sink` captured; call inside the SQLite transaction, before COMMIT. */
  record(handle: DatabaseHandle, sink: CaptureSink): void {
    if (sink.images.length === 0 && sink.ddl.length === 0) return
    // Rows of tables without a primary key have no identity to publish; the rest still is.
    const keyed = sink.images.every((i) => this.hasKey(handle, i.table)) ? sink : this.keyedOnly(handle, sink)
    const request = buildRequest(handle, keyed, "ONE")
    this.last = Hlc.tick(this.last, Date.now(), this.nodeId)
    const txn = new CommittedTransaction({
      txnId: `${txnIdOf(this.last)}-w${this.workerIndex}`,
      commitHlc: this.last,
      coordinator: this.last.nodeId,
      database: handle.name,
      changes: request.changes,
      schemaVersion: 0,
      ...(request.ddl === undefined ? {} : { ddl: request.ddl })
    }, true)
    this.applierOf(handle).record(txn)
  }

  private readonly keys = new WeakMap<DatabaseHandle, { version: number; tables: Map<string, boolean> }>()

  private hasKey(handle: DatabaseHandle, table: string): boolean {
    let cache = this.keys.get(handle)
    if (cache === undefined || cache.version !== handle.schemaVersion) {
      cache = { version: handle.schemaVersion, tables: new Map() }
      this.keys.set(handle, cache)
    }
    let has = cache.tables.get(table)
    if (has === undefined) cache.tables.set(table, has = primaryKeyOf(handle.writer.db, table).length > 0)
    return has
  }

  private keyedOnly(handle: DatabaseHandle, sink: CaptureSink): CaptureSink {
    const keyed = new CaptureSink()
    for (const image of sink.images) if (this.hasKey(handle, image.table)) keyed.images.push(image)
    keyed.ddl.push(...sink.ddl)
    return keyed
  }

  private applierOf(handle: DatabaseHandle): Applier {
    const cached = this.appliers.get(handle)
    if (cached !== undefined && cached.version === handle.schemaVersion) return cached.applier
    const applier = new Applier(handle.writer.db)
    this.appliers.set(handle, { version: handle.schemaVersion, applier })
    return applier
  }
}
