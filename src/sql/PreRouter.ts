/**
 * Session and control statements, recognized from the tokens before (instead of) the parser:
 * SET, SHOW, DESCRIBE/DESC/EXPLAIN t, USE, BEGIN/START TRANSACTION/COMMIT/ROLLBACK/SAVEPOINT/
 * RELEASE, CREATE/DROP DATABASE|SCHEMA and the few accepted no-ops.
 */
import type { Token } from "./Lexer.ts"
import { SyntaxErr, Unsupported } from "./Out.ts"
import type { SetAssignment, ShowStatement, Sqlite, Statement, TableRef } from "./Statement.ts"
import { parseLoadData } from "./LoadData.ts"

export interface PreRouterDeps {
  /** the SQLite form of `SELECT <expr>` for a SET value */
  readonly selectOf: (exprText: string, placeholdersBefore: number) => Sqlite
  /** the SQLite text (literals inlined) of a WHERE condition */
  readonly whereOf: (condText: string) => string
  /** the translation of a whole statement (what EXPLAIN explains) */
  readonly statementOf: (text: string) => Statement
}

export class Cur {
  i = 0
  constructor(readonly toks: ReadonlyArray<Token>, readonly src: string) {}
  peek(o = 0): Token | undefined { return this.toks[this.i + o] }
  done(): boolean { return this.i >= this.toks.length }
  is(kw: string, o = 0): boolean { const t = this.toks[this.i + o]; return t !== undefined && t.k === "word" && t.u === kw }
  kw(...kws: Array<string>): boolean {
    for (let j = 0; j < kws.length; j++) if (!this.is(kws[j]!, j)) return false
    this.i += kws.length
    return true
  }
  expect(kw: string): void { if (!this.kw(kw)) this.fail() }
  fail(): never {
    const t = this.peek()
    throw new SyntaxErr(t === undefined ? "" : this.src.slice(t.s))
  }
  name(): string {
    const t = this.peek()
    if (t === undefined || (t.k !== "word" && t.k !== "ident" && t.k !== "str")) this.fail()
    this.i++
    return t.v
  }
  /** `name` or `db.name` */
  tableRef(): TableRef {
    const a = this.name()
    if (this.peek()?.k === ".") { this.i++; return { database: a, table: this.name() } }
    return { database: undefined, table: a }
  }
  str(): string {
    const t = this.peek()
    if (t === undefined || t.k !== "str") this.fail()
    this.i++
    return t.v
  }
  end(): void { if (!this.done()) this.fail() }
  rest(): string { const t = this.peek(); return t === undefined ? "" : this.src.slice(t.s) }
}

const NOOPS = new Set(["ANALYZE", "OPTIMIZE", "REPAIR", "FLUSH", "DO", "UNLOCK"])

/** Account statements: users and passwords come from the config file, and privileges are not enforced. */
const usersInConfig = "(users and passwords are set in the [[mysql.users]] section of the config file)"

/** The statement, or undefined when the first keyword is not one of ours. */
export const preRoute = (toks: ReadonlyArray<Token>, src: string, deps: PreRouterDeps): Statement | undefined => {
  const c = new Cur(toks, src)
  const first = toks[0]
  if (first === undefined || first.k !== "word") return undefined
  switch (first.u) {
    case "SET":
      if (c.is("PASSWORD", 1) || c.is("ROLE", 1) || c.is("DEFAULT", 1) && c.is("ROLE", 2)) throw new Unsupported(`SET ${c.peek(1)!.u} ${usersInConfig}`)
      c.i = 1
      return { kind: "set", assignments: parseSet(c, deps) }
    case "SHOW": c.i = 1; return { kind: "show", show: parseShow(c, deps) }
    case "DESCRIBE": case "DESC": case "EXPLAIN": {
      c.i = 1
      const nx = c.peek()
      if (nx !== undefined && nx.k === "word" && ["FORMAT", "ANALYZE", "EXTENDED", "PARTITIONS"].includes(nx.u)) {
        throw new Unsupported(`EXPLAIN ${nx.u}`)
      }
      if (nx !== undefined && nx.k === "word" && ["SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"].includes(nx.u)) {
        const inner = deps.statementOf(c.rest())
        if (inner.kind !== "select" && inner.kind !== "insert" && inner.kind !== "replace" && inner.kind !== "update" && inner.kind !== "delete") {
          throw new Unsupported(`EXPLAIN of ${inner.kind}`)
        }
        return { kind: "explain", statement: inner }
      }
      const table = c.tableRef()
      const like = c.done() ? undefined : c.peek()?.k === "str" ? c.str() : c.name()
      c.end()
      return { kind: "show", show: { what: "columns", table, full: false, like } }
    }
    case "LOAD":
      c.i = 1
      if (c.is("XML")) throw new Unsupported("LOAD XML")
      if (c.kw("EXTENSION")) { const name = c.peek()?.k === "str" ? c.str() : c.name(); c.end(); return { kind: "load_extension", name } }
      return { kind: "load_data", load: parseLoadData(c) }
    case "USE": { c.i = 1; const database = c.name(); c.end(); return { kind: "use", database } }
    case "BEGIN": { c.i = 1; c.kw("WORK"); c.end(); return { kind: "begin", readOnly: false } }
    case "START": {
      c.i = 1
      c.expect("TRANSACTION")
      let readOnly = false
      while (!c.done()) {
        if (c.kw("READ", "ONLY")) readOnly = true
        else if (c.kw("READ", "WRITE")) readOnly = false
        else if (!c.kw("WITH", "CONSISTENT", "SNAPSHOT")) c.fail()
        if (!c.done() && c.peek()?.k === ",") c.i++
      }
      return { kind: "begin", readOnly }
    }
    case "COMMIT": c.i = 1; c.kw("WORK"); chainRelease(c); return { kind: "commit" }
    case "ROLLBACK": {
      c.i = 1
      c.kw("WORK")
      if (c.kw("TO")) { c.kw("SAVEPOINT"); const name = c.name(); c.end(); return { kind: "rollback_to", name } }
      chainRelease(c)
      return { kind: "rollback" }
    }
    case "SAVEPOINT": { c.i = 1; const name = c.name(); c.end(); return { kind: "savepoint", name } }
    case "RELEASE": { c.i = 1; c.expect("SAVEPOINT"); const name = c.name(); c.end(); return { kind: "release", name } }
    // Every configured user may do everything, so a GRANT asks for what already holds.
    case "GRANT": return { kind: "noop", what: "GRANT" }
    case "REVOKE": throw new Unsupported("REVOKE (privileges are not enforced: every configured user has all of them)")
    case "XA": throw new Unsupported("XA transactions")
    case "RENAME": case "ALTER":
      if (c.is("USER", 1)) throw new Unsupported(`${first.u} USER ${usersInConfig}`)
      return undefined
    case "CREATE": case "DROP": {
      if (c.is("USER", 1) || c.is("ROLE", 1)) throw new Unsupported(`${first.u} ${c.peek(1)!.u} ${usersInConfig}`)
      if (first.u === "DROP" && c.is("PREPARE", 1)) {
        c.i = 2
        const name = c.name()
        c.end()
        return { kind: "deallocate_sql", name: name.toLowerCase() }
      }
      if (!c.is("DATABASE", 1) && !c.is("SCHEMA", 1)) return undefined
      c.i = 2
      if (first.u === "CREATE") {
        const ifNotExists = c.kw("IF", "NOT", "EXISTS")
        const name = c.name()
        return { kind: "create_database", name, ifNotExists }
      }
      const ifExists = c.kw("IF", "EXISTS")
      const name = c.name()
      c.end()
      return { kind: "drop_database", name, ifExists }
    }
    case "PREPARE": {
      c.i = 1
      const name = c.name()
      c.expect("FROM")
      const t = c.peek()
      if (t?.k === "var" && t.u === "@") {
        c.i++
        c.end()
        return { kind: "prepare_sql", name: name.toLowerCase(), text: undefined, fromVariable: t.v.toLowerCase() }
      }
      const text = c.str()
      c.end()
      return { kind: "prepare_sql", name: name.toLowerCase(), text, fromVariable: undefined }
    }
    case "EXECUTE": {
      c.i = 1
      const name = c.name()
      const using: Array<string> = []
      if (c.kw("USING")) {
        for (;;) {
          const t = c.peek()
          if (t === undefined || t.k !== "var" || t.u !== "@") return c.fail()
          c.i++
          using.push(t.v.toLowerCase())
          if (c.peek()?.k !== ",") break
          c.i++
        }
      }
      c.end()
      return { kind: "execute_sql", name: name.toLowerCase(), using }
    }
    case "DEALLOCATE": {
      c.i = 1
      c.expect("PREPARE")
      const name = c.name()
      c.end()
      return { kind: "deallocate_sql", name: name.toLowerCase() }
    }
    case "LOCK":
      if (c.is("TABLES", 1) || c.is("TABLE", 1)) return { kind: "noop", what: "LOCK TABLES" }
      return undefined
    default:
      if (NOOPS.has(first.u)) {
        if (first.u === "UNLOCK" && !(c.is("TABLES", 1) || c.is("TABLE", 1))) return undefined
        return { kind: "noop", what: first.u === "UNLOCK" ? "UNLOCK TABLES" : first.u }
      }
      return undefined
  }
}

const chainRelease = (c: Cur): void => {
  if (c.kw("AND")) { c.kw("NO"); c.expect("CHAIN") }
  if (c.kw("NO")) c.expect("RELEASE")
  else c.kw("RELEASE")
  c.end()
}

const ISOLATION = ["READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]

const parseSet = (c: Cur, deps: PreRouterDeps): Array<SetAssignment> => {
  if (c.kw("NAMES")) {
    if (c.kw("DEFAULT")) { c.end(); return [{ kind: "names", charset: "utf8mb4", collation: undefined }] }
    const charset = c.name()
    const collation = c.kw("COLLATE") ? c.name() : undefined
    c.end()
    return [{ kind: "names", charset, collation }]
  }
  if (c.kw("CHARACTER", "SET") || c.kw("CHARSET")) {
    const charset = c.kw("DEFAULT") ? "utf8mb4" : c.name()
    c.end()
    return [{ kind: "names", charset, collation: undefined }]
  }
  const scopeAt = c.i
  c.kw("GLOBAL") || c.kw("SESSION") || c.kw("LOCAL")
  if (c.kw("TRANSACTION")) {
    let isolation: string | undefined
    let readOnly: boolean | undefined
    for (;;) {
      if (c.kw("ISOLATION", "LEVEL")) {
        const words: Array<string> = []
        while (!c.done() && c.peek()?.k === "word") words.push(c.name().toUpperCase())
        isolation = words.join(" ")
        if (!ISOLATION.includes(isolation)) c.fail()
      } else if (c.kw("READ", "ONLY")) readOnly = true
      else if (c.kw("READ", "WRITE")) readOnly = false
      else c.fail()
      if (c.done()) break
      if (c.peek()?.k !== ",") c.fail()
      c.i++
    }
    return [{ kind: "transaction", isolation, readOnly }]
  }
  c.i = scopeAt
  const out: Array<SetAssignment> = []
  for (;;) {
    let scope: "session" | "global" = "session"
    if (c.kw("GLOBAL") || c.kw("PERSIST") || c.kw("PERSIST_ONLY")) scope = "global"
    else if (c.kw("SESSION") || c.kw("LOCAL")) scope = "session"
    const t = c.peek()
    if (t === undefined) c.fail()
    let user: string | undefined
    let name: string
    if (t.k === "var" && t.u === "@") { user = t.v.toLowerCase(); c.i++; name = user }
    else if (t.k === "var") {
      c.i++
      const parts = t.v.split(".")
      const head = parts[0]!.toLowerCase()
      if (parts.length > 1 && (head === "global" || head === "session" || head === "local")) {
        scope = head === "global" ? "global" : "session"
        name = parts.slice(1).join(".").toLowerCase()
      } else name = t.v.toLowerCase()
    } else {
      name = c.name().toLowerCase()
      while (c.peek()?.k === ".") { c.i++; name += "." + c.name().toLowerCase() }
    }
    const op = c.peek()
    if (op === undefined || op.k !== "op" || (op.v !== "=" && op.v !== ":=")) c.fail()
    c.i++
    // the value runs to the next top-level comma
    const start = c.i
    let depth = 0
    while (!c.done()) {
      const x = c.peek()!
      if (x.k === "(") depth++
      else if (x.k === ")") depth--
      else if (x.k === "," && depth === 0) break
      c.i++
    }
    if (c.i === start) c.fail()
    const vt = c.toks.slice(start, c.i)
    const text = c.src.slice(vt[0]!.s, vt[vt.length - 1]!.e)
    const single = vt.length === 1 ? vt[0]! : undefined
    let before = 0
    for (let j = 0; j < start; j++) if (c.toks[j]!.k === "param") before++
    if (user !== undefined) {
      out.push({ kind: "uservar", name: user, value: deps.selectOf(text, before) })
    } else if (single !== undefined && single.k === "word" && single.u === "DEFAULT") {
      out.push({ kind: "sysvar", scope, name, value: { sql: "SELECT NULL", args: [] }, isDefault: true })
    } else if (single !== undefined && single.k === "word" && single.u !== "NULL" && single.u !== "TRUE" && single.u !== "FALSE") {
      // a bare word (ON, OFF, SYSTEM, TRADITIONAL, …) is the string itself
      out.push({ kind: "sysvar", scope, name, value: { sql: "SELECT ?", args: [{ _tag: "Value", value: single.v }] } })
    } else {
      out.push({ kind: "sysvar", scope, name, value: deps.selectOf(text, before) })
    }
    if (c.done()) break
    c.i++ // the comma
  }
  return out
}

const likeOpt = (c: Cur): string | undefined => (c.kw("LIKE") ? c.str() : undefined)

/** `WHERE cond` up to the end: SQLite text over the SHOW result's column names. */
const whereOpt = (c: Cur, deps: PreRouterDeps): string | undefined => {
  if (!c.kw("WHERE")) return undefined
  const where = deps.whereOf(c.rest())
  c.i = c.toks.length
  return where
}

const parseShow = (c: Cur, deps: PreRouterDeps): ShowStatement => {
  const full = c.kw("FULL")
  const scope: "session" | "global" = c.kw("GLOBAL") ? "global" : (c.kw("SESSION") || c.kw("LOCAL"), "session")
  const fromDb = (): string | undefined => (c.kw("FROM") || c.kw("IN") ? c.name() : undefined)
  let r: ShowStatement
  if (c.kw("DATABASES") || c.kw("SCHEMAS")) r = { what: "databases", like: likeOpt(c) }
  else if (c.kw("TABLES")) {
    const database = fromDb()
    const like = likeOpt(c)
    r = { what: "tables", database, full, like, where: like === undefined ? whereOpt(c, deps) : undefined }
  } else if (c.kw("COLUMNS") || c.kw("FIELDS")) {
    if (!c.kw("FROM")) c.expect("IN")
    let table = c.tableRef()
    const db = fromDb()
    if (db !== undefined) table = { database: db, table: table.table }
    const like = likeOpt(c)
    r = { what: "columns", table, full, like, where: like === undefined ? whereOpt(c, deps) : undefined }
  } else if (c.kw("CREATE", "TABLE")) r = { what: "create_table", table: c.tableRef() }
  else if (c.kw("CREATE", "VIEW")) r = { what: "create_table", table: c.tableRef(), view: true }
  else if (c.kw("CREATE", "DATABASE") || c.kw("CREATE", "SCHEMA")) { c.kw("IF", "NOT", "EXISTS"); r = { what: "create_database", name: c.name() } }
  else if (c.kw("INDEX") || c.kw("INDEXES") || c.kw("KEYS")) {
    if (!c.kw("FROM")) c.expect("IN")
    let table = c.tableRef()
    const db = fromDb()
    if (db !== undefined) table = { database: db, table: table.table }
    r = { what: "index", table, where: whereOpt(c, deps) }
  } else if (c.kw("VARIABLES")) {
    const like = likeOpt(c)
    const where = like === undefined && c.kw("WHERE") ? deps.whereOf(c.rest()) : undefined
    if (where !== undefined) c.i = c.toks.length
    r = { what: "variables", scope, like, where }
  } else if (c.kw("STATUS")) r = { what: "status", scope, like: likeOpt(c) }
  else if (c.kw("WARNINGS")) { skipLimit(c); r = { what: "warnings" } }
  else if (c.kw("ERRORS")) { skipLimit(c); r = { what: "errors" } }
  else if (c.kw("ENGINES") || c.kw("STORAGE", "ENGINES")) r = { what: "engines" }
  else if (c.kw("COLLATION")) r = { what: "collation", like: likeOpt(c) }
  else if (c.kw("CHARACTER", "SET") || c.kw("CHARSET")) r = { what: "charset", like: likeOpt(c) }
  else if (c.kw("TABLE", "STATUS")) {
    const database = fromDb()
    const like = likeOpt(c)
    r = { what: "table_status", database, like, where: like === undefined ? whereOpt(c, deps) : undefined }
  }
  else if (c.kw("PROCESSLIST")) r = { what: "processlist" }
  else if (c.kw("TRIGGERS") || c.kw("EVENTS") || c.kw("OPEN", "TABLES")) {
    const kind = c.toks[c.i - 1]!.u === "TABLES" ? "OPEN TABLES" : c.toks[c.i - 1]!.u
    fromDb()
    const like = likeOpt(c)
    r = { what: "empty", kind, where: like === undefined ? whereOpt(c, deps) : undefined }
  } else if (c.kw("FUNCTION", "STATUS") || c.kw("PROCEDURE", "STATUS")) {
    const kind = `${c.toks[c.i - 2]!.u} STATUS`
    const like = likeOpt(c)
    r = { what: "empty", kind, where: like === undefined ? whereOpt(c, deps) : undefined }
  } else if (c.kw("MASTER", "STATUS") || c.kw("BINARY", "LOG", "STATUS") || c.kw("SLAVE", "STATUS") || c.kw("REPLICA", "STATUS")) {
    r = { what: "empty", kind: c.toks[c.i - 2]!.u === "SLAVE" || c.toks[c.i - 2]!.u === "REPLICA" ? "REPLICA STATUS" : "MASTER STATUS" }
  } else if (c.kw("PLUGINS")) r = { what: "plugins" }
  else if (c.kw("PRIVILEGES")) r = { what: "empty", kind: "PRIVILEGES" }
  else if (c.kw("GRANTS")) { if (c.kw("FOR")) c.i = c.toks.length; r = { what: "grants" } }
  else c.fail()
  c.end()
  return r
}

const skipLimit = (c: Cur): void => {
  if (!c.kw("LIMIT")) return
  while (!c.done() && (c.peek()?.k === "num" || c.peek()?.k === ",")) c.i++
}
