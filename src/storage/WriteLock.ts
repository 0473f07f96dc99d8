/**
 * Per-database writer lock. SQLite allows one writer per file, and better-sqlite3 is synchronous,
 * so a session that wants to write takes this lock instead of letting SQLite answer SQLITE_BUSY.
 * Waiting is asynchronous (the event loop keeps serving readers); waits time out (MySQL 1205)
 * and a wait that would close a cycle fails at once (MySQL 1213).
 */
export interface LockOwner {
  readonly id: number
  /** The lock this owner is queued on, for deadlock detection. */
  waitingFor: WriteLock | undefined
}

export class LockWaitTimeout extends Error {
  readonly _tag = "LockWaitTimeout"
}

export class LockDeadlock extends Error {
  readonly _tag = "LockDeadlock"
}

interface Waiter {
  readonly owner: LockOwner
  readonly resolve: () => void
  readonly reject: (e: Error) => void
  timer: ReturnType<typeof setTimeout> | undefined
}

export class WriteLock {
  private holder: LockOwner | undefined = undefined
  private readonly waiters: Array<Waiter> = []

  constructor(readonly name: string) {}

  get owner(): LockOwner | undefined {
    return this.holder
  }

  heldBy(owner: LockOwner): boolean {
    return this.holder === owner
  }

  /** Takes the lock if it is free (or already ours); never waits. */
  tryAcquire(owner: LockOwner): boolean {
    if (this.holder === owner) return true
    if (this.holder !== undefined || this.waiters.length > 0) return false
    this.holder = owner
    return true
  }

  acquire(owner: LockOwner, timeoutMs: number): Promise<void> {
    if (this.tryAcquire(owner)) return Promise.resolve()
    if (this.wouldDeadlock(owner)) return Promise.reject(new LockDeadlock(this.name))
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { owner, resolve, reject, timer: undefined }
      waiter.timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        owner.waitingFor = undefined
        reject(new LockWaitTimeout(this.name))
      }, timeoutMs)
      owner.waitingFor = this
      this.waiters.push(waiter)
    })
  }

  release(owner: LockOwner): void {
    if (this.holder !== owner) return
    this.holder = undefined
    const next = this.waiters.shift()
    if (next === undefined) return
    if (next.timer !== undefined) clearTimeout(next.timer)
    next.owner.waitingFor = undefined
    this.holder = next.owner
    next.resolve()
  }

  /** Drops a queued wait of this owner (its connection closed). */
  cancel(owner: LockOwner): void {
    const i = this.waiters.findIndex((w) => w.owner === owner)
    if (i < 0) return
    const [w] = this.waiters.splice(i, 1)
    if (w?.timer !== undefined) clearTimeout(w.timer)
    owner.waitingFor = undefined
  }

  private wouldDeadlock(requester: LockOwner): boolean {
    let cur = this.holder
    for (let hops = 0; cur !== undefined && hops < 1000; hops++) {
      if (cur === requester) return true
      cur = cur.waitingFor?.owner
    }
    return false
  }
}
