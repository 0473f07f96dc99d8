/** MySQL metadata derived from SQLite tables: type names, column definitions and collations, index names. */
import { describe, expect, it } from "vitest"
import { ColumnFlag, ColumnType } from "../../src/mysql/protocol/Constants.ts"
import { mysqlTypeName, shapeOfDeclared } from "../../src/query/ColumnTypes.ts"
import { collationName, foreignKeys, indexRows, mysqlCreateTable, mysqlIndexName } from "../../src/query/Show.ts"
import { SqliteConnection } from "../../src/storage/SqliteConnection.ts"
import { columnDefinitions, readTableInfo } from "../../src/storage/TableInfo.ts"
import { translate } from "../../src/sql/Translator.ts"

describe("mysqlTypeName", () => {
  it("prints types as MySQL 8 does", () => {
    expect(mysqlTypeName("BIGINT UNSIGNED")).toBe("bigint unsigned")
    expect(mysqlTypeName("INTEGER")).toBe("int")
    expect(mysqlTypeName("INT(11)")).toBe("int")
    expect(mysqlTypeName("TINYINT(1)")).toBe("tinyint(1)")
    expect(mysqlTypeName("DECIMAL UNSIGNED(10,2)")).toBe("decimal(10,2) unsigned")
    expect(mysqlTypeName("DECIMAL")).toBe("decimal(10,0)")
    expect(mysqlTypeName("VARCHAR(191)")).toBe("varchar(191)")
    expect(mysqlTypeName("CHAR")).toBe("char(1)")
    expect(mysqlTypeName("LONGTEXT")).toBe("longtext")
    expect(mysqlTypeName("DATETIME")).toBe("datetime")
    expect(mysqlTypeName("")).toBe("blob")
  })
})

describe("columnDefinitions", () => {
  it("splits a CREATE TABLE at top-level commas, skipping table constraints", () => {
    const defs = columnDefinitions(`CREATE TABLE "t" ("a" DECIMAL(10,2) DEFAULT '1,5', "b ""q""" TEXT COLLATE NOCASE, c INT, PRIMARY KEY ("a", c))`)
    expect([...defs.keys()]).toEqual(["a", 'b "q"', "c"])
    expect(defs.get("a")).toBe(`"a" DECIMAL(10,2) DEFAULT '1,5'`)
  })
})

describe("tables created through the translator", () => {
  const conn = new SqliteConnection(":memory:", { readonly: false })
  const ddl = translate(
    "CREATE TABLE wp_x (id bigint(20) unsigned NOT NULL auto_increment, name varchar(191) NOT NULL default '', " +
      "body longtext NOT NULL, raw varchar(10) COLLATE utf8mb4_bin, n int(11), PRIMARY KEY (id), UNIQUE KEY name (name), KEY n_body (n, body(10)))"
  )
  if (ddl instanceof Error || ddl.kind !== "ddl") throw new Error("translate failed")
  for (const s of ddl.statements) conn.db.exec(s.sql)
  const info = readTableInfo(conn, "main", "wp_x")!

  it("report MySQL types and collations (text columns only)", () => {
    expect(info.columns.map((c) => [c.name, mysqlTypeName(c.declared), collationName(c)])).toEqual([
      ["id", "bigint unsigned", null],
      ["name", "varchar(191)", "utf8mb4_general_ci"],
      ["body", "longtext", "utf8mb4_general_ci"],
      ["raw", "varchar(10)", "utf8mb4_bin"],
      ["n", "int", null]
    ])
  })

  it("list indexes under their MySQL names, PRIMARY first", () => {
    const rows = indexRows(conn, "wp_x", info).map((r) => [r[1], r[2], r[3], r[4], r[9]])
    expect(rows).toEqual([
      [0n, "PRIMARY", 1n, "id", ""],
      [0n, "name", 1n, "name", ""],
      [1n, "n_body", 1n, "n", "YES"],
      [1n, "n_body", 2n, "body", ""]
    ])
  })

  it("print SHOW CREATE TABLE in MySQL's syntax", () => {
    expect(mysqlCreateTable(conn, info)).toBe(
      "CREATE TABLE `wp_x` (\n" +
        "  `id` bigint unsigned NOT NULL AUTO_INCREMENT,\n" +
        "  `name` varchar(191) NOT NULL DEFAULT '',\n" +
        "  `body` longtext NOT NULL,\n" +
        "  `raw` varchar(10) COLLATE utf8mb4_bin DEFAULT NULL,\n" +
        "  `n` int DEFAULT NULL,\n" +
        "  PRIMARY KEY (`id`),\n" +
        "  UNIQUE KEY `name` (`name`),\n" +
        "  KEY `n_body` (`n`,`body`)\n" +
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
    )
  })

  it("keep ENUM/SET types (stored as TEXT) for SHOW COLUMNS, SHOW CREATE TABLE and the wire type", () => {
    const e = translate("CREATE TABLE e (id int, k enum('Point','b''c') NOT NULL DEFAULT 'Point', s set('x','y'))")
    if (e instanceof Error || e.kind !== "ddl") throw new Error("translate failed")
    for (const s of e.statements) conn.db.exec(s.sql)
    const ei = readTableInfo(conn, "main", "e")!
    expect(ei.columns.map((c) => [mysqlTypeName(c.declared), collationName(c)])).toEqual([
      ["int", null],
      ["enum('Point','b''c')", "utf8mb4_general_ci"],
      ["set('x','y')", "utf8mb4_general_ci"]
    ])
    expect(mysqlCreateTable(conn, ei)).toContain("  `k` enum('Point','b''c') NOT NULL DEFAULT 'Point',\n  `s` set('x','y') DEFAULT NULL\n")
    expect(shapeOfDeclared(ei.columns[1]!.declared)).toMatchObject({ type: ColumnType.STRING, length: 20, flags: ColumnFlag.ENUM })
    expect(shapeOfDeclared(ei.columns[2]!.declared)).toMatchObject({ type: ColumnType.STRING, length: 12, flags: ColumnFlag.SET })
  })

  it("name foreign keys by their CONSTRAINT, else <table>_ibfk_<n>", () => {
    conn.db.exec(`CREATE TABLE "par" ("id" INT PRIMARY KEY)`)
    conn.db.exec(
      `CREATE TABLE "kid" ("id" INT PRIMARY KEY, "a" INT REFERENCES "par" ("id"), "b" INT, "c" INT, "note" TEXT DEFAULT 'x REFERENCES y', ` +
        `CONSTRAINT "named_fk" FOREIGN KEY ("b") REFERENCES "par" ("id") ON DELETE CASCADE, FOREIGN KEY ("c") REFERENCES "par" ("id"))`
    )
    expect(foreignKeys(conn, "kid").map((f) => [f.name, f.columns.join(), f.onDelete])).toEqual([
      ["kid_ibfk_1", "a", "NO ACTION"],
      ["named_fk", "b", "CASCADE"],
      ["kid_ibfk_2", "c", "NO ACTION"]
    ])
  })

  it("strip the table prefix, also an old table's after RENAME", () => {
    expect(mysqlIndexName("wp_x", "wp_x__name", "c", "name")).toBe("name")
    expect(mysqlIndexName("wp_y", "wp_x__name", "c", "name")).toBe("name")
    expect(mysqlIndexName("t", "sqlite_autoindex_t_1", "u", "email")).toBe("email")
  })
})

