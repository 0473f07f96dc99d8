/**
 * What DBeaver (MySQL driver = Connector/J 8) sends on connect and while browsing a database and a
 * table, through a real client: every statement must answer without error, with MySQL-shaped
 * results. The texts follow Connector/J's session setup and DatabaseMetaDataInformationSchema
 * (getTables/getColumns/getPrimaryKeys/getIndexInfo/getImportedKeys/getExportedKeys/getProcedures/
 * getFunctions) and DBeaver's MySQL plugin (MySQLDataSource, MySQLCatalog, MySQLTable). Connector/J
 * interpolates parameters on the client by default, as mysql2's query() does here.
 */
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startMarmot, type RunningServer } from "../support/Servers.ts"

let server: RunningServer
let c: Connection
const DB = "dbv"

beforeAll(async () => {
  server = await startMarmot({ args: ["--workers", "1"], config: `[logging]\nlevel = "debug"\n` })
  c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", multipleStatements: true, supportBigNumbers: true })
  await c.query(`CREATE DATABASE ${DB}; USE ${DB};
    CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(50) DEFAULT 'x',
      born DATE, score DECIMAL(8,2), flag TINYINT(1) NOT NULL DEFAULT 0, UNIQUE KEY email (email), KEY name_born (name, born));
    CREATE TABLE orders (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, total DOUBLE, note TEXT,
      created DATETIME DEFAULT CURRENT_TIMESTAMP, status ENUM('new','paid') NOT NULL DEFAULT 'new',
      KEY customer_id (customer_id), CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE);
    CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
    INSERT INTO customers (email, name) VALUES ('a@x', 'ann'), ('b@x', 'bob');`)
}, 120_000)

afterAll(async () => {
  await c?.end()
  await server?.stop()
})

const DRIVER = "/* mysql-connector-j-8.0.33 (Revision: 7d6b0800528b6b25c68b52dc10d6c1c8429c100c) */"

/** Connector/J 8's session setup (what every DBeaver connection sends first). */
const CONNECT: ReadonlyArray<string> = [
  DRIVER + "SELECT  @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, " +
  "@@character_set_connection AS character_set_connection, @@character_set_results AS character_set_results, @@character_set_server AS character_set_server, " +
  "@@collation_server AS collation_server, @@collation_connection AS collation_connection, @@init_connect AS init_connect, " +
  "@@interactive_timeout AS interactive_timeout, @@license AS license, @@lower_case_table_names AS lower_case_table_names, " +
  "@@max_allowed_packet AS max_allowed_packet, @@net_write_timeout AS net_write_timeout, @@performance_schema AS performance_schema, " +
  "@@query_cache_size AS query_cache_size, @@query_cache_type AS query_cache_type, @@sql_mode AS sql_mode, @@system_time_zone AS system_time_zone, " +
  "@@time_zone AS time_zone, @@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout",
  "SHOW WARNINGS",
  "SET NAMES utf8mb4",
  "SET character_set_results = NULL",
  "SET autocommit=1",
  "SELECT @@session.transaction_read_only",
  "SELECT @@session.transaction_isolation",
  // DBeaver's MySQLDataSource.initialize and the JDBC metadata it reads
  "/* ApplicationName=DBeaver 24.3.0 - Main */ SELECT DATABASE()",
  "SHOW ENGINES",
  "SHOW CHARSET",
  "SHOW COLLATION",
  "SELECT * FROM information_schema.SCHEMATA",
  "SHOW VARIABLES LIKE 'lower_case_table_names'",
  "SHOW VARIABLES",
  "SHOW GLOBAL STATUS",
  "SHOW PRIVILEGES",
  "SELECT WORD FROM INFORMATION_SCHEMA.KEYWORDS WHERE RESERVED = 1 ORDER BY WORD",
  "SELECT DEFAULT_COLLATION_NAME FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'information_schema'",
  "SELECT SCHEMA_NAME AS TABLE_CAT FROM INFORMATION_SCHEMA.SCHEMATA",
  `use \`${DB}\``
]

const TYPES = ["DECIMAL", "TINYINT", "BOOLEAN", "SMALLINT", "INT", "FLOAT", "DOUBLE", "NULL", "TIMESTAMP", "BIGINT", "MEDIUMINT", "DATE", "TIME",
  "DATETIME", "YEAR", "VARCHAR", "VARBINARY", "BIT", "JSON", "ENUM", "SET", "TINYBLOB", "TINYTEXT", "MEDIUMBLOB", "MEDIUMTEXT", "LONGBLOB",
  "LONGTEXT", "BLOB", "TEXT", "CHAR", "BINARY", "GEOMETRY", "UNKNOWN"]

/** Connector/J's getColumns (DatabaseMetaDataInformationSchema), with its CASE over every MySQL type. */
const getColumns = (table: string) =>
  "SELECT TABLE_SCHEMA, NULL, TABLE_NAME, COLUMN_NAME, CASE" +
  TYPES.map((t, i) => ` WHEN UPPER(DATA_TYPE) = '${t}' THEN ${t === "TINYINT" ? "IF(LOCATE('ZEROFILL', UPPER(COLUMN_TYPE)) = 0 AND LOCATE('UNSIGNED', UPPER(COLUMN_TYPE)) = 0 AND LOCATE('(1)', COLUMN_TYPE) != 0, -7, -6)" : String(i - 10)}`).join("") +
  " WHEN UPPER(DATA_TYPE) = 'POINT' THEN -2 ELSE 1111 END AS DATA_TYPE," +
  " UPPER(CASE WHEN UPPER(DATA_TYPE) = 'TINYINT' THEN CASE WHEN LOCATE('ZEROFILL', UPPER(COLUMN_TYPE)) = 0 AND LOCATE('UNSIGNED', UPPER(COLUMN_TYPE)) = 0" +
  " AND LOCATE('(1)', COLUMN_TYPE) != 0 THEN 'BIT' WHEN LOCATE('UNSIGNED', UPPER(COLUMN_TYPE)) != 0 AND LOCATE('UNSIGNED', UPPER(DATA_TYPE)) = 0 THEN 'TINYINT UNSIGNED'" +
  " ELSE DATA_TYPE END WHEN LOCATE('UNSIGNED', UPPER(COLUMN_TYPE)) != 0 AND LOCATE('UNSIGNED', UPPER(DATA_TYPE)) = 0 AND LOCATE('SET', UPPER(DATA_TYPE)) <> 1" +
  " AND LOCATE('ENUM', UPPER(DATA_TYPE)) <> 1 THEN CONCAT(DATA_TYPE, ' UNSIGNED') WHEN UPPER(DATA_TYPE) = 'POINT' THEN 'GEOMETRY' ELSE UPPER(DATA_TYPE) END) AS TYPE_NAME," +
  " UPPER(CASE WHEN UPPER(DATA_TYPE) = 'YEAR' THEN 4 WHEN UPPER(DATA_TYPE) = 'DATE' THEN 10 WHEN UPPER(DATA_TYPE) = 'DATETIME' OR UPPER(DATA_TYPE) = 'TIMESTAMP'" +
  " THEN 19 + IF(DATETIME_PRECISION > 0, DATETIME_PRECISION + 1, DATETIME_PRECISION) WHEN UPPER(DATA_TYPE) = 'TIME' THEN 8 + IF(DATETIME_PRECISION > 0, DATETIME_PRECISION + 1, DATETIME_PRECISION)" +
  " WHEN UPPER(DATA_TYPE) = 'TINYINT' AND LOCATE('ZEROFILL', UPPER(COLUMN_TYPE)) = 0 AND LOCATE('UNSIGNED', UPPER(COLUMN_TYPE)) = 0 AND LOCATE('(1)', COLUMN_TYPE) != 0 THEN 1" +
  " WHEN UPPER(DATA_TYPE) = 'MEDIUMINT' AND LOCATE('UNSIGNED', UPPER(COLUMN_TYPE)) != 0 THEN 8 WHEN UPPER(DATA_TYPE) = 'JSON' THEN 1073741824" +
  " WHEN UPPER(DATA_TYPE) = 'GEOMETRY' THEN 65535 WHEN CHARACTER_MAXIMUM_LENGTH IS NULL THEN NUMERIC_PRECISION WHEN CHARACTER_MAXIMUM_LENGTH > 2147483647 THEN 2147483647" +
  " ELSE CHARACTER_MAXIMUM_LENGTH END) AS COLUMN_SIZE, 65535 AS BUFFER_LENGTH," +
  " UPPER(CASE WHEN UPPER(DATA_TYPE) = 'DECIMAL' THEN NUMERIC_SCALE WHEN UPPER(DATA_TYPE) = 'FLOAT' OR UPPER(DATA_TYPE) = 'DOUBLE' THEN IF(NUMERIC_SCALE IS NULL, 0, NUMERIC_SCALE) ELSE NULL END) AS DECIMAL_DIGITS," +
  " 10 AS NUM_PREC_RADIX, CASE WHEN IS_NULLABLE COLLATE utf8mb3_general_ci= 'NO' THEN 0 ELSE CASE WHEN IS_NULLABLE COLLATE utf8mb3_general_ci= 'YES' THEN 1 ELSE 2 END END AS NULLABLE," +
  " COLUMN_COMMENT AS REMARKS, COLUMN_DEFAULT AS COLUMN_DEF, 0 AS SQL_DATA_TYPE, 0 AS SQL_DATETIME_SUB," +
  " CASE WHEN CHARACTER_OCTET_LENGTH > 2147483647 THEN 2147483647 ELSE CHARACTER_OCTET_LENGTH END AS CHAR_OCTET_LENGTH, ORDINAL_POSITION, IS_NULLABLE," +
  " NULL AS SCOPE_CATALOG, NULL AS SCOPE_SCHEMA, NULL AS SCOPE_TABLE, NULL AS SOURCE_DATA_TYPE," +
  " IF (EXTRA COLLATE utf8mb3_general_ci LIKE '%auto_increment%','YES','NO') AS IS_AUTOINCREMENT, IF (EXTRA COLLATE utf8mb3_general_ci LIKE  '%GENERATED%','YES','NO') AS IS_GENERATEDCOLUMN" +
  ` FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME LIKE '${table}' ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`

const RULES = (side: "UPDATE" | "DELETE") =>
  ` CASE WHEN R.${side}_RULE = 'CASCADE' THEN 0 WHEN R.${side}_RULE = 'SET NULL' THEN 2 WHEN R.${side}_RULE = 'SET DEFAULT' THEN 4` +
  ` WHEN R.${side}_RULE = 'RESTRICT' THEN 1 WHEN R.${side}_RULE = 'NO ACTION' THEN 1 ELSE 1 END AS ${side}_RULE,`

const KEYS_HEAD = "SELECT DISTINCT A.REFERENCED_TABLE_SCHEMA AS PKTABLE_CAT, NULL AS PKTABLE_SCHEM, A.REFERENCED_TABLE_NAME AS PKTABLE_NAME," +
  " A.REFERENCED_COLUMN_NAME AS PKCOLUMN_NAME, A.TABLE_SCHEMA AS FKTABLE_CAT, NULL AS FKTABLE_SCHEM, A.TABLE_NAME AS FKTABLE_NAME," +
  " A.COLUMN_NAME AS FKCOLUMN_NAME, A.ORDINAL_POSITION AS KEY_SEQ," + RULES("UPDATE") + RULES("DELETE") + " A.CONSTRAINT_NAME AS FK_NAME,"

/** Browsing the database and its tables (the DBeaver navigator, the table editor's tabs, the data tab). */
const BROWSE: ReadonlyArray<string> = [
  `SHOW FULL TABLES FROM \`${DB}\``,
  `SHOW FULL TABLES FROM \`${DB}\` LIKE 'orders'`,
  `SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='${DB}' ORDER BY ORDINAL_POSITION`,
  `SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='${DB}' AND TABLE_NAME='orders' ORDER BY ORDINAL_POSITION`,
  `SELECT * FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='${DB}' AND TABLE_NAME='customers' ORDER BY INDEX_NAME,SEQ_IN_INDEX`,
  `SELECT kc.CONSTRAINT_NAME,kc.TABLE_NAME,kc.COLUMN_NAME,kc.ORDINAL_POSITION\nFROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE kc WHERE kc.TABLE_SCHEMA='${DB}' AND kc.REFERENCED_TABLE_NAME IS NULL AND kc.TABLE_NAME='customers'\nORDER BY kc.CONSTRAINT_NAME,kc.ORDINAL_POSITION`,
  `SELECT * FROM information_schema.ROUTINES\nWHERE ROUTINE_SCHEMA='${DB}'\nORDER BY ROUTINE_NAME`,
  `SHOW FULL TRIGGERS FROM \`${DB}\``,
  `SELECT * FROM INFORMATION_SCHEMA.TRIGGERS WHERE TRIGGER_SCHEMA='${DB}' ORDER BY TRIGGER_NAME`,
  `SELECT * FROM information_schema.EVENTS WHERE EVENT_SCHEMA='${DB}' ORDER BY EVENT_NAME`,
  `SHOW TABLE STATUS FROM \`${DB}\` LIKE 'orders'`,
  `SHOW CREATE TABLE \`${DB}\`.\`orders\``,
  `SHOW CREATE VIEW \`${DB}\`.\`big_orders\``,
  `SELECT * FROM information_schema.VIEWS WHERE TABLE_SCHEMA='${DB}' AND TABLE_NAME='big_orders'`,
  `SELECT * FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA='${DB}' AND TABLE_NAME='orders' ORDER BY PARTITION_ORDINAL_POSITION,SUBPARTITION_ORDINAL_POSITION`,
  `SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE, tc.TABLE_NAME FROM INFORMATION_SCHEMA.CHECK_CONSTRAINTS cc, INFORMATION_SCHEMA.TABLE_CONSTRAINTS tc WHERE cc.CONSTRAINT_SCHEMA = '${DB}' AND tc.TABLE_NAME='orders' AND tc.CONSTRAINT_TYPE = 'CHECK' AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME ORDER BY cc.CONSTRAINT_NAME`,
  `SHOW INDEX FROM \`orders\` FROM \`${DB}\``,
  `SHOW FULL COLUMNS FROM \`orders\` FROM \`${DB}\``,
  `SHOW GRANTS FOR CURRENT_USER`,
  `SELECT * FROM \`${DB}\`.\`orders\` LIMIT 0, 200`,
  `SELECT COUNT(*) FROM \`${DB}\`.\`customers\``,
  // Connector/J DatabaseMetaData (DBeaver reads foreign keys, procedures and functions through it)
  "SELECT TABLE_SCHEMA AS TABLE_CAT, NULL AS TABLE_SCHEM, TABLE_NAME, CASE WHEN TABLE_TYPE = 'BASE TABLE' THEN CASE WHEN TABLE_SCHEMA = 'mysql' OR TABLE_SCHEMA = 'performance_schema' OR TABLE_SCHEMA = 'sys' THEN 'SYSTEM TABLE' ELSE 'TABLE' END WHEN TABLE_TYPE = 'TEMPORARY' THEN 'LOCAL_TEMPORARY' ELSE TABLE_TYPE END AS TABLE_TYPE, TABLE_COMMENT AS REMARKS, NULL AS TYPE_CAT, NULL AS TYPE_SCHEM, NULL AS TYPE_NAME, NULL AS SELF_REFERENCING_COL_NAME, NULL AS REF_GENERATION FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'dbv' AND TABLE_NAME LIKE '%' HAVING TABLE_TYPE IN ('TABLE','VIEW',null,null,null) ORDER BY TABLE_TYPE, TABLE_SCHEMA, TABLE_NAME",
  getColumns("orders"),
  getColumns("%"),
  `SELECT TABLE_SCHEMA AS TABLE_CAT, NULL AS TABLE_SCHEM, TABLE_NAME, COLUMN_NAME, SEQ_IN_INDEX AS KEY_SEQ, 'PRIMARY' AS PK_NAME FROM INFORMATION_SCHEMA.STATISTICS WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = 'orders' AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, SEQ_IN_INDEX`,
  `SELECT TABLE_SCHEMA AS TABLE_CAT, NULL AS TABLE_SCHEM, TABLE_NAME, NON_UNIQUE, NULL AS INDEX_QUALIFIER, INDEX_NAME, 3 AS TYPE, SEQ_IN_INDEX AS ORDINAL_POSITION, COLUMN_NAME, COLLATION AS ASC_OR_DESC, CARDINALITY, 0 AS PAGES, NULL AS FILTER_CONDITION FROM INFORMATION_SCHEMA.STATISTICS WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = 'customers' ORDER BY NON_UNIQUE, INDEX_NAME, SEQ_IN_INDEX`,
  KEYS_HEAD + " R.UNIQUE_CONSTRAINT_NAME AS PK_NAME, 7 AS DEFERRABILITY FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE A" +
  " JOIN INFORMATION_SCHEMA.TABLE_CONSTRAINTS B USING (CONSTRAINT_SCHEMA, CONSTRAINT_NAME, TABLE_NAME)" +
  " JOIN INFORMATION_SCHEMA.REFERENTIAL_CONSTRAINTS R ON (R.CONSTRAINT_NAME = B.CONSTRAINT_NAME AND R.TABLE_NAME = B.TABLE_NAME AND R.CONSTRAINT_SCHEMA = B.TABLE_SCHEMA)" +
  `WHERE B.CONSTRAINT_TYPE = 'FOREIGN KEY' AND A.TABLE_SCHEMA = '${DB}' AND A.TABLE_NAME = 'orders' AND A.REFERENCED_TABLE_SCHEMA IS NOT NULL ORDER BY A.REFERENCED_TABLE_SCHEMA, A.REFERENCED_TABLE_NAME, A.ORDINAL_POSITION`,
  KEYS_HEAD + " TC.CONSTRAINT_NAME AS PK_NAME, 7 AS DEFERRABILITY FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE A JOIN INFORMATION_SCHEMA.TABLE_CONSTRAINTS B" +
  " USING (TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME)" +
  " JOIN INFORMATION_SCHEMA.REFERENTIAL_CONSTRAINTS R ON (R.CONSTRAINT_NAME = B.CONSTRAINT_NAME AND R.TABLE_NAME = B.TABLE_NAME AND R.CONSTRAINT_SCHEMA = B.TABLE_SCHEMA)" +
  " LEFT JOIN INFORMATION_SCHEMA.TABLE_CONSTRAINTS TC ON (A.REFERENCED_TABLE_SCHEMA = TC.TABLE_SCHEMA AND A.REFERENCED_TABLE_NAME = TC.TABLE_NAME AND TC.CONSTRAINT_TYPE IN ('UNIQUE', 'PRIMARY KEY'))" +
  ` WHERE B.CONSTRAINT_TYPE = 'FOREIGN KEY' AND A.REFERENCED_TABLE_SCHEMA = '${DB}' AND A.REFERENCED_TABLE_NAME = 'customers' ORDER BY FKTABLE_CAT, FKTABLE_SCHEM, FKTABLE_NAME, KEY_SEQ`,
  `SELECT ROUTINE_SCHEMA AS PROCEDURE_CAT, NULL AS PROCEDURE_SCHEM, ROUTINE_NAME AS PROCEDURE_NAME, NULL AS RESERVED_1, NULL AS RESERVED_2, NULL AS RESERVED_3, ROUTINE_COMMENT AS REMARKS, CASE WHEN ROUTINE_TYPE = 'PROCEDURE' THEN 1 WHEN ROUTINE_TYPE = 'FUNCTION' THEN 2 ELSE 0 END AS PROCEDURE_TYPE, ROUTINE_NAME AS SPECIFIC_NAME FROM INFORMATION_SCHEMA.ROUTINES WHERE ROUTINE_SCHEMA = '${DB}' AND ROUTINE_NAME LIKE '%' ORDER BY ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE`,
  `SELECT ROUTINE_SCHEMA AS FUNCTION_CAT, NULL AS FUNCTION_SCHEM, ROUTINE_NAME AS FUNCTION_NAME, ROUTINE_COMMENT AS REMARKS, 1 AS FUNCTION_TYPE, ROUTINE_NAME AS SPECIFIC_NAME FROM INFORMATION_SCHEMA.ROUTINES WHERE ROUTINE_TYPE LIKE 'FUNCTION' AND ROUTINE_SCHEMA = '${DB}' AND ROUTINE_NAME LIKE '%' ORDER BY FUNCTION_CAT, FUNCTION_SCHEM, FUNCTION_NAME, SPECIFIC_NAME`,
  `SELECT SPECIFIC_SCHEMA AS PROCEDURE_CAT, NULL AS PROCEDURE_SCHEM, SPECIFIC_NAME AS PROCEDURE_NAME, IFNULL(PARAMETER_NAME, '') AS COLUMN_NAME, ORDINAL_POSITION, 'YES' AS IS_NULLABLE, SPECIFIC_NAME FROM INFORMATION_SCHEMA.PARAMETERS WHERE SPECIFIC_SCHEMA = '${DB}' AND SPECIFIC_NAME LIKE '%' ORDER BY SPECIFIC_SCHEMA, SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION`,
  `SELECT TABLE_SCHEMA AS TABLE_CAT, NULL AS TABLE_SCHEM, TABLE_NAME, NULL AS GRANTOR, GRANTEE, PRIVILEGE_TYPE AS PRIVILEGE, IS_GRANTABLE FROM INFORMATION_SCHEMA.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = 'orders'`,
  `SELECT TABLE_SCHEMA, NULL, TABLE_NAME, COLUMN_NAME, NULL AS GRANTOR, GRANTEE, PRIVILEGE_TYPE AS PRIVILEGE, IS_GRANTABLE FROM INFORMATION_SCHEMA.COLUMN_PRIVILEGES WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = 'orders' AND COLUMN_NAME LIKE '%' ORDER BY COLUMN_NAME, PRIVILEGE_TYPE`
]

const rowsOf = async (sql: string): Promise<Array<RowDataPacket>> => {
  const [rows] = await c.query<RowDataPacket[]>(sql)
  return Array.isArray(rows) ? rows : []
}

describe("DBeaver (Connector/J) metadata", () => {
  it("answers every statement of the connect sequence and of browsing, without an error", async () => {
    const failures: Array<string> = []
    for (const sql of [...CONNECT, ...BROWSE]) {
      try {
        await c.query(sql)
      } catch (e) {
        failures.push(`${(e as Error).message} -- ${sql.slice(0, 160)}`)
      }
    }
    expect(failures).toEqual([])
    expect(server.output()).not.toMatch(/statement failed/)
  })

  it("gives MySQL-shaped answers", async () => {
    const [session] = await rowsOf(CONNECT[0]!)
    expect(session).toMatchObject({ auto_increment_increment: 1, character_set_server: "utf8mb4", lower_case_table_names: 0, transaction_isolation: "REPEATABLE-READ" })
    const tables = await rowsOf(`SHOW FULL TABLES FROM \`${DB}\``)
    expect(tables.map((r) => Object.values(r))).toEqual([["big_orders", "VIEW"], ["customers", "BASE TABLE"], ["orders", "BASE TABLE"]])
    const schemata = await rowsOf("SELECT * FROM information_schema.SCHEMATA")
    expect(schemata.map((r) => r["SCHEMA_NAME"])).toEqual(expect.arrayContaining(["information_schema", DB]))

    const columns = await rowsOf(getColumns("orders"))
    expect(columns.map((r) => [r["COLUMN_NAME"], r["TYPE_NAME"], r["NULLABLE"], r["IS_AUTOINCREMENT"]])).toEqual([
      ["id", "BIGINT UNSIGNED", 0, "YES"],
      ["customer_id", "INT", 0, "NO"],
      ["total", "DOUBLE", 1, "NO"],
      ["note", "TEXT", 1, "NO"],
      ["created", "DATETIME", 1, "NO"],
      ["status", "ENUM", 0, "NO"]
    ])
    const customerColumns = await rowsOf(getColumns("customers"))
    expect(customerColumns.find((r) => r["COLUMN_NAME"] === "flag")).toMatchObject({ TYPE_NAME: "BIT", DATA_TYPE: -7, COLUMN_SIZE: "1" })
    expect(customerColumns.find((r) => r["COLUMN_NAME"] === "score")).toMatchObject({ TYPE_NAME: "DECIMAL", DECIMAL_DIGITS: "2" })

    const imported = await rowsOf(BROWSE.find((s) => s.includes("R.UNIQUE_CONSTRAINT_NAME AS PK_NAME"))!)
    expect(imported.map((r) => [r["PKTABLE_NAME"], r["PKCOLUMN_NAME"], r["FKTABLE_NAME"], r["FKCOLUMN_NAME"], r["FK_NAME"], r["DELETE_RULE"], r["UPDATE_RULE"]]))
      .toEqual([["customers", "id", "orders", "customer_id", "fk_customer", 0, 1]])
    const exported = await rowsOf(BROWSE.find((s) => s.includes("TC.CONSTRAINT_NAME AS PK_NAME"))!)
    // one row per unique key of the referenced table, as MySQL answers this query
    expect(exported.map((r) => [r["FKTABLE_NAME"], r["FK_NAME"], r["PK_NAME"]]).sort()).toEqual([["orders", "fk_customer", "PRIMARY"], ["orders", "fk_customer", "email"]])

    const index = await rowsOf(BROWSE.find((s) => s.includes("NON_UNIQUE, NULL AS INDEX_QUALIFIER"))!)
    expect(index.map((r) => [r["NON_UNIQUE"], r["INDEX_NAME"], r["ORDINAL_POSITION"], r["COLUMN_NAME"]])).toEqual([
      [0, "PRIMARY", 1, "id"],
      [0, "email", 1, "email"],
      [1, "name_born", 1, "name"],
      [1, "name_born", 2, "born"]
    ])
    const status = await rowsOf(`SHOW TABLE STATUS FROM \`${DB}\` LIKE 'customers'`)
    expect(status[0]).toMatchObject({ Name: "customers", Engine: "InnoDB", Row_format: "Dynamic", Collation: "utf8mb4_general_ci" })
    expect(Number(status[0]!["Rows"])).toBe(2)
    const [create] = await rowsOf(`SHOW CREATE TABLE \`${DB}\`.\`orders\``)
    expect(create!["Create Table"]).toContain("CONSTRAINT `fk_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE")
    await expect(c.query(`SHOW CREATE VIEW \`${DB}\`.\`customers\``)).rejects.toMatchObject({ errno: 1347, message: `'${DB}.customers' is not VIEW` })
    const [view] = await rowsOf(`SHOW CREATE VIEW big_orders`)
    expect(view).toMatchObject({ View: "big_orders", character_set_client: "utf8mb4" })
    const keywords = await rowsOf("SELECT WORD FROM INFORMATION_SCHEMA.KEYWORDS WHERE RESERVED = 1 ORDER BY WORD")
    expect(keywords.map((r) => r["WORD"])).toEqual(expect.arrayContaining(["SELECT", "TABLE", "WHERE"]))
  })
})
