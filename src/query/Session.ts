import type { SqlValue, Statement } from "../sql/Statement.ts"
import type { CaptureSink } from "../storage/Capture.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import type { LockOwner, WriteLock } from "../storage/WriteLock.ts"
import type { SysValue } from "./SystemVariables.ts"

export interface Warning {
  readonly level: "Note" | "Warning" | "Error"
  readonly code: number
  readonly message: string
}

/**
 * What MySQL keeps per connection: the current database, variables, transaction state and the
 * writer locks the open transaction holds. Plain mutable state owned by one connection.
 */
export class Session implements LockOwner {
  database: string | undefined = undefined
  autocommit = true
  /** A MySQL transaction is open (explicit BEGIN, or an implicit one with autocommit=0). */
  inTransaction = false
  readOnlyTransaction = false
  /** Databases whose writer this transaction holds (BEGIN IMMEDIATE issued). */
  readonly held: Array<DatabaseHandle> = []
  /** Savepoint names in declaration order. */
  savepoints: Array<string> = []
  /** Cluster mode: what the open transaction changed, per database, to replicate at COMMIT. */
  readonly captured = new Map<DatabaseHandle, CaptureSink>()
  /** Cluster mode: how many images each database had captured when each savepoint was set. */
  readonly savepointMarks = new Map<string, Map<DatabaseHandle, number>>()
  readonly variables = new Map<string, SysValue>()
  readonly userVariables = new Map<string, SqlValue>()
  lastInsertId: bigint = 0n
  foundRows: bigint = 0n
  rowCount: bigint = -1n
  transpile = true
  warnings: Array<Warning> = []
  waitingFor: WriteLock | undefined = undefined
  /** SQL-level prepared statements (PREPARE name FROM ...), by lower-cased name. */
  readonly sqlPrepared = new Map<string, { readonly statement: Statement; readonly paramCount: number }>()
  /** The client set CLIENT_FOUND_ROWS: UPDATE reports matched rather than changed rows. */
  foundRowsFlag = false
  /** The connection's TLS cipher and protocol (SHOW STATUS LIKE 'Ssl_%'); undefined over plaintext. */
  tls: { readonly cipher: string; readonly version: string } | undefined = undefined
  /** The text of the last statement parsed (COM_QUERY), for the failed-statement log. */
  lastText: string | undefined = undefined

  constructor(readonly id: number, public user: string, public host: string) {}

  holds(handle: DatabaseHandle): boolean {
    return handle.lock.heldBy(this)
  }

  resetState(): void {
    this.autocommit = true
    this.inTransaction = false
    this.readOnlyTransaction = false
    this.savepoints = []
    this.variables.clear()
    this.userVariables.clear()
    this.sqlPrepared.clear()
    this.lastInsertId = 0n
    this.foundRows = 0n
    this.rowCount = -1n
    this.transpile = true
    this.warnings = []
  }
}
