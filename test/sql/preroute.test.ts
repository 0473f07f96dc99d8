import { describe, expect, it } from "vitest"
import { translateRaw } from "../../src/sql/Translator.ts"
import { errorOf, ok } from "./helpers.ts"

const V = (value: unknown) => ({ _tag: "Value", value })

describe("SET", () => {
  it("SET NAMES / CHARACTER SET", () => {
    expect(ok("SET NAMES utf8mb4")).toEqual({ kind: "set", assignments: [{ kind: "names", charset: "utf8mb4", collation: undefined }] })
    expect(ok("SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_520_ci'")).toEqual({ kind: "set", assignments: [{ kind: "names", charset: "utf8mb4", collation: "utf8mb4_unicode_520_ci" }] })
    expect(ok("SET CHARACTER SET utf8")).toEqual({ kind: "set", assignments: [{ kind: "names", charset: "utf8", collation: undefined }] })
    expect(ok("SET CHARSET latin1")).toEqual({ kind: "set", assignments: [{ kind: "names", charset: "latin1", collation: undefined }] })
  })
  it("system variables in every spelling", () => {
    expect(ok("SET autocommit=0")).toEqual({ kind: "set", assignments: [{ kind: "sysvar", scope: "session", name: "autocommit", value: { sql: `SELECT ? AS "0"`, args: [V(0n)] } }] })
    const st = ok("SET @@session.autocommit = 1, @@GLOBAL.max_connections = 10, GLOBAL x = ON, LOCAL y = DEFAULT, SESSION sql_mode='ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION'")
    if (st.kind !== "set") throw new Error()
    expect(st.assignments.map((a) => a.kind === "sysvar" && [a.scope, a.name, a.value.args, a.isDefault ?? false])).toEqual([
      ["session", "autocommit", [V(1n)], false], ["global", "max_connections", [V(10n)], false], ["global", "x", [V("ON")], false],
      ["session", "y", [], true], ["session", "sql_mode", [V("ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION")], false]
    ])
  })
  it("expression values", () => {
    const st = ok("SET sql_mode=(SELECT REPLACE(@@sql_mode,'ONLY_FULL_GROUP_BY',''))")
    if (st.kind !== "set") throw new Error()
    const a = st.assignments[0]!
    expect(a.kind === "sysvar" && a.value.sql).toBe(`SELECT (SELECT replace(?, ?, ?)) AS "(SELECT REPLACE(@@sql_mode,'ONLY_FULL_GROUP_BY',''))"`)
    expect(a.kind === "sysvar" && a.value.args).toEqual([{ _tag: "SysVar", name: "sql_mode", scope: "default" }, V("ONLY_FULL_GROUP_BY"), V("")])
    const st2 = ok("set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')")
    expect(st2.kind === "set" && st2.assignments.map((x) => x.kind === "sysvar" && x.name)).toEqual(["autocommit", "sql_mode"])
    expect(ok("SET tmp_table_size=2*1024*1024*1024").kind).toBe("set")
  })
  it("user variables", () => {
    const st = ok("SET @X = 5, @y := 'a'")
    expect(st.kind === "set" && st.assignments.map((a) => a.kind === "uservar" && [a.name, a.value.args])).toEqual([["x", [V(5n)]], ["y", [V("a")]]])
    const p = ok("SET @a = ?, @b = ?")
    expect(p.kind === "set" && p.assignments.map((a) => a.kind === "uservar" && a.value.args)).toEqual([[{ _tag: "Placeholder", index: 0 }], [{ _tag: "Placeholder", index: 1 }]])
  })
  it("SET TRANSACTION", () => {
    expect(ok("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")).toEqual({ kind: "set", assignments: [{ kind: "transaction", isolation: "READ COMMITTED", readOnly: undefined }] })
    expect(ok("SET TRANSACTION READ ONLY")).toEqual({ kind: "set", assignments: [{ kind: "transaction", isolation: undefined, readOnly: true }] })
  })
  it("marmot_transpilation survives translateRaw", () => {
    expect(translateRaw("SELECT `x` FROM weird")).toEqual({ kind: "raw", sql: "SELECT `x` FROM weird" })
    const st = translateRaw("SET marmot_transpilation = ON")
    expect(st.kind === "set" && st.assignments[0]).toEqual({ kind: "sysvar", scope: "session", name: "marmot_transpilation", value: { sql: "SELECT ?", args: [V("ON")] } })
    expect(ok("SET marmot_transpilation = OFF").kind).toBe("set")
  })
})

describe("SHOW / DESCRIBE", () => {
  const show = (sql: string) => { const s = ok(sql); if (s.kind !== "show") throw new Error(s.kind); return s.show }
  it("all variants", () => {
    expect(show("SHOW DATABASES")).toEqual({ what: "databases", like: undefined })
    expect(show("SHOW TABLES LIKE 'wp_%'")).toEqual({ what: "tables", database: undefined, full: false, like: "wp_%" })
    expect(show("SHOW FULL TABLES FROM db1")).toEqual({ what: "tables", database: "db1", full: true, like: undefined })
    expect(show("SHOW FULL TABLES WHERE Table_type = 'VIEW'")).toEqual({ what: "tables", database: undefined, full: true, like: undefined, where: `"Table_type" = 'VIEW'` })
    expect(show("SHOW FULL COLUMNS FROM `wp_options`")).toEqual({ what: "columns", table: { database: undefined, table: "wp_options" }, full: true, like: undefined })
    expect(show("SHOW COLUMNS FROM t FROM db LIKE 'a%'")).toEqual({ what: "columns", table: { database: "db", table: "t" }, full: false, like: "a%" })
    expect(show("SHOW FIELDS IN db.t")).toEqual({ what: "columns", table: { database: "db", table: "t" }, full: false, like: undefined })
    expect(show("DESCRIBE wp_users")).toEqual({ what: "columns", table: { database: undefined, table: "wp_users" }, full: false, like: undefined })
    expect(show("DESC `db`.`t`")).toEqual({ what: "columns", table: { database: "db", table: "t" }, full: false, like: undefined })
    expect(show("EXPLAIN t")).toEqual({ what: "columns", table: { database: undefined, table: "t" }, full: false, like: undefined })
    expect(show("SHOW CREATE TABLE t")).toEqual({ what: "create_table", table: { database: undefined, table: "t" } })
    expect(show("SHOW INDEX FROM t")).toEqual({ what: "index", table: { database: undefined, table: "t" } })
    expect(show("SHOW KEYS FROM t IN db")).toEqual({ what: "index", table: { database: "db", table: "t" } })
    // WHERE on SHOW INDEX / COLUMNS / TABLE STATUS (WordPress's upgrade runs the first)
    expect(show("SHOW INDEX FROM wp_termmeta WHERE Column_name = 'meta_key'")).toEqual({ what: "index", table: { database: undefined, table: "wp_termmeta" }, where: `"Column_name" = 'meta_key'` })
    expect(show("SHOW COLUMNS FROM t WHERE `Key` <> ''")).toEqual({ what: "columns", table: { database: undefined, table: "t" }, full: false, like: undefined, where: `"Key" <> ''` })
    expect(show("SHOW TABLE STATUS FROM db WHERE Name = 't'")).toEqual({ what: "table_status", database: "db", like: undefined, where: `"Name" = 't'` })
    expect(show("SHOW VARIABLES LIKE 'max_allowed_packet'")).toEqual({ what: "variables", scope: "session", like: "max_allowed_packet", where: undefined })
    expect(show("SHOW SESSION VARIABLES WHERE Variable_name = 'x' OR Variable_name LIKE 'y%'")).toEqual({ what: "variables", scope: "session", like: undefined, where: `"Variable_name" = 'x' OR "Variable_name" LIKE 'y%' ESCAPE '\\'` })
    expect(show("SHOW GLOBAL STATUS")).toEqual({ what: "status", scope: "global", like: undefined })
    expect(show("SHOW STATUS LIKE 'Threads%'")).toEqual({ what: "status", scope: "session", like: "Threads%" })
    expect(show("SHOW WARNINGS")).toEqual({ what: "warnings" })
    expect(show("SHOW WARNINGS LIMIT 10")).toEqual({ what: "warnings" })
    expect(show("SHOW ERRORS")).toEqual({ what: "errors" })
    expect(show("SHOW ENGINES")).toEqual({ what: "engines" })
    expect(show("SHOW TRIGGERS FROM db LIKE 'wp%'")).toEqual({ what: "empty", kind: "TRIGGERS", where: undefined })
    expect(show("SHOW OPEN TABLES")).toEqual({ what: "empty", kind: "OPEN TABLES", where: undefined })
    expect(show("SHOW FUNCTION STATUS WHERE Db = 'x'")).toEqual({ what: "empty", kind: "FUNCTION STATUS", where: `"Db" = 'x'` })
    expect(show("SHOW SLAVE STATUS")).toEqual({ what: "empty", kind: "REPLICA STATUS" })
    expect(show("SHOW MASTER STATUS")).toEqual({ what: "empty", kind: "MASTER STATUS" })
    expect(show("SHOW PLUGINS")).toEqual({ what: "plugins" })
    expect(show("SHOW COLLATION LIKE 'utf8%'")).toEqual({ what: "collation", like: "utf8%" })
    expect(show("SHOW CHARACTER SET")).toEqual({ what: "charset", like: undefined })
    expect(show("SHOW CHARSET LIKE 'utf8mb4'")).toEqual({ what: "charset", like: "utf8mb4" })
    expect(show("SHOW CREATE DATABASE db")).toEqual({ what: "create_database", name: "db" })
    expect(show("SHOW TABLE STATUS FROM db LIKE 'wp_%'")).toEqual({ what: "table_status", database: "db", like: "wp_%" })
    expect(show("SHOW FULL PROCESSLIST")).toEqual({ what: "processlist" })
    expect(show("SHOW GRANTS")).toEqual({ what: "grants" })
    expect(show("SHOW GRANTS FOR CURRENT_USER()")).toEqual({ what: "grants" })
  })
  it("unknown SHOW is 1064", () => {
    expect(errorOf("SHOW FROBS").code).toBe(1064)
  })
})

describe("transactions, USE, databases, no-ops", () => {
  it("transaction control", () => {
    expect(ok("BEGIN")).toEqual({ kind: "begin", readOnly: false })
    expect(ok("BEGIN WORK")).toEqual({ kind: "begin", readOnly: false })
    expect(ok("START TRANSACTION")).toEqual({ kind: "begin", readOnly: false })
    expect(ok("START TRANSACTION READ ONLY")).toEqual({ kind: "begin", readOnly: true })
    expect(ok("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE")).toEqual({ kind: "begin", readOnly: false })
    expect(ok("COMMIT")).toEqual({ kind: "commit" })
    expect(ok("COMMIT WORK")).toEqual({ kind: "commit" })
    expect(ok("ROLLBACK")).toEqual({ kind: "rollback" })
    expect(ok("ROLLBACK WORK")).toEqual({ kind: "rollback" })
    expect(ok("SAVEPOINT sp1")).toEqual({ kind: "savepoint", name: "sp1" })
    expect(ok("ROLLBACK TO sp1")).toEqual({ kind: "rollback_to", name: "sp1" })
    expect(ok("ROLLBACK WORK TO SAVEPOINT `sp1`")).toEqual({ kind: "rollback_to", name: "sp1" })
    expect(ok("RELEASE SAVEPOINT sp1")).toEqual({ kind: "release", name: "sp1" })
  })
  it("USE and databases", () => {
    expect(ok("USE `wordpress`")).toEqual({ kind: "use", database: "wordpress" })
    expect(ok("CREATE DATABASE IF NOT EXISTS sbtest DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")).toEqual({ kind: "create_database", name: "sbtest", ifNotExists: true })
    expect(ok("CREATE SCHEMA `mysqlslap`")).toEqual({ kind: "create_database", name: "mysqlslap", ifNotExists: false })
    expect(ok("DROP SCHEMA IF EXISTS `mysqlslap`")).toEqual({ kind: "drop_database", name: "mysqlslap", ifExists: true })
    expect(ok("DROP DATABASE x")).toEqual({ kind: "drop_database", name: "x", ifExists: false })
  })
  it("no-ops", () => {
    expect(ok("ANALYZE TABLE sbtest1").kind).toBe("noop")
    expect(ok("FLUSH TABLES").kind).toBe("noop")
    expect(ok("DO 0").kind).toBe("noop")
    expect(ok("LOCK TABLES t WRITE").kind).toBe("noop")
    expect(ok("UNLOCK TABLES").kind).toBe("noop")
  })
  it("executable comment content is the statement", () => {
    expect(ok("/*!40101 SET NAMES utf8 */")).toEqual({ kind: "set", assignments: [{ kind: "names", charset: "utf8", collation: undefined }] })
    expect(ok("/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */").kind).toBe("set")
  })
  it("a versioned executable comment for a newer server is a plain comment (mariadb-dump's sandbox line)", () => {
    expect(ok("/*M!999999 enable the sandbox mode */ \n/*!40101 SET NAMES utf8 */")).toEqual({ kind: "set", assignments: [{ kind: "names", charset: "utf8", collation: undefined }] })
    expect(ok("/*!99999 bogus */ SET NAMES utf8")).toEqual({ kind: "set", assignments: [{ kind: "names", charset: "utf8", collation: undefined }] })
    expect(ok("/*!80036 SET NAMES utf8 */").kind).toBe("set")
    // only comments: an empty statement that succeeds, as in MySQL (mariadb-dump sends these)
    expect(ok("/*M!100100 SET WAIT_TIMEOUT=DEFAULT */")).toEqual({ kind: "noop", what: "comment" })
    expect(ok("/* nothing */")).toEqual({ kind: "noop", what: "comment" })
  })
})

describe("account and XA statements", () => {
  it("answers GRANT with OK: privileges are not enforced, every configured user has them all", () => {
    expect(ok("GRANT ALL PRIVILEGES ON *.* TO 'app'@'%'")).toEqual({ kind: "noop", what: "GRANT" })
  })

  it("refuses user management and REVOKE with 1235 and says where users live", () => {
    for (const sql of ["CREATE USER 'x'@'%' IDENTIFIED BY 'p'", "DROP USER 'x'@'%'", "ALTER USER 'root'@'%' IDENTIFIED BY 'x'", "RENAME USER a TO b", "SET PASSWORD = 'x'"]) {
      const e = errorOf(sql)
      expect(e.code).toBe(1235)
      expect(e.message).toContain("[[mysql.users]]")
    }
    expect(errorOf("REVOKE ALL ON *.* FROM 'x'@'%'")).toMatchObject({ code: 1235, sqlState: "42000" })
  })

  it("refuses XA with 1235 rather than a parse error", () => {
    expect(errorOf("XA START 'a'")).toMatchObject({ code: 1235, message: expect.stringContaining("XA") })
  })

  it("still routes tables named like the keywords", () => {
    expect(ok("CREATE TABLE user (id INT)").kind).toBe("ddl")
    expect(ok("ALTER TABLE user ADD COLUMN x INT").kind).toBe("ddl")
    expect(ok("RENAME TABLE user TO account").kind).toBe("ddl")
  })
})
