import { Data } from "effect"

/** An error the client receives as a MySQL ERR packet. */
export class MysqlError extends Data.TaggedError("MysqlError")<{
  readonly code: number
  readonly sqlState: string
  readonly message: string
}> {}

const err = (code: number, sqlState: string, message: string) => new MysqlError({ code, sqlState, message })

/** The MySQL errors this server raises, by name, with MySQL's codes, SQLSTATEs and wording. */
export const Errors = {
  unknownDatabase: (db: string) => err(1049, "42000", `Unknown database '${db}'`),
  databaseExists: (db: string) => err(1007, "HY000", `Can't create database '${db}'; database exists`),
  dropMissingDatabase: (db: string) => err(1008, "HY000", `Can't drop database '${db}'; database doesn't exist`),
  wrongDatabaseName: (db: string) => err(1102, "42000", `Incorrect database name '${db}'`),
  noDatabaseSelected: () => err(1046, "3D000", "No database selected"),
  noSuchTable: (db: string, table: string) => err(1146, "42S02", `Table '${db}.${table}' doesn't exist`),
  tableExists: (table: string) => err(1050, "42S01", `Table '${table}' already exists`),
  unknownColumn: (column: string, where = "field list") => err(1054, "42S22", `Unknown column '${column}' in '${where}'`),
  duplicateEntry: (value: string, key: string) => err(1062, "23000", `Duplicate entry '${value}' for key '${key}'`),
  columnCannotBeNull: (column: string) => err(1048, "23000", `Column '${column}' cannot be null`),
  foreignKey: (detail: string) =>
    err(1452, "23000", `Cannot add or update a child row: a foreign key constraint fails (${detail})`),
  checkConstraint: (detail: string) => err(3819, "HY000", `Check constraint '${detail}' is violated.`),
  lockWaitTimeout: () => err(1205, "HY000", "Lock wait timeout exceeded; try restarting transaction"),
  deadlock: () => err(1213, "40001", "Deadlock found when trying to get lock; try restarting transaction"),
  accessDenied: (user: string, host: string, usingPassword: boolean) =>
    err(1045, "28000", `Access denied for user '${user}'@'${host}' (using password: ${usingPassword ? "YES" : "NO"})`),
  secureTransportRequired: () =>
    err(3159, "HY000", "Connections using insecure transport are prohibited while --require_secure_transport=ON."),
  /** Any write on a read-only replica ([replica] enabled). */
  readOnlyReplica: () =>
    err(
      1290,
      "HY000",
      "The MySQL server is running with the --read-only option so it cannot execute this statement (this node is a read-only replica of a marmot cluster: send writes to a cluster node)"
    ),
  secureFilePriv: () =>
    err(1290, "HY000", "The MySQL server is running with the --secure-file-priv option so it cannot execute this statement"),
  localInfileDisabled: () =>
    err(3948, "42000", "Loading local data is disabled; this must be enabled on both the client and server sides"),
  localInfileTooLarge: (max: number) =>
    err(1153, "08S01", `Got a packet bigger than 'max_local_infile_bytes' bytes: LOAD DATA LOCAL INFILE accepts files up to ${max} bytes`),
  tooManyConnections: () => err(1040, "08004", "Too many connections"),
  unknownCommand: () => err(1047, "08S01", "Unknown command"),
  malformedPacket: () => err(1835, "HY000", "Malformed communication packet."),
  packetsOutOfOrder: () => err(1156, "08S01", "Got packets out of order"),
  packetTooLarge: () => err(1153, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes"),
  unknownStatementHandler: (id: number | string, where: string) =>
    err(1243, "HY000", `Unknown prepared statement handler (${id}) given to ${where}`),
  wrongArguments: (where: string) => err(1210, "HY000", `Incorrect arguments to ${where}`),
  unknownSystemVariable: (name: string) => err(1193, "HY000", `Unknown system variable '${name}'`),
  wrongValueForVariable: (name: string, value: string) =>
    err(1231, "42000", `Variable '${name}' can't be set to the value of '${value}'`),
  savepointDoesNotExist: (name: string) => err(1305, "42000", `SAVEPOINT ${name} does not exist`),
  readOnlyTransaction: () => err(1792, "25006", "Cannot execute statement in a READ ONLY transaction."),
  notSupported: (what: string) => err(1235, "42000", `This version of MySQL doesn't yet support '${what}'`),
  syntax: (near: string) =>
    err(
      1064,
      "42000",
      `You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '${near}' at line 1`
    ),
  general: (message: string) => err(1105, "HY000", message)
} as const

/**
 * Maps a better-sqlite3 error to the MySQL error a client expects. `db` is the database the
 * statement ran in, used to qualify table names as MySQL does.
 */
export const fromSqlite = (e: unknown, db: string): MysqlError => {
  if (e instanceof MysqlError) return e
  const message = e instanceof Error ? e.message : String(e)
  const code = (e as { code?: unknown }).code
  let m: RegExpMatchArray | null
  if ((m = message.match(/^no such table: (?:(\w+)\.)?(.+)$/)) !== null) {
    const schema = m[1] === undefined || m[1] === "main" ? db : m[1]
    return Errors.noSuchTable(schema, m[2] ?? "")
  }
  if ((m = message.match(/^no such column: (.+)$/)) !== null) return Errors.unknownColumn(m[1] ?? "")
  if ((m = message.match(/^table (?:"?\w+"?\.)?"?([^"\s]+)"? already exists$/)) !== null) return Errors.tableExists(m[1] ?? "")
  if ((m = message.match(/^(?:UNIQUE|PRIMARY KEY) constraint failed: (.+)$/)) !== null) {
    return Errors.duplicateEntry("", keyName(m[1] ?? ""))
  }
  if ((m = message.match(/^NOT NULL constraint failed: (?:\w+\.)?(.+)$/)) !== null) return Errors.columnCannotBeNull(m[1] ?? "")
  if (message.startsWith("FOREIGN KEY constraint failed")) return Errors.foreignKey(message)
  if ((m = message.match(/^CHECK constraint failed: (.+)$/)) !== null) return Errors.checkConstraint(m[1] ?? "")
  if ((m = message.match(/^near "(.*)": syntax error$/)) !== null) return Errors.syntax(m[1] ?? "")
  if (message.endsWith("syntax error") || message.startsWith("incomplete input")) return Errors.syntax(message)
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" || code === "SQLITE_BUSY_SNAPSHOT") return Errors.deadlock()
  if ((m = message.match(/^no such index: (.+)$/)) !== null) {
    return new MysqlError({ code: 1091, sqlState: "42000", message: `Can't DROP '${m[1] ?? ""}'; check that column/key exists` })
  }
  if ((m = message.match(/^duplicate column name: (.+)$/)) !== null) {
    return new MysqlError({ code: 1060, sqlState: "42S21", message: `Duplicate column name '${m[1] ?? ""}'` })
  }
  if ((m = message.match(/^no such function: (.+)$/)) !== null) {
    return new MysqlError({ code: 1305, sqlState: "42000", message: `FUNCTION ${db}.${m[1] ?? ""} does not exist` })
  }
  if ((m = message.match(/^(?:table|view) (.+) may not be (?:modified|dropped)/)) !== null) return Errors.general(message)
  return Errors.general(message)
}

/** "t.a, t.b" (SQLite's constraint columns) → a MySQL-ish key name: PRIMARY for the rowid, else the columns. */
const keyName = (columns: string): string => {
  const cols = columns.split(",").map((c) => c.trim())
  const first = cols[0] ?? ""
  const dot = first.indexOf(".")
  const table = dot >= 0 ? first.slice(0, dot) : ""
  const names = cols.map((c) => (c.includes(".") ? c.slice(c.indexOf(".") + 1) : c))
  return table === "" ? names.join("_") : `${table}.${names.join("_")}`
}
