/**
 * INFORMATION_SCHEMA: SCHEMATA, TABLES, COLUMNS and STATISTICS as tables of an in-memory database
 * ATTACHed to the scratch connection as `information_schema`, refilled from every database's SQLite
 * schema before each statement that reads them (metadata queries are rare and small). A statement
 * that names information_schema runs on the scratch connection, so it cannot join user tables.
 */
import type { TableRef } from "../sql/Statement.ts"
import { quoteIdent, type SqliteConnection } from "../storage/SqliteConnection.ts"
import { readTableInfo } from "../storage/TableInfo.ts"
import { mysqlTypeName } from "./ColumnTypes.ts"
import type { EngineContext } from "./Context.ts"
import type { Session } from "./Session.ts"
import { collationName, ENGINE_ROW, foreignKeys, indexRows, tableStatusRow, userTableList } from "./Show.ts"

const NAME = "VARCHAR(64)"
const columnsOf = (names: string): ReadonlyArray<readonly [string, string]> => names.split(" ").map((n) => [n, "TEXT"] as const)
const NUM = "BIGINT UNSIGNED"

const TABLES: Record<string, ReadonlyArray<readonly [string, string]>> = {
  SCHEMATA: [["CATALOG_NAME", NAME], ["SCHEMA_NAME", NAME], ["DEFAULT_CHARACTER_SET_NAME", NAME], ["DEFAULT_COLLATION_NAME", NAME], ["SQL_PATH", "BLOB"], ["DEFAULT_ENCRYPTION", "VARCHAR(3)"]],
  TABLES: [
    ["TABLE_CATALOG", NAME], ["TABLE_SCHEMA", NAME], ["TABLE_NAME", NAME], ["TABLE_TYPE", NAME], ["ENGINE", NAME], ["VERSION", "INT"],
    ["ROW_FORMAT", NAME], ["TABLE_ROWS", NUM], ["AVG_ROW_LENGTH", NUM], ["DATA_LENGTH", NUM], ["MAX_DATA_LENGTH", NUM], ["INDEX_LENGTH", NUM],
    ["DATA_FREE", NUM], ["AUTO_INCREMENT", NUM], ["CREATE_TIME", "DATETIME"], ["UPDATE_TIME", "DATETIME"], ["CHECK_TIME", "DATETIME"],
    ["TABLE_COLLATION", NAME], ["CHECKSUM", NUM], ["CREATE_OPTIONS", "VARCHAR(256)"], ["TABLE_COMMENT", "TEXT"]
  ],
  COLUMNS: [
    ["TABLE_CATALOG", NAME], ["TABLE_SCHEMA", NAME], ["TABLE_NAME", NAME], ["COLUMN_NAME", NAME], ["ORDINAL_POSITION", "INT UNSIGNED"],
    ["COLUMN_DEFAULT", "TEXT"], ["IS_NULLABLE", "VARCHAR(3)"], ["DATA_TYPE", "LONGTEXT"], ["CHARACTER_MAXIMUM_LENGTH", "BIGINT"],
    ["CHARACTER_OCTET_LENGTH", "BIGINT"], ["NUMERIC_PRECISION", NUM], ["NUMERIC_SCALE", NUM], ["DATETIME_PRECISION", "INT UNSIGNED"],
    ["CHARACTER_SET_NAME", NAME], ["COLLATION_NAME", NAME], ["COLUMN_TYPE", "MEDIUMTEXT"], ["COLUMN_KEY", "VARCHAR(3)"], ["EXTRA", "VARCHAR(256)"],
    ["PRIVILEGES", "VARCHAR(154)"], ["COLUMN_COMMENT", "TEXT"], ["GENERATION_EXPRESSION", "LONGTEXT"], ["SRS_ID", "INT UNSIGNED"]
  ],
  STATISTICS: [
    ["TABLE_CATALOG", NAME], ["TABLE_SCHEMA", NAME], ["TABLE_NAME", NAME], ["NON_UNIQUE", "INT"], ["INDEX_SCHEMA", NAME], ["INDEX_NAME", NAME],
    ["SEQ_IN_INDEX", "INT UNSIGNED"], ["COLUMN_NAME", NAME], ["COLLATION", "VARCHAR(1)"], ["CARDINALITY", "BIGINT"], ["SUB_PART", "BIGINT"],
    ["PACKED", "BLOB"], ["NULLABLE", "VARCHAR(3)"], ["INDEX_TYPE", "VARCHAR(11)"], ["COMMENT", "VARCHAR(8)"], ["INDEX_COMMENT", "VARCHAR(2048)"],
    ["IS_VISIBLE", "VARCHAR(3)"], ["EXPRESSION", "LONGTEXT"]
  ],
  VIEWS: [
    ["TABLE_CATALOG", NAME], ["TABLE_SCHEMA", NAME], ["TABLE_NAME", NAME], ["VIEW_DEFINITION", "LONGTEXT"], ["CHECK_OPTION", "VARCHAR(8)"],
    ["IS_UPDATABLE", "VARCHAR(3)"], ["DEFINER", "VARCHAR(288)"], ["SECURITY_TYPE", "VARCHAR(7)"], ["CHARACTER_SET_CLIENT", NAME], ["COLLATION_CONNECTION", NAME]
  ],
  KEY_COLUMN_USAGE: columnsOf(
    "CONSTRAINT_CATALOG CONSTRAINT_SCHEMA CONSTRAINT_NAME TABLE_CATALOG TABLE_SCHEMA TABLE_NAME COLUMN_NAME ORDINAL_POSITION " +
      "POSITION_IN_UNIQUE_CONSTRAINT REFERENCED_TABLE_SCHEMA REFERENCED_TABLE_NAME REFERENCED_COLUMN_NAME"
  ),
  TABLE_CONSTRAINTS: columnsOf("CONSTRAINT_CATALOG CONSTRAINT_SCHEMA CONSTRAINT_NAME TABLE_SCHEMA TABLE_NAME CONSTRAINT_TYPE ENFORCED"),
  REFERENTIAL_CONSTRAINTS: columnsOf(
    "CONSTRAINT_CATALOG CONSTRAINT_SCHEMA CONSTRAINT_NAME UNIQUE_CONSTRAINT_CATALOG UNIQUE_CONSTRAINT_SCHEMA UNIQUE_CONSTRAINT_NAME " +
      "MATCH_OPTION UPDATE_RULE DELETE_RULE TABLE_NAME REFERENCED_TABLE_NAME"
  ),
  PROCESSLIST: columnsOf("ID USER HOST DB COMMAND TIME STATE INFO"),
  // Constant (filled once)
  CHARACTER_SETS: columnsOf("CHARACTER_SET_NAME DEFAULT_COLLATE_NAME DESCRIPTION MAXLEN"),
  COLLATIONS: columnsOf("COLLATION_NAME CHARACTER_SET_NAME ID IS_DEFAULT IS_COMPILED SORTLEN PAD_ATTRIBUTE"),
  ENGINES: columnsOf("ENGINE SUPPORT COMMENT TRANSACTIONS XA SAVEPOINTS"),
  KEYWORDS: [["WORD", "VARCHAR(128)"], ["RESERVED", "INT"]],
  // Always empty (no triggers, routines, events, partitions or tablespaces; CHECK constraints are not
  // listed yet), but dump tools and GUIs query them.
  TRIGGERS: columnsOf(
    "TRIGGER_CATALOG TRIGGER_SCHEMA TRIGGER_NAME EVENT_MANIPULATION EVENT_OBJECT_CATALOG EVENT_OBJECT_SCHEMA EVENT_OBJECT_TABLE ACTION_ORDER " +
      "ACTION_CONDITION ACTION_STATEMENT ACTION_ORIENTATION ACTION_TIMING ACTION_REFERENCE_OLD_TABLE ACTION_REFERENCE_NEW_TABLE " +
      "ACTION_REFERENCE_OLD_ROW ACTION_REFERENCE_NEW_ROW CREATED SQL_MODE DEFINER CHARACTER_SET_CLIENT COLLATION_CONNECTION DATABASE_COLLATION"
  ),
  ROUTINES: columnsOf(
    "SPECIFIC_NAME ROUTINE_CATALOG ROUTINE_SCHEMA ROUTINE_NAME ROUTINE_TYPE DATA_TYPE CHARACTER_MAXIMUM_LENGTH CHARACTER_OCTET_LENGTH " +
      "NUMERIC_PRECISION NUMERIC_SCALE DATETIME_PRECISION CHARACTER_SET_NAME COLLATION_NAME DTD_IDENTIFIER ROUTINE_BODY ROUTINE_DEFINITION " +
      "EXTERNAL_NAME EXTERNAL_LANGUAGE PARAMETER_STYLE IS_DETERMINISTIC SQL_DATA_ACCESS SQL_PATH SECURITY_TYPE CREATED LAST_ALTERED SQL_MODE " +
      "ROUTINE_COMMENT DEFINER CHARACTER_SET_CLIENT COLLATION_CONNECTION DATABASE_COLLATION"
  ),
  EVENTS: columnsOf(
    "EVENT_CATALOG EVENT_SCHEMA EVENT_NAME DEFINER TIME_ZONE EVENT_BODY EVENT_DEFINITION EVENT_TYPE EXECUTE_AT INTERVAL_VALUE INTERVAL_FIELD " +
      "SQL_MODE STARTS ENDS STATUS ON_COMPLETION CREATED LAST_ALTERED LAST_EXECUTED EVENT_COMMENT ORIGINATOR CHARACTER_SET_CLIENT " +
      "COLLATION_CONNECTION DATABASE_COLLATION"
  ),
  PARTITIONS: columnsOf(
    "TABLE_CATALOG TABLE_SCHEMA TABLE_NAME PARTITION_NAME SUBPARTITION_NAME PARTITION_ORDINAL_POSITION SUBPARTITION_ORDINAL_POSITION " +
      "PARTITION_METHOD SUBPARTITION_METHOD PARTITION_EXPRESSION SUBPARTITION_EXPRESSION PARTITION_DESCRIPTION TABLE_ROWS AVG_ROW_LENGTH " +
      "DATA_LENGTH MAX_DATA_LENGTH INDEX_LENGTH DATA_FREE CREATE_TIME UPDATE_TIME CHECK_TIME CHECKSUM PARTITION_COMMENT NODEGROUP TABLESPACE_NAME"
  ),
  PLUGINS: columnsOf(
    "PLUGIN_NAME PLUGIN_VERSION PLUGIN_STATUS PLUGIN_TYPE PLUGIN_TYPE_VERSION PLUGIN_LIBRARY PLUGIN_LIBRARY_VERSION PLUGIN_AUTHOR " +
      "PLUGIN_DESCRIPTION PLUGIN_LICENSE LOAD_OPTION"
  ),
  CHECK_CONSTRAINTS: columnsOf("CONSTRAINT_CATALOG CONSTRAINT_SCHEMA CONSTRAINT_NAME CHECK_CLAUSE"),
  PARAMETERS: columnsOf(
    "SPECIFIC_CATALOG SPECIFIC_SCHEMA SPECIFIC_NAME ORDINAL_POSITION PARAMETER_MODE PARAMETER_NAME DATA_TYPE CHARACTER_MAXIMUM_LENGTH " +
      "CHARACTER_OCTET_LENGTH NUMERIC_PRECISION NUMERIC_SCALE DATETIME_PRECISION CHARACTER_SET_NAME COLLATION_NAME DTD_IDENTIFIER ROUTINE_TYPE"
  ),
  USER_PRIVILEGES: columnsOf("GRANTEE TABLE_CATALOG PRIVILEGE_TYPE IS_GRANTABLE"),
  SCHEMA_PRIVILEGES: columnsOf("GRANTEE TABLE_CATALOG TABLE_SCHEMA PRIVILEGE_TYPE IS_GRANTABLE"),
  TABLE_PRIVILEGES: columnsOf("GRANTEE TABLE_CATALOG TABLE_SCHEMA TABLE_NAME PRIVILEGE_TYPE IS_GRANTABLE"),
  COLUMN_PRIVILEGES: columnsOf("GRANTEE TABLE_CATALOG TABLE_SCHEMA TABLE_NAME COLUMN_NAME PRIVILEGE_TYPE IS_GRANTABLE"),
  FILES: columnsOf(
    "FILE_ID FILE_NAME FILE_TYPE TABLESPACE_NAME TABLE_CATALOG TABLE_SCHEMA TABLE_NAME LOGFILE_GROUP_NAME LOGFILE_GROUP_NUMBER ENGINE " +
      "FULLTEXT_KEYS DELETED_ROWS UPDATE_COUNT FREE_EXTENTS TOTAL_EXTENTS EXTENT_SIZE INITIAL_SIZE MAXIMUM_SIZE AUTOEXTEND_SIZE CREATION_TIME " +
      "LAST_UPDATE_TIME LAST_ACCESS_TIME RECOVER_TIME TRANSACTION_COUNTER VERSION ROW_FORMAT TABLE_ROWS AVG_ROW_LENGTH DATA_LENGTH " +
      "MAX_DATA_LENGTH INDEX_LENGTH DATA_FREE CREATE_TIME UPDATE_TIME CHECK_TIME CHECKSUM STATUS EXTRA"
  )
}

/** MySQL 8.0's reserved words (INFORMATION_SCHEMA.KEYWORDS with RESERVED = 1; Connector/J reads them on connect). */
const RESERVED_WORDS =
  "ACCESSIBLE ADD ALL ALTER ANALYZE AND AS ASC ASENSITIVE BEFORE BETWEEN BIGINT BINARY BLOB BOTH BY CALL CASCADE CASE CHANGE CHAR " +
  "CHARACTER CHECK COLLATE COLUMN CONDITION CONSTRAINT CONTINUE CONVERT CREATE CROSS CUBE CUME_DIST CURRENT_DATE CURRENT_TIME " +
  "CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE DATABASES DAY_HOUR DAY_MICROSECOND DAY_MINUTE DAY_SECOND DEC DECIMAL DECLARE DEFAULT " +
  "DELAYED DELETE DENSE_RANK DESC DESCRIBE DETERMINISTIC DISTINCT DISTINCTROW DIV DOUBLE DROP DUAL EACH ELSE ELSEIF EMPTY ENCLOSED " +
  "ESCAPED EXCEPT EXISTS EXIT EXPLAIN FALSE FETCH FIRST_VALUE FLOAT FLOAT4 FLOAT8 FOR FORCE FOREIGN FROM FULLTEXT FUNCTION GENERATED " +
  "GET GRANT GROUP GROUPING GROUPS HAVING HIGH_PRIORITY HOUR_MICROSECOND HOUR_MINUTE HOUR_SECOND IF IGNORE IN INDEX INFILE INNER INOUT " +
  "INSENSITIVE INSERT INT INT1 INT2 INT3 INT4 INT8 INTEGER INTERSECT INTERVAL INTO IO_AFTER_GTIDS IO_BEFORE_GTIDS IS ITERATE JOIN " +
  "JSON_TABLE KEY KEYS KILL LAG LAST_VALUE LATERAL LEAD LEADING LEAVE LEFT LIKE LIMIT LINEAR LINES LOAD LOCALTIME LOCALTIMESTAMP LOCK " +
  "LONG LONGBLOB LONGTEXT LOOP LOW_PRIORITY MASTER_BIND MASTER_SSL_VERIFY_SERVER_CERT MATCH MAXVALUE MEDIUMBLOB MEDIUMINT MEDIUMTEXT " +
  "MIDDLEINT MINUTE_MICROSECOND MINUTE_SECOND MOD MODIFIES NATURAL NOT NO_WRITE_TO_BINLOG NTH_VALUE NTILE NULL NUMERIC OF ON OPTIMIZE " +
  "OPTIMIZER_COSTS OPTION OPTIONALLY OR ORDER OUT OUTER OUTFILE OVER PARTITION PERCENT_RANK PRECISION PRIMARY PROCEDURE PURGE RANGE " +
  "RANK READ READS READ_WRITE REAL RECURSIVE REFERENCES REGEXP RELEASE RENAME REPEAT REPLACE REQUIRE RESIGNAL RESTRICT RETURN REVOKE " +
  "RIGHT RLIKE ROW ROWS ROW_NUMBER SCHEMA SCHEMAS SECOND_MICROSECOND SELECT SENSITIVE SEPARATOR SET SHOW SIGNAL SMALLINT SPATIAL " +
  "SPECIFIC SQL SQLEXCEPTION SQLSTATE SQLWARNING SQL_BIG_RESULT SQL_CALC_FOUND_ROWS SQL_SMALL_RESULT SSL STARTING STORED " +
  "STRAIGHT_JOIN SYSTEM TABLE TERMINATED THEN TINYBLOB TINYINT TINYTEXT TO TRAILING TRIGGER TRUE UNDO UNION UNIQUE UNLOCK UNSIGNED " +
  "UPDATE USAGE USE USING UTC_DATE UTC_TIME UTC_TIMESTAMP VALUES VARBINARY VARCHAR VARCHARACTER VARYING VIRTUAL WHEN WHERE WHILE " +
  "WINDOW WITH WRITE XOR YEAR_MONTH ZEROFILL"

/** The tables of our information_schema (SHOW TABLES there). */
export const informationSchemaTables = (): Array<string> => Object.keys(TABLES).sort()

export const isInformationSchema = (name: string | undefined): boolean =>
  name !== undefined && name.length === 18 && name.toLowerCase() === "information_schema"

/** The statement reads information_schema (named, or the current database is information_schema). */
export const readsInformationSchema = (tables: ReadonlyArray<TableRef>, current: string | undefined): boolean =>
  tables.some((t) => isInformationSchema(t.database ?? current))

const attached = new WeakSet<SqliteConnection>()

/** The tables refilled from every database's tables. */
const PER_TABLE = ["TABLES", "COLUMNS", "STATISTICS", "VIEWS", "KEY_COLUMN_USAGE", "TABLE_CONSTRAINTS", "REFERENTIAL_CONSTRAINTS"]

const insert = (conn: SqliteConnection, table: string, rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
  if (rows.length === 0) return
  const width = TABLES[table]!.length
  const stmt = conn.db.prepare(`INSERT INTO information_schema.${table} VALUES (?${", ?".repeat(width - 1)})`)
  for (const row of rows) stmt.run(...row)
}

/** TEXT type lengths in characters (MySQL's CHARACTER_MAXIMUM_LENGTH); octets are 4 per character. */
const textLength = (type: string): bigint | null => {
  const m = /^(?:var)?char\((\d+)\)/.exec(type)
  if (m) return BigInt(m[1]!)
  const fixed: Record<string, bigint> = { tinytext: 255n, text: 65535n, mediumtext: 16777215n, longtext: 4294967295n }
  return fixed[type] ?? null
}

const numeric = (type: string): [bigint | null, bigint | null] => {
  const base = type.split(/[ (]/)[0]!
  const ints: Record<string, bigint> = { tinyint: 3n, smallint: 5n, mediumint: 7n, int: 10n, bigint: type.includes("unsigned") ? 20n : 19n }
  if (ints[base] !== undefined) return [ints[base]!, 0n]
  const m = /^decimal\((\d+),(\d+)\)/.exec(type)
  if (m) return [BigInt(m[1]!), BigInt(m[2]!)]
  if (base === "float") return [12n, null]
  if (base === "double") return [22n, null]
  return [null, null]
}

/**
 * Attaches (once) and refills the information_schema tables of the scratch connection that the
 * statement names (`tables`), so a TRIGGERS lookup costs nothing and only TABLES counts rows.
 */
export const refreshInformationSchema = (ctx: EngineContext, refs: ReadonlyArray<TableRef>, session: Session): void => {
  const wanted = new Set(refs.filter((t) => isInformationSchema(t.database ?? session.database)).map((t) => t.table.toUpperCase()))
  const conn = ctx.scratch
  if (!attached.has(conn)) {
    conn.db.exec("ATTACH DATABASE ':memory:' AS information_schema")
    for (const [name, cols] of Object.entries(TABLES)) {
      conn.db.exec(`CREATE TABLE information_schema.${name} (${cols.map(([c, t]) => `${quoteIdent(c)} ${t}`).join(", ")})`)
    }
    insert(conn, "CHARACTER_SETS", [["utf8mb4", "utf8mb4_general_ci", "UTF-8 Unicode", 4n], ["binary", "binary", "Binary pseudo charset", 1n]])
    insert(conn, "COLLATIONS", [
      ["utf8mb4_general_ci", "utf8mb4", 45n, "Yes", "Yes", 1n, "PAD SPACE"],
      ["utf8mb4_bin", "utf8mb4", 46n, "", "Yes", 1n, "PAD SPACE"],
      ["binary", "binary", 63n, "Yes", "Yes", 1n, "NO PAD"]
    ])
    insert(conn, "ENGINES", [ENGINE_ROW])
    insert(conn, "KEYWORDS", RESERVED_WORDS.split(" ").map((w) => [w, 1n]))
    attached.add(conn)
  }
  const keyColumns: Array<Array<unknown>> = []
  const constraints: Array<Array<unknown>> = []
  const references: Array<Array<unknown>> = []
  const schemata: Array<Array<unknown>> = [["def", "information_schema", "utf8mb3", "utf8mb3_general_ci", null, "NO"]]
  const tables: Array<Array<unknown>> = []
  const columns: Array<Array<unknown>> = []
  const statistics: Array<Array<unknown>> = []
  const views: Array<Array<unknown>> = []
  for (const db of ctx.storage.list()) {
    const handle = ctx.storage.get(db)
    if (handle === undefined) continue
    schemata.push(["def", db, "utf8mb4", "utf8mb4_general_ci", null, "NO"])
    if (!PER_TABLE.some((name) => wanted.has(name))) continue
    for (const t of userTableList(handle.reader)) {
      if (wanted.has("TABLES")) {
        const status = tableStatusRow(handle.reader, t)
        tables.push(["def", db, t.name, t.type === "view" ? "VIEW" : "BASE TABLE", ...status.slice(1)])
      }
      const info = readTableInfo(handle.reader, "main", t.name)
      if (info === undefined) continue
      info.columns.forEach((c, i) => {
        const type = mysqlTypeName(c.declared)
        const length = textLength(type)
        const [precision, scale] = numeric(type)
        const collation = collationName(c)
        const key = c.primaryKey ? "PRI" : c.unique ? "UNI" : c.multipleKey ? "MUL" : ""
        const dflt = c.autoIncrement || c.defaultValue === null ? null : c.defaultValue.replace(/^'(.*)'$/s, "$1").replace(/''/g, "'")
        columns.push([
          "def", db, t.name, c.name, BigInt(i + 1), dflt, c.notNull ? "NO" : "YES", type.split(/[ (]/)[0], length, length === null ? null : length * 4n,
          precision, scale, /^(datetime|timestamp|time)/.test(type) ? 0n : null, collation === null ? null : "utf8mb4", collation, type, key,
          c.autoIncrement ? "auto_increment" : "", "select,insert,update,references", "", "", null
        ])
      })
      if (t.type === "view") {
        const sql = handle.reader.db.prepare("SELECT sql FROM main.sqlite_schema WHERE name = ?").pluck().get(t.name) as string | undefined
        views.push(["def", db, t.name, (sql ?? "").replace(/^CREATE\s+VIEW\s+\S+\s+AS\s+/i, ""), "NONE", "NO", "root@%", "DEFINER", "utf8mb4", "utf8mb4_general_ci"])
        continue
      }
      for (const r of indexRows(handle.reader, t.name, info)) {
        statistics.push(["def", db, t.name, r[1], db, r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14]])
        if (r[1] !== 0n) continue
        keyColumns.push(["def", db, r[2], "def", db, t.name, r[4], r[3], null, null, null, null])
        if (r[3] === 1n) constraints.push(["def", db, r[2], db, t.name, r[2] === "PRIMARY" ? "PRIMARY KEY" : "UNIQUE", "YES"])
      }
      for (const fk of foreignKeys(handle.reader, t.name)) {
        constraints.push(["def", db, fk.name, db, t.name, "FOREIGN KEY", "YES"])
        references.push(["def", db, fk.name, "def", db, "PRIMARY", "NONE", fk.onUpdate, fk.onDelete, t.name, fk.refTable])
        fk.columns.forEach((c, i) => keyColumns.push(["def", db, fk.name, "def", db, t.name, c, BigInt(i + 1), BigInt(i + 1), db, fk.refTable, fk.refColumns[i]]))
      }
    }
  }
  const processes = [[BigInt(session.id), session.user, session.host, session.database ?? null, "Query", 0n, "executing", session.lastText ?? null]]
  conn.db.transaction(() => {
    for (const name of ["SCHEMATA", "PROCESSLIST", ...PER_TABLE]) conn.db.exec(`DELETE FROM information_schema.${name}`)
    insert(conn, "PROCESSLIST", processes)
    insert(conn, "KEY_COLUMN_USAGE", keyColumns)
    insert(conn, "TABLE_CONSTRAINTS", constraints)
    insert(conn, "REFERENTIAL_CONSTRAINTS", references)
    insert(conn, "SCHEMATA", schemata)
    insert(conn, "TABLES", tables)
    insert(conn, "COLUMNS", columns)
    insert(conn, "STATISTICS", statistics)
    insert(conn, "VIEWS", views)
  })()
}
