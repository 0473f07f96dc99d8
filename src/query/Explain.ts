import type { ParamValue } from "../mysql/protocol/Decode.ts"
import type { Statement } from "../sql/Statement.ts"
import { columnDef, stringShape } from "./ColumnTypes.ts"
import { bindArgs, type EngineContext } from "./Context.ts"
import { fromSqlite } from "./Errors.ts"
import { prepareRead, type Rows } from "./Reads.ts"
import type { Session } from "./Session.ts"

const columns = ["id", "select_type", "table", "partitions", "type", "possible_keys", "key", "key_len", "ref", "rows", "filtered", "Extra"]

/** SQLite names a MySQL index `t` on table `tbl` as `tbl__t`; EXPLAIN shows MySQL's name. */
const mysqlIndexName = (table: string, index: string): string =>
  index.startsWith(table + "__") ? index.slice(table.length + 2) : index

interface PlanRow {
  table: string
  type: string
  key: string | null
  extra: Array<string>
}

const planRow = (detail: string): PlanRow | undefined => {
  if (detail.startsWith("SCAN CONSTANT ROW")) return undefined
  const m = detail.match(/^(SCAN|SEARCH) (\S+)(?: USING (COVERING INDEX|INDEX|INTEGER PRIMARY KEY|PRIMARY KEY)(?: ([^\s(]+))?(?: \((.*)\))?)?/)
  if (m === null) return undefined
  const [, verb, table = "", using, indexName, cond = ""] = m
  if (verb === "SCAN") {
    if (using === undefined) return { table, type: "ALL", key: null, extra: [] }
    return { table, type: "index", key: using === "INTEGER PRIMARY KEY" ? "PRIMARY" : mysqlIndexName(table, indexName ?? ""), extra: using === "COVERING INDEX" ? ["Using index"] : [] }
  }
  const key = using === "INTEGER PRIMARY KEY" || using === "PRIMARY KEY" ? "PRIMARY" : mysqlIndexName(table, indexName ?? "")
  const equality = !/[<>]/.test(cond)
  const type = key === "PRIMARY" && equality ? "const" : equality ? "ref" : "range"
  return { table, type, key, extra: using === "COVERING INDEX" ? ["Using index"] : [] }
}

/**
 * EXPLAIN <statement>: SQLite's query plan in MySQL's EXPLAIN columns — one row per table access
 * (SCAN → ALL/index, SEARCH → const/ref/range with the index MySQL would name), with temporary
 * B-trees reported as MySQL's "Using temporary" / "Using filesort".
 */
export const runExplain = (
  ctx: EngineContext,
  session: Session,
  inner: Extract<Statement, { kind: "explain" }>["statement"],
  params: ReadonlyArray<ParamValue>
): Rows => {
  const sqlite = { sql: "EXPLAIN QUERY PLAN " + inner.sqlite.sql, args: inner.sqlite.args }
  const { prepared, home } = prepareRead(ctx, session, sqlite, inner.tables)
  let plan: Array<Array<unknown>>
  try {
    plan = prepared.stmt.all(bindArgs(ctx, session, sqlite.args, params)) as Array<Array<unknown>>
  } catch (e) {
    throw fromSqlite(e, home)
  }
  const rows: Array<PlanRow> = []
  for (const step of plan) {
    const detail = String(step[3] ?? "")
    const row = planRow(detail)
    if (row !== undefined) rows.push(row)
    else if (detail.startsWith("USE TEMP B-TREE")) {
      const last = rows[rows.length - 1]
      const note = detail.includes("ORDER BY") ? "Using filesort" : "Using temporary"
      if (last !== undefined && !last.extra.includes(note)) last.extra.push(note)
    }
  }
  const selectType = inner.kind === "select" ? "SIMPLE" : inner.kind.toUpperCase()
  const out = rows.length === 0
    ? [[1n, selectType, null, null, null, null, null, null, null, null, null, "No tables used"]]
    : rows.map((r) => [1n, selectType, r.table, null, r.type, r.key, r.key, null, null, null, "100.00", r.extra.length === 0 ? null : r.extra.join("; ")])
  return {
    _tag: "Rows",
    columns: columns.map((name) => columnDef(stringShape, { schema: "", table: "", orgTable: "", name, orgName: name })),
    rows: out
  }
}
