import { Context, Effect, Layer, Runtime } from "effect"
import { NodeConfig } from "../config/NodeConfig.ts"
import type { ColumnDef } from "../mysql/protocol/Encode.ts"
import type { ParamValue } from "../mysql/protocol/Decode.ts"
import type { LoadDataSpec } from "../sql/LoadData.ts"
import type { SetAssignment, Statement } from "../sql/Statement.ts"
import { placeholderCount, translate, translateRaw } from "../sql/Translator.ts"
import { resetStatementClock } from "../functions/index.ts"
import { ensureCaptureTriggers } from "../storage/Capture.ts"
import { loadInto } from "../storage/Extensions.ts"
import { SqliteConnection } from "../storage/SqliteConnection.ts"
import { DatabaseExists, InvalidDatabaseName, Storage, validDatabaseName } from "../storage/Storage.ts"
import { ProcessBus } from "../process/ProcessBus.ts"
import { AutoIdGenerator } from "./AutoId.ts"
import { LocalCommitLog } from "./LocalCommitLog.ts"
import { stringShape } from "./ColumnTypes.ts"
import { bindArgs, type EngineContext, requireDatabase } from "./Context.ts"
import { Errors, fromSqlite, MysqlError } from "./Errors.ts"
import { configureAutoIds } from "./InsertIds.ts"
import { runExplain } from "./Explain.ts"
import { prepareLoadData } from "./LoadData.ts"
import { refuseWrites } from "./ReadOnly.ts"
import { columnsBeforeExecution, prepareRead, runSelect, type Rows } from "./Reads.ts"
import { Session } from "./Session.ts"
import { runShow } from "./Show.ts"
import { canonicalName, readOnlyVariables, switchVariables, type SysValue, toSwitch } from "./SystemVariables.ts"
import * as Tx from "./Transactions.ts"
import type { Replicator } from "../replication/Replicator.ts"
import { ok, type Ok, runDdl, runInsert, runUpdateOrDelete } from "./Writes.ts"

export type Outcome = Ok | Rows

/** Present in cluster mode: where this process's committed writes go (see replication/Replicator.ts). */
export class WorkerReplicator extends Context.Tag("marmot/query/WorkerReplicator")<WorkerReplicator, Replicator>() {}

export interface PreparedStatementInfo {
  readonly statement: Statement
  readonly paramCount: number
  readonly columns: ReadonlyArray<ColumnDef>
}

export interface QueryEngineService {
  readonly newSession: (id: number, user: string, host: string) => Session
  /** Translates one statement; throws MysqlError. */
  readonly parse: (session: Session, sql: string) => Statement
  /** Runs one statement; throws MysqlError (or returns a Promise that rejects with one). */
  readonly execute: (session: Session, statement: Statement, params: ReadonlyArray<ParamValue>) => Outcome | Promise<Outcome>
  readonly prepare: (session: Session, sql: string) => PreparedStatementInfo
  readonly useDatabase: (session: Session, name: string) => void
  /** The connection is gone: roll back and drop lock waits. */
  readonly closeSession: (session: Session) => void
  readonly resetSession: (session: Session) => void
  /** LOAD DATA LOCAL INFILE: checks the table (throws MysqlError), then loads the file's bytes. */
  readonly loadData: (session: Session, spec: LoadDataSpec) => (data: Buffer) => Ok | Promise<Ok>
}

const parse = (session: Session, sql: string): Statement => {
  if (!session.transpile) return translateRaw(sql)
  const result = translate(sql)
  if (result instanceof Error) {
    const e = result as unknown as { code: number; sqlState: string; message: string }
    throw new MysqlError({ code: e.code, sqlState: e.sqlState, message: e.message })
  }
  return result
}

const useDatabase = (ctx: EngineContext, session: Session, name: string) => {
  if (ctx.storage.get(name) === undefined && name.toLowerCase() !== "information_schema") throw Errors.unknownDatabase(name)
  session.database = name
}

const evaluate = (ctx: EngineContext, session: Session, value: Extract<SetAssignment, { value: unknown }>["value"]): unknown => {
  const { prepared, home } = prepareRead(ctx, session, value, [])
  try {
    const rows = prepared.stmt.all(bindArgs(ctx, session, value.args, [])) as Array<Array<unknown>>
    return rows[0]?.[0] ?? null
  } catch (e) {
    throw fromSqlite(e, home)
  }
}

const setVariable = (
  ctx: EngineContext,
  session: Session,
  scope: "session" | "global",
  rawName: string,
  value: unknown,
  isDefault: boolean
): void | Promise<void> => {
  const name = canonicalName(rawName.toLowerCase())
  if (readOnlyVariables.has(name)) {
    throw new MysqlError({ code: 1238, sqlState: "HY000", message: `Variable '${name}' is a read only variable` })
  }
  let v: SysValue = value === undefined || value === null ? null : Buffer.isBuffer(value) ? value.toString("utf8") : (value as SysValue)
  if (switchVariables.has(name) && !isDefault) {
    const s = toSwitch(v)
    if (s === undefined) throw Errors.wrongValueForVariable(name, String(v))
    v = s
  }
  if (name === "marmot_transpilation") {
    const s = toSwitch(v)
    if (s === undefined) throw Errors.wrongValueForVariable(name, String(v))
    if (scope === "session") session.transpile = s === 1n
    v = s === 1n ? "ON" : "OFF"
  }
  if (name === "marmot_write_consistency" && !isDefault) {
    const level = String(v).toUpperCase()
    if (level !== "ONE" && level !== "QUORUM" && level !== "ALL") throw Errors.wrongValueForVariable(name, String(v))
    v = level
  }
  if (name === "autocommit" && scope === "session") {
    const on = isDefault || v === 1n
    const committed = on && session.inTransaction ? Tx.commit(ctx, session) : undefined
    session.autocommit = on
    return committed
  }
  const target = scope === "global" ? ctx.globals : session.variables
  // The node's level has a configured default; other globals fall back to the built-in ones.
  const stored = isDefault && scope === "global" && name === "marmot_write_consistency" ? ctx.defaultConsistency : isDefault ? undefined : v
  if (stored === undefined) target.delete(name)
  else target.set(name, stored)
  if (scope === "global") ctx.announceGlobal(name, stored)
}

const runSet = (ctx: EngineContext, session: Session, assignments: ReadonlyArray<SetAssignment>): Ok | Promise<Ok> => {
  for (let i = 0; i < assignments.length; i++) {
    const a = assignments[i]!
    switch (a.kind) {
      case "names": {
        const charset = a.charset.toLowerCase()
        for (const n of ["character_set_client", "character_set_connection", "character_set_results"]) session.variables.set(n, charset)
        session.variables.set("collation_connection", a.collation ?? `${charset}_general_ci`)
        break
      }
      case "sysvar": {
        const isDefault = (a as { isDefault?: boolean }).isDefault === true
        const committed = setVariable(ctx, session, a.scope, a.name, isDefault ? null : evaluate(ctx, session, a.value), isDefault)
        // SET autocommit = 1 commits an open transaction, which may replicate first.
        if (committed instanceof Promise) return committed.then(() => runSet(ctx, session, assignments.slice(i + 1)))
        break
      }
      case "uservar": {
        const v = evaluate(ctx, session, a.value)
        session.userVariables.set(a.name, v as never)
        break
      }
      case "transaction": {
        if (a.isolation !== undefined) session.variables.set("transaction_isolation", a.isolation)
        if (a.readOnly !== undefined) session.variables.set("transaction_read_only", a.readOnly ? 1n : 0n)
        break
      }
    }
  }
  return ok()
}

const createDatabase = (ctx: EngineContext, session: Session, name: string, ifNotExists: boolean): Ok | Promise<Ok> => {
  if (ctx.replicator !== undefined) {
    if (ctx.storage.get(name) !== undefined) {
      if (!ifNotExists) throw Errors.databaseExists(name)
      session.warnings.push({ level: "Note", code: 1007, message: `Can't create database '${name}'; database exists` })
      return ok(0)
    }
    if (!validDatabaseName(name)) throw Errors.wrongDatabaseName(name)
    return Tx.replicateDatabaseOp(ctx, session, name, "create").then(() => ok(1))
  }
  try {
    ctx.storage.create(name)
    return ok(1)
  } catch (e) {
    if (e instanceof DatabaseExists) {
      if (!ifNotExists) throw Errors.databaseExists(name)
      session.warnings.push({ level: "Note", code: 1007, message: `Can't create database '${name}'; database exists` })
      return ok(0)
    }
    if (e instanceof InvalidDatabaseName) throw Errors.wrongDatabaseName(name)
    throw e
  }
}

const dropDatabase = (ctx: EngineContext, session: Session, name: string, ifExists: boolean): Outcome | Promise<Outcome> => {
  const handle = ctx.storage.get(name)
  if (handle === undefined) {
    if (!ifExists) throw Errors.dropMissingDatabase(name)
    session.warnings.push({ level: "Note", code: 1008, message: `Can't drop database '${name}'; database doesn't exist` })
    return ok(0)
  }
  const committed = session.inTransaction ? Tx.commit(ctx, session) : undefined
  if (committed instanceof Promise) return committed.then(() => dropDatabase(ctx, session, name, ifExists))
  if (ctx.replicator !== undefined) {
    return Tx.replicateDatabaseOp(ctx, session, name, "drop").then(() => {
      if (session.database === name) session.database = undefined
      return ok(0)
    })
  }
  return Tx.withLock(ctx, session, handle, () => {
    const tables = handle.reader.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").stmt.all() as Array<Array<bigint>>
    ctx.storage.drop(name)
    if (session.database === name) session.database = undefined
    return ok(tables[0]?.[0] ?? 0n)
  })
}

const execute = (ctx: EngineContext, session: Session, s: Statement, params: ReadonlyArray<ParamValue>): Outcome | Promise<Outcome> => {
  resetStatementClock()
  refuseWrites(ctx, s)
  if (!(s.kind === "show" && (s.show.what === "warnings" || s.show.what === "errors"))) {
    if (session.warnings.length > 0) session.warnings = []
  }
  switch (s.kind) {
    case "select": {
      if (!session.autocommit) session.inTransaction = true
      const home = s.lockingRead === true && session.inTransaction && s.tables.length > 0
        ? ctx.storage.get(s.tables[0]!.database ?? session.database ?? "")
        : undefined
      // A locking read holds the database's writer to COMMIT, so what it read cannot change under it.
      if (home !== undefined) return Tx.withWriter(ctx, session, home, () => runSelect(ctx, session, s.sqlite, s.tables, params, s.calcFoundRows))
      return runSelect(ctx, session, s.sqlite, s.tables, params, s.calcFoundRows)
    }
    case "insert":
    case "replace":
      if (!session.autocommit) session.inTransaction = true
      return runInsert(ctx, session, s, params)
    case "update":
    case "delete":
      if (!session.autocommit) session.inTransaction = true
      return runUpdateOrDelete(ctx, session, s, params)
    case "ddl":
      return runDdl(ctx, session, s, params)
    case "create_database": {
      const committed = session.inTransaction ? Tx.commit(ctx, session) : undefined
      if (committed instanceof Promise) return committed.then(() => createDatabase(ctx, session, s.name, s.ifNotExists))
      return createDatabase(ctx, session, s.name, s.ifNotExists)
    }
    case "drop_database":
      return dropDatabase(ctx, session, s.name, s.ifExists)
    case "use":
      useDatabase(ctx, session, s.database)
      return ok()
    case "begin":
      return afterwards(Tx.beginTransaction(ctx, session, s.readOnly), ok)
    case "commit":
      return afterwards(Tx.commit(ctx, session), ok)
    case "rollback":
      Tx.rollback(session)
      return ok()
    case "savepoint":
      Tx.savepoint(session, s.name)
      return ok()
    case "rollback_to":
      Tx.rollbackTo(session, s.name)
      return ok()
    case "release":
      Tx.releaseSavepoint(session, s.name)
      return ok()
    case "set":
      return runSet(ctx, session, s.assignments)
    case "show":
      return runShow(ctx, session, s.show)
    case "raw":
      return runRaw(ctx, session, s.sql)
    case "noop":
      return ok()
    case "prepare_sql": {
      const text = s.text ?? session.userVariables.get(s.fromVariable ?? "")
      if (text === undefined || text === null) throw Errors.syntax("NULL")
      const sql = Buffer.isBuffer(text) ? text.toString("utf8") : String(text)
      session.sqlPrepared.set(s.name, { statement: parse(session, sql), paramCount: placeholderCount(sql) })
      return { ...ok(), info: "Statement prepared" }
    }
    case "execute_sql": {
      const prepared = session.sqlPrepared.get(s.name)
      if (prepared === undefined) throw Errors.unknownStatementHandler(s.name, "EXECUTE")
      if (s.using.length !== prepared.paramCount) throw Errors.wrongArguments("EXECUTE")
      const values = s.using.map((v) => (session.userVariables.get(v) ?? null) as ParamValue)
      return execute(ctx, session, prepared.statement, values)
    }
    case "explain":
      return runExplain(ctx, session, s.statement, params)
    case "load_data":
      // LOCAL arrives through the connection (loadData); the server's own files are off limits.
      if (s.load.local) throw new MysqlError({ code: 1295, sqlState: "HY000", message: "This command is not supported in the prepared statement protocol yet" })
      throw Errors.secureFilePriv()
    case "load_extension":
      ctx.storage.loadExtension(s.name)
      return ok()
    case "deallocate_sql":
      if (!session.sqlPrepared.delete(s.name)) throw Errors.unknownStatementHandler(s.name, "DEALLOCATE PREPARE")
      return ok()
  }
}

/** `then` when `step` is a Promise, else at once. */
const afterwards = <A>(step: void | Promise<void>, then: () => A): A | Promise<A> =>
  step instanceof Promise ? step.then(then) : then()

/** transpilation OFF: the text goes to SQLite as it is, on the current database. */
const runRaw = (ctx: EngineContext, session: Session, sql: string): Outcome | Promise<Outcome> => {
  const handle = requireDatabase(ctx, session.database)
  let isReader: boolean
  try {
    isReader = handle.reader.prepare(sql).reader
  } catch (e) {
    throw fromSqlite(e, handle.name)
  }
  if (isReader) return runSelect(ctx, session, { sql, args: [] }, [], [], undefined)
  if (ctx.readOnly) throw Errors.readOnlyReplica()
  return Tx.withWriter(ctx, session, handle, (conn): Outcome => {
    try {
      const r = conn.prepare(sql).stmt.run()
      ensureCaptureTriggers(conn.db)
      ctx.storage.schemaChanged(handle)
      return ok(r.changes)
    } catch (e) {
      throw fromSqlite(e, handle.name)
    }
  })
}

const make = Effect.gen(function*() {
  const storage = yield* Storage
  const config = yield* NodeConfig
  const replicator = yield* Effect.serviceOption(WorkerReplicator)
  const bus = yield* ProcessBus
  configureAutoIds(new AutoIdGenerator({ mode: config.mysql.autoIdMode, nodeId: config.nodeId, workerIndex: bus.workerIndex, workerCount: bus.workerCount }))
  const scratch = yield* Effect.acquireRelease(
    Effect.sync(() => new SqliteConnection(":memory:", { readonly: false, extensions: storage.extensions() })),
    (c) => Effect.sync(() => c.close())
  )
  storage.onExtensionLoaded((name, path) => loadInto(scratch.db, name, path))
  const ctx: EngineContext = {
    storage,
    scratch,
    globals: new Map<string, SysValue>([["max_connections", BigInt(config.mysql.maxConnections)], ["max_allowed_packet", BigInt(config.mysql.maxAllowedPacket)]]),
    lockWaitTimeoutMs: config.mysql.lockWaitTimeoutSeconds * 1000,
    replicator: replicator._tag === "Some" ? replicator.value : undefined,
    defaultConsistency: config.replication.defaultWriteConsistency,
    announceGlobal: (name, value) => bus.broadcast({ _tag: "GlobalSet", name, value }),
    commitLog: replicator._tag === "None" && config.publisher.enabled ? new LocalCommitLog(config.nodeId, bus.workerIndex) : undefined,
    readOnly: config.replica.enabled && config.replica.writeMode === "reject"
  }
  ctx.globals.set("marmot_write_consistency", config.replication.defaultWriteConsistency)
  if (ctx.readOnly) ctx.globals.set("read_only", 1n)
  bus.subscribe((m) => {
    if (m._tag !== "GlobalSet") return
    if (m.value === undefined) ctx.globals.delete(m.name)
    else ctx.globals.set(m.name, m.value)
  })
  // Every statement that fails with a MySQL error is logged at debug level with its text (WordPress
  // and other applications are checked for zero unexpected SQL errors this way).
  const runtime = yield* Effect.runtime<never>()
  const texts = new WeakMap<Statement, string>()
  const debug = config.logging.level === "debug"
  const logFailure = (session: Session, sql: string | undefined, e: unknown) => {
    if (!debug) return
    const detail = e instanceof MysqlError ? `ERROR ${e.code} (${e.sqlState}): ${e.message}` : `unexpected: ${String(e)}`
    Runtime.runFork(runtime)(Effect.logDebug(`statement failed: connection ${session.id}: ${detail} -- ${sql ?? "(unknown text)"}`))
  }
  const service: QueryEngineService = {
    newSession: (id, user, host) => new Session(id, user, host),
    parse: (session, sql) => {
      try {
        session.lastText = sql
        return parse(session, sql)
      } catch (e) {
        logFailure(session, sql, e)
        throw e
      }
    },
    execute: (session, statement, params) => {
      try {
        const outcome = execute(ctx, session, statement, params)
        if (outcome instanceof Promise) {
          return outcome.catch((e: unknown) => {
            logFailure(session, texts.get(statement) ?? session.lastText, e)
            throw e
          })
        }
        return outcome
      } catch (e) {
        logFailure(session, texts.get(statement) ?? session.lastText, e)
        throw e
      }
    },
    prepare: (session, sql) => {
      let statement: Statement
      try {
        statement = parse(session, sql)
      } catch (e) {
        logFailure(session, sql, e)
        throw e
      }
      texts.set(statement, sql)
      const paramCount = placeholderCount(sql)
      let columns: ReadonlyArray<ColumnDef> = []
      if (statement.kind === "select") {
        const { prepared, home } = prepareRead(ctx, session, statement.sqlite, statement.tables)
        columns = columnsBeforeExecution(ctx, prepared, home, stringShape)
      }
      return { statement, paramCount, columns }
    },
    useDatabase: (session, name) => useDatabase(ctx, session, name),
    closeSession: (session) => Tx.abandon(session),
    resetSession: (session) => {
      Tx.rollback(session)
      session.resetState()
    },
    loadData: (session, spec) => {
      refuseWrites(ctx, { kind: "load_data", load: spec })
      return prepareLoadData(ctx, session, spec, { parse: (sql) => parse(session, sql), execute: (st, params) => execute(ctx, session, st, params) })
    }
  }
  return service
})

export class QueryEngine extends Context.Tag("marmot/query/QueryEngine")<QueryEngine, QueryEngineService>() {
  static readonly make = make
  static readonly layer = Layer.scoped(QueryEngine, make)
}
