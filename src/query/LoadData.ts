/**
 * LOAD DATA LOCAL INFILE: the file's rows go through the ordinary INSERT path (so they are
 * captured like any insert, and later replicated), batched into multi-row INSERTs, in one
 * transaction: the statement's own when autocommit is on, else inside the open transaction
 * (undone to a savepoint if the load fails).
 */
import type { ParamValue } from "../mysql/protocol/Decode.ts"
import { type LoadDataSpec, parseRows, type Field } from "../sql/LoadData.ts"
import type { Statement } from "../sql/Statement.ts"
import { type EngineContext, requireDatabase } from "./Context.ts"
import { Errors } from "./Errors.ts"
import type { Session, Warning } from "./Session.ts"
import * as Tx from "./Transactions.ts"
import { type Ok, ok } from "./Writes.ts"

export interface LoadDeps {
  readonly parse: (sql: string) => Statement
  readonly execute: (statement: Statement, params: ReadonlyArray<ParamValue>) => unknown
}

const ident = (name: string) => "`" + name.replaceAll("`", "``") + "`"

/** Placeholders per INSERT: well below SQLite's 32766 variables. */
const MAX_PARAMS = 8000
const MAX_BATCH = 500
const SAVEPOINT = "__marmot_load_data"
const NUMERIC = /INT|DOUBLE|FLOAT|REAL|DEC|NUMERIC|BIT|BOOL/i

/**
 * Checks the statement before the file is requested (MySQL opens the table first) and returns the
 * loader the connection calls with the file's bytes.
 */
export const prepareLoadData = (
  ctx: EngineContext,
  session: Session,
  spec: LoadDataSpec,
  deps: LoadDeps
): (data: Buffer) => Ok | Promise<Ok> => {
  const database = spec.table.database ?? session.database
  const handle = requireDatabase(ctx, database)
  const info = handle.tableInfo(spec.table.table)
  if (info === undefined) throw Errors.noSuchTable(handle.name, spec.table.table)
  const fields = spec.columns ?? info.columns.map((c) => ({ name: c.name, variable: false }))
  for (const f of [...fields.filter((x) => !x.variable).map((x) => x.name), ...spec.set.map((s) => s.column)]) {
    if (!info.byName.has(f.toLowerCase())) throw Errors.unknownColumn(f)
  }
  const verb = spec.duplicates === "replace" ? "REPLACE" : spec.duplicates === "ignore" ? "INSERT IGNORE" : "INSERT"
  const target = `${ident(handle.name)}.${ident(spec.table.table)}`
  const usesVariables = fields.some((f) => f.variable) || spec.set.length > 0
  // MySQL: an empty field of a numeric column is 0 (with a warning), of a string column ''.
  const numeric = fields.map((f) => !f.variable && NUMERIC.test(info.byName.get(f.name.toLowerCase())?.declared ?? ""))

  return (data) => {
    const text = data.toString(spec.charset === "latin1" || spec.charset === "binary" ? "latin1" : "utf8")
    const rows = parseRows(text, spec.format).slice(spec.ignoreLines)
    const warnings: Array<Warning> = []
    // Rows with the same number of fields share an INSERT shape: the columns the fields fill.
    const jobs: Array<{ statement: Statement; params: Array<ParamValue>; vars?: Array<[string, Field]> }> = []
    const shapes = new Map<string, Statement>()
    const shape = (count: number, batch: number): Statement => {
      const key = `${count}x${batch}`
      const hit = shapes.get(key)
      if (hit !== undefined) return hit
      const used = fields.slice(0, count)
      const columns = [...used.filter((f) => !f.variable).map((f) => ident(f.name)), ...spec.set.map((s) => ident(s.column))]
      const values = [...used.filter((f) => !f.variable).map(() => "?"), ...spec.set.map((s) => `(${s.expr})`)]
      const tuple = `(${values.join(", ")})`
      const statement = deps.parse(`${verb} INTO ${target} (${columns.join(", ")}) VALUES ${Array(batch).fill(tuple).join(", ")}`)
      shapes.set(key, statement)
      return statement
    }
    let pending: { count: number; params: Array<ParamValue>; rows: number } | undefined
    const flushBatch = () => {
      if (pending === undefined) return
      jobs.push({ statement: shape(pending.count, pending.rows), params: pending.params })
      pending = undefined
    }
    rows.forEach((row, i) => {
      const line = i + 1
      if (row.length < fields.length) {
        warnings.push({ level: "Warning", code: 1261, message: `Row ${line} doesn't contain data for all columns` })
      } else if (row.length > fields.length) {
        warnings.push({ level: "Warning", code: 1262, message: `Row ${line} was truncated; it contained more data than there were input columns` })
      }
      const count = Math.min(row.length, fields.length)
      const values: Array<ParamValue> = []
      const vars: Array<[string, Field]> = []
      for (let k = 0; k < count; k++) {
        let value = row[k]!
        if (value === "" && numeric[k]) {
          value = "0"
          warnings.push({ level: "Warning", code: 1265, message: `Data truncated for column '${fields[k]!.name}' at row ${line}` })
        }
        if (fields[k]!.variable) vars.push([fields[k]!.name, value])
        else values.push(value)
      }
      if (usesVariables) {
        jobs.push({ statement: shape(count, 1), params: values, vars })
        return
      }
      if (values.length === 0) return
      if (pending !== undefined && (pending.count !== count || (pending.rows + 1) * count > MAX_PARAMS || pending.rows >= MAX_BATCH)) flushBatch()
      if (pending === undefined) pending = { count, params: [], rows: 0 }
      for (const v of values) pending.params.push(v)
      pending.rows++
    })
    flushBatch()

    // autocommit=0 opens a transaction that the load joins and leaves open
    if (!session.autocommit) session.inTransaction = true
    const implicit = !session.inTransaction
    if (implicit) Tx.beginTransaction(ctx, session, false)
    else Tx.savepoint(session, SAVEPOINT)
    let affected = 0n
    const failed = (e: unknown): never => {
      if (implicit) Tx.rollback(session)
      else {
        try {
          Tx.rollbackTo(session, SAVEPOINT)
          Tx.releaseSavepoint(session, SAVEPOINT)
        } catch {
          // the transaction is gone already (a deadlock rolled it back)
        }
      }
      session.warnings = warnings
      throw e
    }
    const record = (o: unknown) => {
      affected += BigInt((o as Ok).affectedRows)
      for (const w of session.warnings) warnings.push(w)
    }
    const finish = (): Ok | Promise<Ok> => {
      // In cluster mode the implicit transaction's COMMIT replicates the loaded rows first.
      const committed = implicit ? Tx.commit(ctx, session) : Tx.releaseSavepoint(session, SAVEPOINT)
      if (committed instanceof Promise) return committed.then(summary)
      return summary()
    }
    const summary = (): Ok => {
      session.warnings = warnings
      const records = rows.length
      const deleted = spec.duplicates === "replace" ? Math.max(0, Number(affected) - records) : 0
      const skipped = spec.duplicates === "ignore" ? Math.max(0, records - Number(affected)) : 0
      return { ...ok(affected), info: `Records: ${records}  Deleted: ${deleted}  Skipped: ${skipped}  Warnings: ${warnings.length}` }
    }
    const run = (from: number): Ok | Promise<Ok> => {
      for (let i = from; i < jobs.length; i++) {
        const job = jobs[i]!
        if (job.vars !== undefined) for (const [name, value] of job.vars) session.userVariables.set(name, value)
        const outcome = deps.execute(job.statement, job.params)
        if (outcome instanceof Promise) return outcome.then((o) => (record(o), run(i + 1)))
        record(outcome)
      }
      return finish()
    }
    try {
      const r = run(0)
      return r instanceof Promise ? r.catch(failed) : r
    } catch (e) {
      return failed(e)
    }
  }
}
