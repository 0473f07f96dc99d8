import type { ParamValue } from "../mysql/protocol/Decode.ts"
import type { Arg, TableRef } from "../sql/Statement.ts"
import type { SqliteConnection } from "../storage/SqliteConnection.ts"
import type { ConsistencyLevel } from "../../proto-schemas/src/Transaction.ts"
import type { Replicator } from "../replication/Replicator.ts"
import type { LocalCommitLog } from "./LocalCommitLog.ts"
import type { DatabaseHandle, StorageService } from "../storage/Storage.ts"
import { Errors } from "./Errors.ts"
import type { Session } from "./Session.ts"
import { globalDefaults, serverVersion, type SysValue } from "./SystemVariables.ts"

/** What every statement handler needs; built once per server by the QueryEngine. */
export interface EngineContext {
  readonly storage: StorageService
  /** An in-memory connection for statements that touch no database (SELECT 1, SET @x = ...). */
  readonly scratch: SqliteConnection
  readonly globals: Map<string, SysValue>
  readonly lockWaitTimeoutMs: number
  /** Cluster mode: committed writes go through the node's write coordinator. Standalone: undefined. */
  readonly replicator: Replicator | undefined
  readonly defaultConsistency: ConsistencyLevel
  /** Tells this node's other MySQL workers about a `SET GLOBAL` (undefined: back to the default). */
  readonly announceGlobal: (name: string, value: SysValue | undefined) => void
  /** Standalone with a change publisher: commits also write the commit log. Otherwise undefined. */
  readonly commitLog: LocalCommitLog | undefined
  /** A read-only replica: writes are refused (ReadOnly.ts). */
  readonly readOnly: boolean
}

export const sysVar = (ctx: EngineContext, session: Session, name: string, scope: "session" | "global" | "default"): SysValue => {
  if (scope !== "global") {
    const own = session.variables.get(name)
    if (own !== undefined) return own
    if (name === "autocommit") return session.autocommit ? 1n : 0n
  }
  const g = ctx.globals.get(name)
  if (g !== undefined) return g
  return globalDefaults.get(name) ?? null
}

/** Values for a translated statement's `?`s: lifted literals, client parameters, variables. */
export const bindArgs = (
  ctx: EngineContext,
  session: Session,
  args: ReadonlyArray<Arg>,
  params: ReadonlyArray<ParamValue>
): Array<unknown> => {
  const out = new Array<unknown>(args.length)
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    switch (a._tag) {
      case "Value":
        out[i] = a.value
        break
      case "Placeholder": {
        if (a.index >= params.length) throw Errors.wrongArguments("mysqld_stmt_execute")
        out[i] = params[a.index]
        break
      }
      case "SysVar":
        out[i] = sysVar(ctx, session, a.name, a.scope)
        break
      case "UserVar":
        out[i] = session.userVariables.get(a.name) ?? null
        break
      case "SessionFn":
        out[i] = sessionFunction(session, a.fn)
        break
    }
  }
  return out
}

const sessionFunction = (session: Session, fn: Extract<Arg, { _tag: "SessionFn" }>["fn"]): unknown => {
  switch (fn) {
    case "last_insert_id":
      return session.lastInsertId
    case "database":
      return session.database ?? null
    case "found_rows":
      return session.foundRows
    case "connection_id":
      return BigInt(session.id)
    case "user":
      return `${session.user}@${session.host}`
    case "current_user":
      return `${session.user}@%`
    case "version":
      return serverVersion
    case "row_count":
      return session.rowCount
  }
}

/** The database a table reference lives in: its qualifier, else the session's current one. */
export const databaseOf = (session: Session, ref: TableRef | undefined): string | undefined => ref?.database ?? session.database

export const requireDatabase = (ctx: EngineContext, name: string | undefined): DatabaseHandle => {
  if (name === undefined) throw Errors.noDatabaseSelected()
  const handle = ctx.storage.get(name)
  if (handle === undefined) throw Errors.unknownDatabase(name)
  return handle
}

/**
 * Rewrites a statement's SQL for the connection of `home`: the translator qualifies tables as
 * "db"."t"; the home database is `main` there, other databases are ATTACHed under their names.
 * Literals are lifted into parameters, so the SQL text holds no string a rewrite could hit.
 */
export const localizeSql = (
  ctx: EngineContext,
  conn: SqliteConnection,
  home: string,
  sql: string,
  tables: ReadonlyArray<TableRef>
): string => {
  let out = sql
  for (const t of tables) {
    if (t.database === undefined) continue
    if (t.database === home) {
      out = out.split(`"${home}".`).join("main.")
      continue
    }
    if (conn.isAttached(t.database)) continue
    const other = ctx.storage.get(t.database)
    if (other === undefined) throw Errors.noSuchTable(t.database, t.table)
    if (conn.inTransaction) throw Errors.notSupported("a first reference to another database inside a transaction")
    conn.attach(t.database, other.path)
  }
  return out
}
