/**
 * ALTER TABLE … MODIFY / CHANGE / ALTER COLUMN through a real client: the table is rebuilt
 * (src/query/AlterTable.ts) and keeps its rows, indexes, AUTO_INCREMENT counter and capture.
 */
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { errorOf } from "../support/Mysql2.ts"
import { startMarmot, type RunningServer } from "../support/Servers.ts"

let server: RunningServer
let c: Connection

beforeAll(async () => {
  server = await startMarmot({ args: ["--workers", "1"] })
  c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", supportBigNumbers: true, multipleStatements: true })
  await c.query("CREATE DATABASE alt")
  await c.query("USE alt")
}, 120_000)

afterAll(async () => {
  await c?.end()
  await server?.stop()
})


const createTable = async (name: string): Promise<string> => {
  const [rows] = await c.query<RowDataPacket[]>(`SHOW CREATE TABLE ${name}`)
  return rows[0]!["Create Table"] as string
}

const describeTable = async (name: string) => {
  const [rows] = await c.query<RowDataPacket[]>(`DESCRIBE ${name}`)
  return rows.map((r) => [r["Field"], r["Type"], r["Null"], r["Key"], r["Default"], r["Extra"]])
}

describe("ALTER TABLE … MODIFY / CHANGE", () => {
  it("MODIFY changes a column's type and NULLability and keeps rows, indexes and AUTO_INCREMENT", async () => {
    await c.query(`CREATE TABLE items (
      id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(20) NOT NULL,
      qty INT,
      note VARCHAR(10) DEFAULT 'x',
      KEY by_name (name),
      UNIQUE KEY by_note (note)
    )`)
    await c.query("INSERT INTO items (name, qty, note) VALUES ('tea', 1, 'a'), ('coffee', 2, 'b'), ('milk', 3, 'c')")
    const [[highest]] = await c.query<RowDataPacket[]>("SELECT max(id) AS id FROM items")
    await c.query("DELETE FROM items WHERE name = 'milk'")
    await c.query("ALTER TABLE items MODIFY COLUMN name VARCHAR(100) NOT NULL DEFAULT ''")
    await c.query("ALTER TABLE items MODIFY qty BIGINT NOT NULL DEFAULT 0")
    const [rows] = await c.query<RowDataPacket[]>("SELECT name, qty, note FROM items ORDER BY id")
    expect(rows.map((r) => [r["name"], Number(r["qty"]), r["note"]])).toEqual([["tea", 1, "a"], ["coffee", 2, "b"]])
    const described = await describeTable("items")
    expect(described[1]).toEqual(["name", "varchar(100)", "NO", "MUL", "", ""])
    expect(described[2]).toEqual(["qty", "bigint", "NO", "", "0", ""])
    expect(described[0]![0]).toBe("id")
    expect(described[0]![3]).toBe("PRI")
    expect(described[0]![5]).toBe("auto_increment")
    const create = await createTable("items")
    expect(create).toContain("`name` varchar(100) NOT NULL DEFAULT ''")
    expect(create).toContain("`qty` bigint NOT NULL DEFAULT '0'")
    expect(create).toContain("KEY `by_name` (`name`)")
    expect(create).toContain("UNIQUE KEY `by_note` (`note`)")
    // the counter survives the rebuild: the deleted row's id is not handed out again
    const [ins] = await c.query<mysql.ResultSetHeader>("INSERT INTO items (name, note) VALUES ('juice', 'd')")
    expect(BigInt(ins.insertId)).toBeGreaterThan(BigInt(highest!["id"]))
    const [[status]] = await c.query<RowDataPacket[]>("SHOW TABLE STATUS LIKE 'items'")
    expect(BigInt(status!["Auto_increment"])).toBeGreaterThan(BigInt(ins.insertId))
    // the unique index still holds
    expect(await errorOf(c.query("INSERT INTO items (name, note) VALUES ('dup', 'a')"))).toMatchObject({ errno: 1062 })
  })

  it("CHANGE renames a column, moves it (FIRST / AFTER) and renames it in its indexes", async () => {
    await c.query("CREATE TABLE people (id INT AUTO_INCREMENT PRIMARY KEY, nm VARCHAR(10), age INT, KEY nm_age (nm, age))")
    await c.query("INSERT INTO people (nm, age) VALUES ('ann', 30), ('bob', 40)")
    await c.query("ALTER TABLE people CHANGE COLUMN nm full_name VARCHAR(50) NOT NULL")
    await c.query("ALTER TABLE people CHANGE age years SMALLINT UNSIGNED NULL AFTER id")
    await c.query("ALTER TABLE people MODIFY full_name VARCHAR(60) NOT NULL FIRST")
    const [rows] = await c.query<RowDataPacket[]>("SELECT * FROM people ORDER BY id")
    expect(rows.map((r) => Object.keys(r))).toEqual([["full_name", "id", "years"], ["full_name", "id", "years"]])
    expect(rows.map((r) => [r["full_name"], Number(r["years"])])).toEqual([["ann", 30], ["bob", 40]])
    const create = await createTable("people")
    expect(create).toContain("`full_name` varchar(60) NOT NULL,\n  `id` ")
    expect(create).toContain("`years` smallint unsigned DEFAULT NULL")
    expect(create).toContain("KEY `nm_age` (`full_name`,`years`)")
    const [idx] = await c.query<RowDataPacket[]>("SHOW INDEX FROM people WHERE Key_name = 'nm_age'")
    expect(idx.map((r) => r["Column_name"])).toEqual(["full_name", "years"])
    expect(await errorOf(c.query("ALTER TABLE people CHANGE nope x INT"))).toMatchObject({ errno: 1054 })
    expect(await errorOf(c.query("ALTER TABLE people CHANGE years id INT"))).toMatchObject({ errno: 1060 })
    expect(await errorOf(c.query("ALTER TABLE people MODIFY years INT AFTER nope"))).toMatchObject({ errno: 1054 })
    expect(await errorOf(c.query("ALTER TABLE nothing MODIFY years INT"))).toMatchObject({ errno: 1146 })
    // a failed change leaves the table as it was
    expect(await createTable("people")).toBe(create)
  })

  it("MODIFY keeps the primary key and the AUTO_INCREMENT column when restated", async () => {
    await c.query("CREATE TABLE logs (id INT NOT NULL AUTO_INCREMENT, msg TEXT, PRIMARY KEY (id))")
    await c.query("INSERT INTO logs (msg) VALUES ('one'), ('two')")
    await c.query("ALTER TABLE logs MODIFY id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT")
    const [ins] = await c.query<mysql.ResultSetHeader>("INSERT INTO logs (msg) VALUES ('three')")
    expect(Number(ins.insertId)).toBeGreaterThan(2)
    const create = await createTable("logs")
    expect(create).toContain("`id` bigint unsigned NOT NULL AUTO_INCREMENT")
    expect(create).toContain("PRIMARY KEY (`id`)")
    // a natural primary key restated without PRIMARY KEY stays the primary key
    await c.query("CREATE TABLE codes (code VARCHAR(5) PRIMARY KEY, label TEXT)")
    await c.query("INSERT INTO codes VALUES ('a', 'A')")
    await c.query("ALTER TABLE codes MODIFY code VARCHAR(10) NOT NULL")
    expect(await createTable("codes")).toContain("PRIMARY KEY (`code`)")
    expect(await errorOf(c.query("INSERT INTO codes VALUES ('a', 'again')"))).toMatchObject({ errno: 1062 })
    expect(await errorOf(c.query("ALTER TABLE codes MODIFY label VARCHAR(5) PRIMARY KEY"))).toMatchObject({ errno: 1068 })
  })

  it("ALTER COLUMN SET/DROP DEFAULT and several specs in one statement", async () => {
    await c.query("CREATE TABLE opts (id INT PRIMARY KEY, a VARCHAR(10) DEFAULT 'x', b INT NOT NULL DEFAULT 1, c INT)")
    await c.query("INSERT INTO opts (id) VALUES (1)")
    await c.query("ALTER TABLE opts ALTER COLUMN a SET DEFAULT 'why', ALTER b DROP DEFAULT, ALTER c SET DEFAULT -5")
    const described = await describeTable("opts")
    expect(described.map((r) => r[4])).toEqual([null, "why", null, "-5"])
    await c.query("INSERT INTO opts (id, b) VALUES (2, 7)")
    const [rows] = await c.query<RowDataPacket[]>("SELECT id, a, b, c FROM opts ORDER BY id")
    expect(rows.map((r) => [r["id"], r["a"], r["b"], r["c"]])).toEqual([[1, "x", 1, null], [2, "why", 7, -5]])
    await c.query("UPDATE opts SET c = 0 WHERE c IS NULL")
    await c.query(
      "ALTER TABLE opts ADD COLUMN d DATETIME NULL, MODIFY c BIGINT NOT NULL DEFAULT 0, CHANGE a alpha VARCHAR(30), ADD INDEX by_alpha (alpha), DROP COLUMN b"
    )
    const create = await createTable("opts")
    expect(create).toContain("`alpha` varchar(30) DEFAULT NULL")
    expect(create).toContain("`c` bigint NOT NULL DEFAULT '0'")
    expect(create).toContain("`d` datetime DEFAULT NULL")
    expect(create).toContain("KEY `by_alpha` (`alpha`)")
    expect(create).not.toContain("`b`")
    const [after] = await c.query<RowDataPacket[]>("SELECT id, alpha, c FROM opts ORDER BY id")
    expect(after.map((r) => [r["id"], r["alpha"], Number(r["c"])])).toEqual([[1, "x", 0], [2, "why", -5]])
  })

  it("a NOT NULL column over NULL values is refused and the table is unchanged", async () => {
    await c.query("CREATE TABLE nn (id INT PRIMARY KEY, v INT)")
    await c.query("INSERT INTO nn VALUES (1, NULL)")
    const before = await createTable("nn")
    expect(await errorOf(c.query("ALTER TABLE nn MODIFY v INT NOT NULL"))).toMatchObject({ errno: 1138, message: "Invalid use of NULL value" })
    expect(await createTable("nn")).toBe(before)
  })

  it("rebuilds a table other tables reference: rows and references survive, foreign keys still hold", async () => {
    await c.query("CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(10), CHECK (length(name) > 0))")
    await c.query("CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent (id))")
    await c.query("CREATE VIEW parent_names AS SELECT id, name FROM parent")
    await c.query("INSERT INTO parent VALUES (1, 'a'), (2, 'b')")
    await c.query("INSERT INTO child VALUES (10, 1), (11, 2), (12, 2)")
    await c.query("ALTER TABLE parent CHANGE name label VARCHAR(20) NOT NULL, MODIFY id BIGINT NOT NULL")
    const [kids] = await c.query<RowDataPacket[]>("SELECT id, parent_id FROM child ORDER BY id")
    expect(kids.map((r) => [r["id"], Number(r["parent_id"])])).toEqual([[10, 1], [11, 2], [12, 2]])
    expect(await createTable("parent")).toContain("`label` varchar(20) NOT NULL")
    expect(await createTable("child")).toContain("FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`)")
    expect(await errorOf(c.query("INSERT INTO child VALUES (13, 99)"))).toMatchObject({ errno: 1452 })
    // the CHECK followed the renamed column
    expect(await errorOf(c.query("INSERT INTO parent VALUES (3, '')"))).toMatchObject({ errno: 3819 })
    // the child side too
    await c.query("ALTER TABLE child MODIFY parent_id BIGINT NOT NULL")
    expect(await errorOf(c.query("INSERT INTO child VALUES (14, 98)"))).toMatchObject({ errno: 1452 })
    // a reference with an ON DELETE action would fire during the rebuild: refused, nothing changed
    await c.query("CREATE TABLE owner (id INT PRIMARY KEY)")
    await c.query("CREATE TABLE pet (id INT PRIMARY KEY, owner_id INT, FOREIGN KEY (owner_id) REFERENCES owner (id) ON DELETE CASCADE)")
    await c.query("INSERT INTO owner VALUES (1)")
    await c.query("INSERT INTO pet VALUES (5, 1)")
    expect(await errorOf(c.query("ALTER TABLE owner MODIFY id BIGINT NOT NULL"))).toMatchObject({ errno: 1235 })
    const [pets] = await c.query<RowDataPacket[]>("SELECT id FROM pet")
    expect(pets).toEqual([{ id: 5 }])
  })

  it("keeps change capture: writes after the rebuild are counted as before", async () => {
    await c.query("CREATE TABLE cap (id INT PRIMARY KEY, v INT)")
    await c.query("INSERT INTO cap VALUES (1, 1), (2, 2)")
    await c.query("ALTER TABLE cap MODIFY v BIGINT")
    const [upd] = await c.query<mysql.ResultSetHeader>("UPDATE cap SET v = 1")
    // mysql2 sets CLIENT_FOUND_ROWS: affectedRows counts matched rows, the info line both
    expect(upd.affectedRows).toBe(2)
    expect(upd.info).toContain("Rows matched: 2  Changed: 1")
  })
})
