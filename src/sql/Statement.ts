/**
 * The translator's output: a MySQL statement classified and, where it runs on SQLite,
 * rewritten to SQLite text whose every `?` is described by one `Arg`.
 * See src/sql/DESIGN.md.
 */

import type { LoadDataSpec } from "./LoadData.ts"

export type SqlValue = null | number | bigint | string | Buffer

export type Arg =
  /** a literal lifted out of the SQL text */
  | { readonly _tag: "Value"; readonly value: SqlValue }
  /** the client's n-th `?` (0-based), for prepared statements */
  | { readonly _tag: "Placeholder"; readonly index: number }
  /** @@x, @@session.x, @@global.x (name lower-cased) */
  | { readonly _tag: "SysVar"; readonly name: string; readonly scope: "session" | "global" | "default" }
  /** @x (lower-cased) */
  | { readonly _tag: "UserVar"; readonly name: string }
  | { readonly _tag: "SessionFn"; readonly fn: SessionFnName }

export type SessionFnName =
  | "last_insert_id"
  | "database"
  | "found_rows"
  | "connection_id"
  | "user"
  | "current_user"
  | "version"
  | "row_count"

/** SQLite text with `?` for every arg, in order. */
export interface Sqlite {
  readonly sql: string
  readonly args: ReadonlyArray<Arg>
}

/** `database` undefined = the session's current database. */
export interface TableRef {
  readonly database: string | undefined
  readonly table: string
}

export type Statement =
  | {
    readonly kind: "select"
    readonly sqlite: Sqlite
    readonly tables: ReadonlyArray<TableRef>
    /** COUNT(*) over the query without LIMIT/OFFSET, for SQL_CALC_FOUND_ROWS */
    readonly calcFoundRows: Sqlite | undefined
    /** result column names, when known without a schema (undefined when the list has a `*`) */
    readonly columnNames: ReadonlyArray<string> | undefined
    /** FOR UPDATE / FOR SHARE: inside a transaction it reads on the writer, holding it to COMMIT */
    readonly lockingRead?: boolean
  }
  | {
    readonly kind: "insert" | "replace"
    readonly sqlite: Sqlite
    readonly target: TableRef
    readonly tables: ReadonlyArray<TableRef>
    /** explicit column list, or undefined = all columns in table order */
    readonly columns: ReadonlyArray<string> | undefined
    /**
     * For VALUES inserts: per row, per column, the index into sqlite.args of that value when it
     * is a bare literal/placeholder, else -1. Undefined for INSERT … SELECT.
     */
    readonly rows: ReadonlyArray<ReadonlyArray<number>> | undefined
  }
  | {
    readonly kind: "update" | "delete"
    readonly sqlite: Sqlite
    readonly target: TableRef
    readonly tables: ReadonlyArray<TableRef>
    /** set when SQLite cannot run it as one statement: `sqlite` is then the SELECT of the matched rows */
    readonly multi?: MultiTable
  }
  | {
    readonly kind: "ddl"
    readonly op: DdlOp
    /** CREATE TABLE … with KEY/INDEX → the CREATE TABLE plus CREATE INDEX statements */
    readonly statements: ReadonlyArray<DdlStep>
    readonly target: TableRef
    /** every table the statement touches (DROP TABLE a, b; RENAME TABLE a TO b: both names) */
    readonly tables: ReadonlyArray<TableRef>
    /** CREATE TABLE t LIKE other: the table whose schema must be copied (statements hold a column-only fallback) */
    readonly likeTable?: TableRef
  }
  | { readonly kind: "create_database"; readonly name: string; readonly ifNotExists: boolean }
  | { readonly kind: "drop_database"; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: "use"; readonly database: string }
  | { readonly kind: "begin"; readonly readOnly: boolean }
  | { readonly kind: "commit" }
  | { readonly kind: "rollback" }
  | { readonly kind: "savepoint" | "rollback_to" | "release"; readonly name: string }
  | { readonly kind: "set"; readonly assignments: ReadonlyArray<SetAssignment> }
  | { readonly kind: "show"; readonly show: ShowStatement }
  /** only produced by translateRaw (transpilation OFF) */
  | { readonly kind: "raw"; readonly sql: string }
  /** accepted and ignored by design (ANALYZE/OPTIMIZE TABLE, FLUSH, DO, LOCK/UNLOCK TABLES) */
  | { readonly kind: "noop"; readonly what: string }
  /** SQL-level prepared statements: PREPARE name FROM 'text' | @var; EXECUTE name [USING @a, …]; DEALLOCATE PREPARE name */
  | { readonly kind: "prepare_sql"; readonly name: string; readonly text: string | undefined; readonly fromVariable: string | undefined }
  | { readonly kind: "execute_sql"; readonly name: string; readonly using: ReadonlyArray<string> }
  | { readonly kind: "deallocate_sql"; readonly name: string }
  /** LOAD DATA [LOCAL] INFILE (the rows arrive from the client; see src/query/LoadData.ts) */
  | { readonly kind: "load_data"; readonly load: LoadDataSpec }
  /** LOAD EXTENSION name | 'name': a SQLite extension from [extensions] directory */
  | { readonly kind: "load_extension"; readonly name: string }
  /** EXPLAIN <statement>: the plan SQLite would use, in MySQL's EXPLAIN columns */
  | { readonly kind: "explain"; readonly statement: Extract<Statement, { kind: "select" | "insert" | "replace" | "update" | "delete" }> }

/**
 * One step of a DDL statement: SQLite text to run, or (with `change`) a column change SQLite's
 * ALTER TABLE cannot make, which the executor does by rebuilding the table (`src/query/AlterTable.ts`).
 * For a change, `sql` is the new column definition (MODIFY/CHANGE) or the new DEFAULT clause.
 */
export interface DdlStep extends Sqlite {
  readonly change?: ColumnChange
}

export type ColumnChange =
  /** MODIFY [COLUMN] c def / CHANGE [COLUMN] old new def: `sql` is the definition without PRIMARY KEY */
  | {
    readonly kind: "modify"
    readonly table: TableRef
    readonly from: string
    readonly to: string
    /** the definition as a rowid alias (`"id" INTEGER /*mysql:BIGINT*\/ PRIMARY KEY AUTOINCREMENT`) when it says AUTO_INCREMENT */
    readonly autoIncrementSql: string | undefined
    /** the definition says PRIMARY KEY */
    readonly primaryKey: boolean
    readonly position: { readonly first: true } | { readonly after: string } | undefined
  }
  /** ALTER [COLUMN] c SET DEFAULT x (`sql` = `DEFAULT x`) / DROP DEFAULT (`sql` = "") */
  | { readonly kind: "default"; readonly table: TableRef; readonly column: string }

/**
 * A multi-table UPDATE/DELETE that changes several tables, or joins with LEFT/RIGHT JOIN: the
 * statement's `sqlite` SELECTs, per matched row and per target in order, the target's rowid and
 * (UPDATE) the values of its SET assignments; the executor then runs each target's `sql` once per
 * distinct rowid (`?`s: the SET values, then the rowid). See src/query/MultiTable.ts.
 */
export interface MultiTable {
  readonly targets: ReadonlyArray<MultiTarget>
}

export interface MultiTarget {
  readonly table: TableRef
  /** UPDATE t SET a = ?, b = ? WHERE rowid = ? | DELETE FROM t WHERE rowid = ? */
  readonly sql: string
  /** how many SET values follow the rowid in the SELECT's columns */
  readonly values: number
}

export type DdlOp =
  | "create_table"
  | "alter_table"
  | "drop_table"
  | "rename_table"
  | "create_index"
  | "drop_index"
  | "create_view"
  | "drop_view"
  | "create_trigger"
  | "drop_trigger"
  | "truncate"

export type SetAssignment =
  /** SET NAMES x [COLLATE y], SET CHARACTER SET x, SET CHARSET x */
  | { readonly kind: "names"; readonly charset: string; readonly collation: string | undefined }
  /**
   * value: a SELECT of one expression, e.g. {sql:"SELECT ?", args:[Value 1]}.
   * `= DEFAULT` gives {sql:"SELECT NULL"} with isDefault: true.
   * A bare word (`= ON`, `= READ-COMMITTED`-less forms like `= TRADITIONAL`) is the string 'ON'.
   */
  | {
    readonly kind: "sysvar"
    readonly scope: "session" | "global"
    readonly name: string
    readonly value: Sqlite
    readonly isDefault?: boolean
  }
  | { readonly kind: "uservar"; readonly name: string; readonly value: Sqlite }
  /** SET [SESSION|GLOBAL] TRANSACTION ISOLATION LEVEL … / READ ONLY */
  | {
    readonly kind: "transaction"
    readonly isolation: string | undefined
    readonly readOnly: boolean | undefined
  }

export type ShowStatement =
  | { readonly what: "databases"; readonly like: string | undefined }
  | { readonly what: "tables"; readonly database: string | undefined; readonly full: boolean; readonly like: string | undefined; readonly where?: string | undefined }
  /** SHOW [FULL] COLUMNS|FIELDS FROM t [FROM db] [LIKE], DESCRIBE t, DESC t, EXPLAIN t */
  | { readonly what: "columns"; readonly table: TableRef; readonly full: boolean; readonly like: string | undefined; readonly where?: string | undefined }
  /** SHOW CREATE TABLE t (a view answers as SHOW CREATE VIEW does), SHOW CREATE VIEW v (`view`) */
  | { readonly what: "create_table"; readonly table: TableRef; readonly view?: boolean }
  | { readonly what: "index"; readonly table: TableRef; readonly where?: string | undefined }
  /**
   * where: the WHERE condition as SQLite expression text with literals inlined, over the
   * columns "Variable_name" and "Value" (for columns/index/table_status: over their result columns).
   */
  | { readonly what: "variables"; readonly scope: "session" | "global"; readonly like: string | undefined; readonly where: string | undefined }
  | { readonly what: "status"; readonly scope: "session" | "global"; readonly like: string | undefined }
  | { readonly what: "warnings" }
  | { readonly what: "errors" }
  | { readonly what: "engines" }
  | { readonly what: "collation"; readonly like: string | undefined }
  | { readonly what: "charset"; readonly like: string | undefined }
  | { readonly what: "create_database"; readonly name: string }
  | { readonly what: "table_status"; readonly database: string | undefined; readonly like: string | undefined; readonly where?: string | undefined }
  | { readonly what: "processlist" }
  /** SHOW TRIGGERS/EVENTS/OPEN TABLES/FUNCTION STATUS/PROCEDURE STATUS/MASTER STATUS/REPLICA STATUS/PRIVILEGES: always no rows. */
  | { readonly what: "empty"; readonly kind: string; readonly where?: string | undefined }
  | { readonly what: "plugins" }
  | { readonly what: "grants" }
