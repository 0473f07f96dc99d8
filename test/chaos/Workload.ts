/**
 * The chaos workload: clients spread over all nodes (client c talks to node c mod N and stays with
 * it, reconnecting after a failure, as Jepsen clients are bound to nodes), each running a random mix of
 *  - insert: `INSERT INTO sets (id, client)` with an id no one else uses;
 *  - delete: `DELETE FROM sets WHERE id = ?` of one of its own acknowledged inserts;
 *  - incr-auto: `UPDATE counters SET v = v + 1 WHERE k = ?` (autocommit: the server retries conflicts);
 *  - incr-txn: `BEGIN; SELECT v … FOR UPDATE; UPDATE … SET v = <read + 1>; COMMIT`, retried by the
 *    client on 1213;
 *  - append-text: `UPDATE lists SET v = CONCAT(v, '<e> ') WHERE k = ?` with a unique element e;
 *  - append-row: `INSERT INTO appends (k, seq, val) SELECT k, MAX(seq) + 1, e …`: a new row per
 *    element, whose seq is read from the table in the same statement, so two concurrent appends to one
 *    key from two nodes write the same primary key and must conflict, not overwrite each other.
 * Every operation is recorded in the History with its outcome.
 */
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise"
import type { ChaosCluster } from "./ChaosCluster.ts"
import { between, type History, type Op, type OpKind, type Outcome, pick, prng } from "./History.ts"

export const DB = "chaos"
export const COUNTER_KEYS = 4
export const LIST_KEYS = 4

export const SCHEMA = [
  `CREATE DATABASE IF NOT EXISTS ${DB}`,
  `CREATE TABLE IF NOT EXISTS ${DB}.sets (id BIGINT PRIMARY KEY, client INT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${DB}.counters (k INT PRIMARY KEY, v BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${DB}.lists (k INT PRIMARY KEY, v TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${DB}.appends (k INT NOT NULL, seq INT NOT NULL, val BIGINT NOT NULL, PRIMARY KEY (k, seq))`
]

export const SEED_ROWS = [
  ...Array.from({ length: COUNTER_KEYS }, (_, k) => `INSERT INTO ${DB}.counters (k, v) VALUES (${k + 1}, 0)`),
  ...Array.from({ length: LIST_KEYS }, (_, k) => `INSERT INTO ${DB}.lists (k, v) VALUES (${k + 1}, '')`)
]

/** The tables and the ORDER BY that makes a dump canonical. */
export const TABLES: ReadonlyArray<{ name: string; orderBy: string }> = [
  { name: "sets", orderBy: "id" },
  { name: "counters", orderBy: "k" },
  { name: "lists", orderBy: "k" },
  { name: "appends", orderBy: "k, seq" }
]

export interface WorkloadOptions {
  readonly clients: number
  /** Pause between two operations of one client (ms), so a few clients do not saturate 2 cores. */
  readonly thinkMs: number
  /** Client-side deadline of one operation; after it the outcome is unknown and the connection dropped. */
  readonly opTimeoutMs: number
  readonly seed: number
  /** `SET marmot_write_consistency` for every client session (default: the server's, QUORUM). */
  readonly level?: "ONE" | "QUORUM" | "ALL"
  readonly mix?: ReadonlyArray<OpKind>
}

export const DEFAULT_MIX: ReadonlyArray<OpKind> = [
  "insert", "insert", "insert", "delete",
  "incr-auto", "incr-auto", "incr-txn", "incr-txn",
  "append-text", "append-text", "append-row", "append-row"
]

class OpTimeout extends Error {
  constructor(ms: number) {
    super(`client timeout after ${ms} ms`)
  }
}

export const withTimeout = <A>(p: Promise<A>, ms: number): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const t = setTimeout(() => reject(new OpTimeout(ms)), ms)
    p.then((a) => {
      clearTimeout(t)
      resolve(a)
    }, (e) => {
      clearTimeout(t)
      reject(e)
    })
  })

interface SqlError {
  errno?: number
  code?: string
  message?: string
}

/**
 * What an error says about whether the operation happened. `sent`: the statement that commits (the
 * autocommit statement, or COMMIT) was sent, so a lost connection or timeout leaves it unknown.
 */
export function classify(e: unknown, sent: boolean): { outcome: Outcome; error: string; dropConnection: boolean } {
  const err = e as SqlError
  const message = `${err.errno ?? err.code ?? "?"} ${err.message ?? String(e)}`
  if (err.errno === 1213 || err.errno === 1205) return { outcome: "fail", error: message, dropConnection: false }
  if (err.errno === 1105 && /nothing was written/.test(err.message ?? "")) return { outcome: "fail", error: message, dropConnection: false }
  const connectionLost = e instanceof OpTimeout || err.errno === undefined
  if (!sent) return { outcome: "fail", error: message, dropConnection: connectionLost }
  return { outcome: "info", error: message, dropConnection: connectionLost }
}

export interface WorkloadHandle {
  stop(): Promise<void>
}

export function startWorkload(cluster: ChaosCluster, history: History, options: WorkloadOptions): WorkloadHandle {
  let stopped = false
  const mix = options.mix ?? DEFAULT_MIX
  const size = cluster.nodes.length
  const client = async (c: number) => {
    const node = c % size
    const rnd = prng(options.seed * 1000 + c + 1)
    let conn: Connection | undefined
    let seq = 0
    const mine: Array<number> = []
    const drop = () => {
      conn?.destroy()
      conn = undefined
    }
    while (!stopped) {
      if (conn === undefined) {
        try {
          conn = await withTimeout(cluster.connect(node, DB), 4000)
          if (options.level !== undefined) await withTimeout(conn.query(`SET marmot_write_consistency = '${options.level}'`), 4000)
        } catch {
          drop()
          await sleep(300)
          continue
        }
      }
      const c0 = conn
      const f = pick(rnd, mix)
      const unique = c * 1_000_000 + ++seq
      /**
       * One autocommit statement: ok when it succeeded (and, when `rowsExpected` is given, changed that
       * many rows: a counter or list row is always there, so 0 rows would be a surprise worth keeping).
       */
      const autocommit = async (op: Op, sql: string, params: Array<unknown>, rowsExpected?: number) => {
        try {
          const [r] = await withTimeout(c0.query<ResultSetHeader>(sql, params), options.opTimeoutMs)
          if (rowsExpected !== undefined && r.affectedRows !== rowsExpected) {
            history.complete(op, "info", { error: `affectedRows ${r.affectedRows}`, affected: r.affectedRows })
          } else history.complete(op, "ok", { affected: r.affectedRows })
          return true
        } catch (e) {
          const r = classify(e, true)
          history.complete(op, r.outcome, { error: r.error })
          if (r.dropConnection) drop()
          return false
        }
      }
      if (f === "insert") {
        const op = history.invoke(c, node, f, unique)
        if (await autocommit(op, "INSERT INTO sets (id, client) VALUES (?, ?)", [unique, c])) mine.push(unique)
      } else if (f === "delete") {
        if (mine.length === 0) continue
        const id = mine.splice(Math.floor(rnd() * mine.length), 1)[0]!
        await autocommit(history.invoke(c, node, f, id), "DELETE FROM sets WHERE id = ?", [id])
      } else if (f === "incr-auto") {
        const k = between(rnd, 1, COUNTER_KEYS)
        await autocommit(history.invoke(c, node, f, k), "UPDATE counters SET v = v + 1 WHERE k = ?", [k], 1)
      } else if (f === "incr-txn") {
        const k = between(rnd, 1, COUNTER_KEYS)
        const op = history.invoke(c, node, f, k)
        let retries = 0
        for (;;) {
          let sent = false
          try {
            await withTimeout(c0.query("BEGIN"), options.opTimeoutMs)
            const [rows] = await withTimeout(c0.query<Array<RowDataPacket>>("SELECT v FROM counters WHERE k = ? FOR UPDATE", [k]), options.opTimeoutMs)
            const v = BigInt(String(rows[0]!["v"]))
            await withTimeout(c0.query("UPDATE counters SET v = ? WHERE k = ?", [String(v + 1n), k]), options.opTimeoutMs)
            sent = true
            await withTimeout(c0.query("COMMIT"), options.opTimeoutMs)
            history.complete(op, "ok", { retries })
            break
          } catch (e) {
            const r = classify(e, sent)
            if (r.dropConnection) {
              history.complete(op, r.outcome, { error: r.error, retries })
              drop()
              break
            }
            await c0.query("ROLLBACK").catch(() => {})
            if ((e as SqlError).errno === 1213 && retries < 20 && !stopped) {
              retries++
              await sleep(between(rnd, 5, 40))
              continue
            }
            history.complete(op, r.outcome, { error: r.error, retries })
            break
          }
        }
      } else if (f === "append-text") {
        const k = between(rnd, 1, LIST_KEYS)
        await autocommit(history.invoke(c, node, f, k, unique), "UPDATE lists SET v = CONCAT(v, ?) WHERE k = ?", [`${unique} `, k], 1)
      } else {
        const k = between(rnd, 1, LIST_KEYS)
        await autocommit(
          history.invoke(c, node, f, k, unique),
          "INSERT INTO appends (k, seq, val) SELECT ?, COALESCE(MAX(seq), 0) + 1, ? FROM appends WHERE k = ?",
          [k, unique, k],
          1
        )
      }
      await sleep(options.thinkMs)
    }
    drop()
  }
  const running = Array.from({ length: options.clients }, (_, c) => client(c))
  return {
    stop: async () => {
      stopped = true
      await Promise.all(running)
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
