import type { SqliteConnection } from "../storage/SqliteConnection.ts"
import { quoteIdent } from "../storage/SqliteConnection.ts"
import type { DatabaseHandle } from "../storage/Storage.ts"
import { LockDeadlock, LockWaitTimeout } from "../storage/WriteLock.ts"
import type { EngineContext } from "./Context.ts"
import { Errors, fromSqlite, type MysqlError } from "./Errors.ts"
import type { Session } from "./Session.ts"

/**
 * Writes take the database's writer lock. Inside a MySQL transaction the lock is taken at the
 * first write (BEGIN IMMEDIATE on the writer connection) and held until COMMIT or ROLLBACK, so
 * reads before the first write see the latest committed data and never fail to upgrade.
 * An autocommit write takes and releases the lock around one statement, synchronously when free.
 */
export const withWriter = <A>(
  ctx: EngineContext,
  session: Session,
  handle: DatabaseHandle,
  work: (conn: SqliteConnection) => A
): A | Promise<A> => {
  if (session.holds(handle)) return work(handle.writer)
  if (session.inTransaction) {
    if (session.readOnlyTransaction) throw Errors.readOnlyTransaction()
    const start = () => {
      begin(session, handle)
      return work(handle.writer)
    }
    if (handle.lock.tryAcquire(session)) return start()
    return handle.lock.acquire(session, ctx.lockWaitTimeoutMs).then(start, (e) => {
      throw lockFailure(session, e)
    })
  }
  const once = () => {
    try {
      return work(handle.writer)
    } finally {
      handle.lock.release(session)
    }
  }
  if (handle.lock.tryAcquire(session)) return once()
  return handle.lock.acquire(session, ctx.lockWaitTimeoutMs).then(once, (e) => {
    throw lockFailure(session, e)
  })
}

/** Takes the writer lock without running anything (DROP DATABASE waits for writers to finish). */
export const withLock = <A>(ctx: EngineContext, session: Session, handle: DatabaseHandle, work: () => A): A | Promise<A> => {
  const once = () => {
    try {
      return work()
    } finally {
      handle.lock.release(session)
    }
  }
  if (handle.lock.tryAcquire(session)) return once()
  return handle.lock.acquire(session, ctx.lockWaitTimeoutMs).then(once, (e) => {
    throw lockFailure(session, e)
  })
}

const begin = (session: Session, handle: DatabaseHandle) => {
  try {
    handle.writer.exec("BEGIN IMMEDIATE")
    for (const name of session.savepoints) handle.writer.exec("SAVEPOINT " + quoteIdent(name))
  } catch (e) {
    handle.lock.release(session)
    throw fromSqlite(e, handle.name)
  }
  session.held.push(handle)
}

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
export const abandon = (session: Session, handles: Iterable<DatabaseHandle>): void => {
  rollback(session)
  for (const h of handles) h.lock.cancel(session)
}
