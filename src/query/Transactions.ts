import type { SqliteConnection } from "../storage/SqliteConnection.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import { LockDeadlock, LockWaitTimeout } from "../storage/WriteLock.ts"
import type { EngineContext } from "./Context.ts"
import { Errors, fromSqlite, type MysqlError } from "./Errors.ts"
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
  if (session.holds(handle)) return work(handle.writer)
  if (session.inTransaction && session.readOnlyTransaction) throw Errors.readOnlyTransaction()
  const locked = session.inTransaction ? () => joinTransaction(ctx, session, handle, work) : () => autocommit(ctx, session, handle, work)
  if (handle.lock.tryAcquire(session)) return locked()
  return handle.lock.acquire(session, ctx.lockWaitTimeoutMs).then(locked, (e) => {
    throw lockFailure(session, e)
  })
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
    return work(handle.writer)
  })

const autocommit = <A>(ctx: EngineContext, session: Session, handle: DatabaseHandle, work: (conn: SqliteConnection) => A) =>
  afterBegin(ctx, session, handle, () => {
    const open = () => handle.writer.db.open && handle.writer.inTransaction
    try {
      const result = work(handle.writer)
      if (open()) handle.writer.exec("COMMIT")
      return result
    } catch (e) {
      if (open()) handle.writer.exec("ROLLBACK")
      throw fromSqlite(e, handle.name)
    } finally {
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
  for (const handle of session.held) handle.lock.release(session)
  session.held.length = 0
  session.inTransaction = false
  session.readOnlyTransaction = false
  session.savepoints = []
}

export const commit = (session: Session): void => {
  let failure: MysqlError | undefined
  for (const handle of session.held) {
    try {
      if (handle.writer.inTransaction) handle.writer.exec("COMMIT")
    } catch (e) {
      failure ??= fromSqlite(e, handle.name)
      if (handle.writer.inTransaction) handle.writer.exec("ROLLBACK")
    }
  }
  endTransaction(session)
  if (failure !== undefined) throw failure
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

export const beginTransaction = (session: Session, readOnly: boolean): void => {
  if (session.inTransaction) commit(session)
  session.inTransaction = true
  session.readOnlyTransaction = readOnly
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
}

export const rollbackTo = (session: Session, name: string): void => {
  const i = session.savepoints.indexOf(name)
  if (i < 0) throw Errors.savepointDoesNotExist(name)
  for (const handle of session.held) handle.writer.exec("ROLLBACK TO " + quoteIdent(name))
  session.savepoints = session.savepoints.slice(0, i + 1)
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
