import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { checksumDatabase } from "../../src/admin/Checksums.ts"

const open = (statements: ReadonlyArray<string>) => {
  const db = new Database(":memory:")
  db.defaultSafeIntegers(true)
  for (const sql of statements) db.exec(sql)
  return db
}

const schema = [
  "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, photo BLOB)",
  "CREATE TABLE pairs (a TEXT, b INTEGER, v TEXT, PRIMARY KEY (b, a))",
  "CREATE TABLE nokey (x TEXT, y INTEGER)",
  "CREATE TABLE __marmot_row_version (tbl TEXT, pk BLOB, stamp INTEGER)"
]

describe("per-table checksums", () => {
  it("the same rows written in another order give the same digests; internal tables are left out", () => {
    const a = open([
      ...schema,
      "INSERT INTO items VALUES (1, 'tea', 2.5, x'00ff'), (2, 'milk', NULL, NULL), (3, 'é', 1e300, x'')",
      "INSERT INTO pairs VALUES ('x', 2, 'p'), ('y', 1, 'q'), ('a', 2, 'r')",
      "INSERT INTO nokey VALUES ('m', 1), ('n', 2), ('m', 0)",
      "INSERT INTO __marmot_row_version VALUES ('items', x'01', 1)"
    ])
    const b = open([
      ...schema,
      "INSERT INTO pairs VALUES ('a', 2, 'r'), ('y', 1, 'q'), ('x', 2, 'p')",
      "INSERT INTO items VALUES (3, 'é', 1e300, x''), (1, 'tea', 2.5, x'00ff'), (2, 'milk', NULL, NULL)",
      "INSERT INTO nokey VALUES ('m', 0), ('n', 2), ('m', 1)",
      "INSERT INTO __marmot_row_version VALUES ('items', x'02', 7)"
    ])
    const sa = checksumDatabase(a)
    expect(Object.keys(sa)).toEqual(["items", "nokey", "pairs"])
    expect(sa["items"]!.rows).toBe(3)
    expect(sa["items"]!.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(checksumDatabase(b)).toEqual(sa)
  })

  it("any difference shows: a value, its storage class, NULL vs empty, a missing row", () => {
    const base = () => open([...schema, "INSERT INTO items VALUES (1, 'tea', 2.5, x'00'), (2, '', NULL, NULL)"])
    const reference = checksumDatabase(base())["items"]!
    const variants = [
      "UPDATE items SET name = 'Tea' WHERE id = 1",
      "UPDATE items SET price = 2.50000001 WHERE id = 1",
      "UPDATE items SET name = NULL WHERE id = 2", // NULL vs ''
      "UPDATE items SET name = CAST(1 AS INTEGER) WHERE id = 2", // 1 vs '1'
      "UPDATE items SET photo = x'0000' WHERE id = 1",
      "DELETE FROM items WHERE id = 2"
    ]
    for (const sql of variants) {
      const db = base()
      db.exec(sql)
      expect(checksumDatabase(db)["items"]!.sha256, sql).not.toBe(reference.sha256)
    }
    const text = base()
    text.exec("UPDATE items SET name = '1' WHERE id = 2")
    const integer = base()
    integer.exec("UPDATE items SET name = 1 WHERE id = 2")
    // TEXT affinity stores both as '1': equal, as the rows are
    expect(checksumDatabase(text)).toEqual(checksumDatabase(integer))
    const real = base()
    real.exec("UPDATE items SET price = 2 WHERE id = 1")
    const realInt = base()
    realInt.exec("UPDATE items SET price = 2.0 WHERE id = 1")
    expect(checksumDatabase(real)).toEqual(checksumDatabase(realInt))
  })
})
