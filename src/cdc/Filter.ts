/**
 * Which databases and tables a sink publishes: `filter_databases` / `filter_tables` glob patterns
 * (`*` any run of characters, `?` one character, `[abc]`, `[a-z]`, `[!abc]` one of / none of),
 * matched against the whole name, case-sensitively. A table pattern with a dot is matched against
 * `db.table`, one without against the table name alone. An event passes when its database
 * matches one database pattern and its table matches one table pattern.
 */
const escape = (c: string): string => /[\\^$.*+?()[\]{}|/]/.test(c) ? "\\" + c : c

export const globToRegExp = (glob: string): RegExp => {
  let re = ""
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === "*") re += ".*"
    else if (c === "?") re += "."
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2)
      if (end < 0) {
        re += "\\["
        continue
      }
      let body = glob.slice(i + 1, end)
      const negate = body.startsWith("!")
      if (negate) body = body.slice(1)
      re += "[" + (negate ? "^" : "") + body.replace(/[\\\]^]/g, (m) => "\\" + m) + "]"
      i = end
    } else re += escape(c)
  }
  return new RegExp("^" + re + "$", "s")
}

export interface TableFilter {
  readonly database: (db: string) => boolean
  readonly table: (db: string, table: string) => boolean
}

export const makeFilter = (databases: ReadonlyArray<string>, tables: ReadonlyArray<string>): TableFilter => {
  const dbRes = databases.map(globToRegExp)
  const qualified = tables.filter((t) => t.includes(".")).map(globToRegExp)
  const bare = tables.filter((t) => !t.includes(".")).map(globToRegExp)
  const database = (db: string) => dbRes.some((r) => r.test(db))
  return {
    database,
    table: (db, table) =>
      database(db) && (bare.some((r) => r.test(table)) || qualified.some((r) => r.test(`${db}.${table}`)))
  }
}
