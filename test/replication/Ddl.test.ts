import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { idempotent, isAlreadyApplied } from "../../src/replication/Ddl.ts"

const replay = (db: Database.Database, sql: string) => {
  try {
    db.exec(idempotent(sql))
  } catch (e) {
    if (!isAlreadyApplied(sql, e)) throw e
  }
}

describe("replayed schema statements", () => {
  it("apply twice with the same result", () => {
    const db = new Database(":memory:")
    const statements = [
      `CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "v" TEXT)`,
      `CREATE UNIQUE INDEX "t__v" ON "t" ("v")`,
      `ALTER TABLE "t" ADD COLUMN "w" INTEGER`,
      `CREATE VIEW "tv" AS SELECT id FROM t`,
      `DROP VIEW "tv"`,
      `DROP INDEX "t__v"`,
      `ALTER TABLE "t" DROP COLUMN "w"`,
      `ALTER TABLE "t" RENAME TO "u"`,
      `DROP TABLE "u"`
    ]
    for (const sql of statements) {
      replay(db, sql)
      replay(db, sql)
    }
    expect(db.prepare("SELECT name FROM sqlite_schema").all()).toEqual([])
  })

  it("still fails on a real error", () => {
    const db = new Database(":memory:")
    expect(() => replay(db, `CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "id" TEXT)`)).toThrow(/duplicate column/)
    expect(() => replay(db, `INSERT INTO "nope" VALUES (1)`)).toThrow(/no such table/)
    expect(idempotent("CREATE TABLE IF NOT EXISTS x (a)")).toBe("CREATE TABLE IF NOT EXISTS x (a)")
  })
})
