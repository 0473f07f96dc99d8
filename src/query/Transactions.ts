import { CaptureSink } from "../storage/Capture.ts"
import type { SqliteConnection } from "../storage/SqliteConnection.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import { LockDeadlock, LockWaitTimeout } from "../storage/WriteLock.ts"
import type { EngineContext } from "./Context.ts"
import { Errors, fromSqlite, MysqlError } from "./Errors.ts"
import { databaseKey } from "../replication/IntentKey.ts"
import { buildRequest, consistencyOf, replicateAll } from "./Replication.ts"
import type { Session } from "./Session.ts"

/**
 * Writes take the database's writer lock: first this process's WriteLock (a queue with deadlock
 * detection), then SQLite's own file lock with BEGIN IMMEDIATE, which other worker processes of
 * the node contend for; SQLITE_BUSY is retried asynchronously, never by blocking the event loop.
 * Inside a MySQL transaction the lock is taken at the first write and held until COMMIT or
 * ROLLBACK, so reads before the first write see the latest committed data and never fail to
 * upgrade. An autocommit write holds it for one statement (synchronously when free).
 */
export const withWriter = <A>(
  ctx: EngineContext,
  session: Session,
  handle: DatabaseHandle,
  work: (conn: SqliteConnection) => A
): A | Promise<A> => {
  if (session.holds(handle)) return statement(handle.writer, work)
  if (session.inTransaction && session.readOnlyTransaction) throw Errors.readOnlyTransaction()
  const locked = session.inTransaction
    ? () => joinTransaction(ctx, session, handle, work)
    : () => autocommit(ctx, session, handle, work) as A | Promise<A>
  const once = (): A | Promise<A> => {
    if (handle.lock.tryAcquire(session)) return locked()
    return handle.lock.acquire(session, ctx.lockWaitTimeoutMs).then(locked, (e) => {
      throw lockFailure(session, e)
    })
  }
  if (session.inTransaction || ctx.replicator === undefined) return once()
  return retryingConflicts(ctx, once)
}

/**
 * An autocommit statement that lost a replication conflict (another transaction held or had just
 * changed one of its rows) runs again on the new data, as MySQL would have run it after waiting
 * for the row lock, until lock_wait_timeout. Only explicit transactions give the client 1213.
 */
const retryingConflicts = <A>(ctx: EngineContext, run: () => A | Promise<A>): A | Promise<A> => {
  const deadline = Date.now() + ctx.lockWaitTimeoutMs
  let attempt = 0
  const loop = (result: A | Promise<A>): A | Promise<A> => {
    if (!(result instanceof Promise)) return result
    return result.catch((e: unknown) => {
      if (!(e instanceof MysqlError) || e.code !== 1213 || Date.now() >= deadline) throw e
      attempt++
      const pauseMs = Math.min(50, attempt) * (0.5 + Math.random())
      return new Promise<void>((resolve) => setTimeout(resolve, pauseMs)).then(() => loop(run()))
    })
  }
  return loop(run())
}

/** A failed statement leaves no images in the transaction's capture (SQLite undid its changes). */
const statement = <A>(conn: SqliteConnection, work: (conn: SqliteConnection) => A): A => {
  const sink = conn.replicationCapture
  if (sink === undefined) return work(conn)
  const images = sink.images.length
  const ddl = sink.ddl.length
  try {
    return work(conn)
  } catch (e) {
    sink.images.length = images
    sink.ddl.length = ddl
    throw e
  }
}

/** Cluster mode: the writer's changes go to the session's capture for this database. */
const track = (ctx: EngineContext, session: Session, handle: DatabaseHandle): CaptureSink | undefined => {
  if (ctx.replicator === undefined && ctx.commitLog === undefined) return undefined
  let sink = session.captured.get(handle)
  if (sink === undefined) session.captured.set(handle, sink = new CaptureSink())
  handle.writer.replicationCapture = sink
  return sink
}

const untrack = (session: Session, handle: DatabaseHandle) => {
  handle.writer.replicationCapture = undefined
  session.captured.delete(handle)
}

/** Takes the writer (both locks) around `work`, as one autocommit unit. */
export const withLock = <A>(ctx: EngineContext, session: Session, handle: DatabaseHandle, work: () => A): A | Promise<A> =>
  withWriter(ctx, session, handle, () => work())

const isBusy = (e: unknown): boolean => {
  const code = (e as { code?: unknown }).code
  return typeof code === "string" && code.startsWith("SQLITE_BUSY")
}

/** BEGIN IMMEDIATE on the writer; while another process holds the file lock, retries with backoff. */
const beginImmediate = (ctx: EngineContext, handle: DatabaseHandle): true | Promise<void> => {
  const attempt = (): boolean => {
    try {
      handle.writer.exec("BEGIN IMMEDIATE")
      return true
    } catch (e) {
      if (isBusy(e)) return false
      throw fromSqlite(e, handle.name)
    }
  }
  if (attempt()) return true
  const deadline = Date.now() + ctx.lockWaitTimeoutMs
  return new Promise<void>((resolve, reject) => {
    let delayMs = 1
    const retry = () => {
      try {
        if (attempt()) return resolve()
      } catch (e) {
        return reject(e)
      }
      if (Date.now() >= deadline) return reject(new LockWaitTimeout(handle.name))
      delayMs = Math.min(delayMs * 2, 8)
      setTimeout(retry, delayMs)
    }
    setTimeout(retry, delayMs)
  })
}

const afterBegin = <A>(
  ctx: EngineContext,
  session: Session,
  handle: DatabaseHandle,
  next: () => A
): A | Promise<A> => {
  let began: true | Promise<void>
  try {
    began = beginImmediate(ctx, handle)
  } catch (e) {
    handle.lock.release(session)
    throw e
  }
  if (began === true) return next()
  return began.then(next, (e) => {
    handle.lock.release(session)
    throw lockFailure(session, e)
  })
}

const joinTransaction = <A>(ctx: EngineContext, session: Session, handle: DatabaseHandle, work: (conn: SqliteConnection) => A) =>
  afterBegin(ctx, session, handle, () => {
    try {
      for (const name of session.savepoints) handle.writer.exec("SAVEPOINT " + quoteIdent(name))
    } catch (e) {
      handle.writer.exec("ROLLBACK")
      handle.lock.release(session)
      throw fromSqlite(e, handle.name)
    }
    session.held.push(handle)
    track(ctx, session, handle)
    return statement(handle.writer, work)
  })

const autocommit = <A>(ctx: EngineContext, session: Session, handle: DatabaseHandle, work: (conn: SqliteConnection) => A) =>
  afterBegin(ctx, session, handle, (): A | Promise<A> => {
    const open = () => handle.writer.db.open && handle.writer.inTransaction
    const sink = track(ctx, session, handle)
    try {
      const result = work(handle.writer)
      if (ctx.replicator !== undefined && sink !== undefined && (sink.images.length > 0 || sink.ddl.length > 0) && open()) {
        // Replicated: the images leave, the file lock is released before any network round trip,
        // and the change comes back through the applier.
        const request = buildRequest(handle, sink, consistencyOf(ctx, session))
        handle.writer.exec("ROLLBACK")
        return replicateAll(ctx, [request]).then(() => result)
      }
      if (open()) {
        if (sink !== undefined) ctx.commitLog?.record(handle, sink)
        handle.writer.exec("COMMIT")
      }
      return result
    } catch (e) {
      if (open()) handle.writer.exec("ROLLBACK")
      throw fromSqlite(e, handle.name)
    } finally {
      if (sink !== undefined) untrack(session, handle)
      handle.lock.release(session)
    }
  })

const lockFailure = (session: Session, e: unknown): MysqlError => {
  if (e instanceof LockDeadlock) {
    // MySQL rolls back the whole transaction of the deadlock victim.
    rollback(session)
    return Errors.deadlock()
  }
  if (e instanceof LockWaitTimeout) return Errors.lockWaitTimeout()
  return fromSqlite(e, "")
}

const endTransaction = (session: Session) => {
  for (const handle of session.held) {
    if (session.captured.has(handle)) untrack(session, handle)
    handle.lock.release(session)
  }
  session.savepointMarks.clear()
  session.held.length = 0
  session.inTransaction = false
  session.readOnlyTransaction = false
  session.savepoints = []
}

/**
 * COMMIT. Standalone: each database's SQLite transaction commits. Cluster mode: what each database
 * captured is replicated (one two-phase commit per database, in order) after the SQLite
 * transactions are rolled back and the locks released; the Promise settles with the outcome.
 */
export const commit = (ctx: EngineContext, session: Session): void | Promise<void> => {
  if (ctx.replicator !== undefined && session.captured.size > 0) return commitReplicated(ctx, session)
  let failure: MysqlError | undefined
  for (const handle of session.held) {
    try {
      if (handle.writer.inTransaction) {
        const sink = session.captured.get(handle)
        if (sink !== undefined) ctx.commitLog?.record(handle, sink)
        handle.writer.exec("COMMIT")
      }
    } catch (e) {
      failure ??= fromSqlite(e, handle.name)
      if (handle.writer.inTransaction) handle.writer.exec("ROLLBACK")
    }
  }
  endTransaction(session)
  if (failure !== undefined) throw failure
}

const commitReplicated = (ctx: EngineContext, session: Session): void | Promise<void> => {
  const consistency = consistencyOf(ctx, session)
  const requests = []
  let failure: MysqlError | undefined
  for (const handle of session.held) {
    const sink = session.captured.get(handle)
    try {
      if (sink !== undefined && handle.writer.inTransaction && (sink.images.length > 0 || sink.ddl.length > 0)) {
        requests.push(buildRequest(handle, sink, consistency))
      }
    } catch (e) {
      failure ??= e instanceof MysqlError ? e : fromSqlite(e, handle.name)
    }
    try {
      if (handle.writer.inTransaction) handle.writer.exec("ROLLBACK")
    } catch {
      // the transaction is gone either way
    }
  }
  endTransaction(session)
  if (failure !== undefined) throw failure
  if (requests.length === 0) return
  return replicateAll(ctx, requests)
}

export const rollback = (session: Session): void => {
  for (const handle of session.held) {
    try {
      if (handle.writer.inTransaction) handle.writer.exec("ROLLBACK")
    } catch {
      // The connection rolls back by itself when a ROLLBACK fails; nothing is left to undo.
    }
  }
  endTransaction(session)
}

export const beginTransaction = (ctx: EngineContext, session: Session, readOnly: boolean): void | Promise<void> => {
  const start = () => {
    session.inTransaction = true
    session.readOnlyTransaction = readOnly
  }
  const committed = session.inTransaction ? commit(ctx, session) : undefined
  if (committed instanceof Promise) return committed.then(start)
  start()
}

export const savepoint = (session: Session, name: string): void => {
  const i = session.savepoints.indexOf(name)
  if (i >= 0) session.savepoints.splice(i, 1)
  if (!session.inTransaction) return
  for (const handle of session.held) {
    if (i >= 0) handle.writer.exec("RELEASE " + quoteIdent(name))
    handle.writer.exec("SAVEPOINT " + quoteIdent(name))
  }
  session.savepoints.push(name)
  if (session.captured.size > 0) {
    const marks = new Map<DatabaseHandle, number>()
    for (const [handle, sink] of session.captured) marks.set(handle, sink.images.length)
    session.savepointMarks.set(name, marks)
  }
}

export const rollbackTo = (session: Session, name: string): void => {
  const i = session.savepoints.indexOf(name)
  if (i < 0) throw Errors.savepointDoesNotExist(name)
  for (const handle of session.held) handle.writer.exec("ROLLBACK TO " + quoteIdent(name))
  session.savepoints = session.savepoints.slice(0, i + 1)
  const marks = session.savepointMarks.get(name)
  for (const [handle, sink] of session.captured) sink.images.length = marks?.get(handle) ?? 0
}

export const releaseSavepoint = (session: Session, name: string): void => {
  const i = session.savepoints.indexOf(name)
  if (i < 0) throw Errors.savepointDoesNotExist(name)
  for (const handle of session.held) handle.writer.exec("RELEASE " + quoteIdent(name))
  session.savepoints = session.savepoints.slice(0, i)
}

/** A connection closed: undo its open transaction and drop any lock wait. */
export const abandon = (session: Session): void => {
  session.waitingFor?.cancel(session)
  rollback(session)
}

/** Cluster mode: CREATE or DROP DATABASE goes to every node through the write coordinator. */
export const replicateDatabaseOp = (ctx: EngineContext, session: Session, name: string, op: "create" | "drop"): Promise<void> =>
  replicateAll(ctx, [{ database: name, changes: [], databaseOp: op, locks: [databaseKey(name)], consistency: consistencyOf(ctx, session) }])
