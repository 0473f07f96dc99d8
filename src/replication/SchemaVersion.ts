/**
 * A database's schema version: how many schema changes (transactions with DDL) it has applied,
 * kept in its file (`__marmot_schema_version`), so a snapshot carries it. Every node applies the
 * same schema changes once each (applied markers) and one at a time (the DDL lock), so the same
 * schema has the same version everywhere. A worker builds a transaction against the version it
 * read in its SQLite transaction; a participant on another version refuses it at PREPARE:
 * - newer here: the rows were built for the old shape; Conflict("schema") gives 1213, and an
 *   autocommit statement is re-run on the new schema;
 * - older here: this node lacks a schema change the rows need; it refuses (1105), the others may
 *   still make a quorum, and the transaction reaches it later by anti-entropy, after the change.
 */
import type Database from "better-sqlite3"
import { Conflict, type PrepareRequest, Rejected } from "../../proto-schemas/src/Transaction.ts"
import { databaseKey } from "./IntentKey.ts"

/** Read on every PREPARE and captured write: the statement is prepared once per connection. */
const versionStatements = new WeakMap<Database.Database, Database.Statement>()

export const schemaVersionOf = (db: Database.Database): number => {
  try {
    let statement = versionStatements.get(db)
    if (statement === undefined) {
      statement = db.prepare("SELECT version FROM __marmot_schema_version WHERE id = 0").pluck()
      versionStatements.set(db, statement)
    }
    const version = statement.get()
    return version === undefined || version === null ? 0 : Number(version)
  } catch {
    versionStatements.delete(db) // the table may not exist yet, or the schema changed under the statement
    return 0 // a file from before schema versions: none applied through them
  }
}

/** Inside the transaction that applies a schema change. */
export const bumpSchemaVersion = (db: Database.Database): void => {
  db.prepare(
    "INSERT INTO __marmot_schema_version (id, version) VALUES (0, 1) ON CONFLICT (id) DO UPDATE SET version = version + 1"
  ).run()
}

/** The refusal of a transaction built against another schema version than `local`; undefined when it matches or is unchecked. */
export const schemaMismatch = (request: PrepareRequest, local: number): Conflict | Rejected | undefined => {
  const built = request.schemaVersion
  if (built === undefined || request.databaseOp !== undefined || built === local) return undefined
  return built < local
    ? new Conflict({ key: databaseKey(request.database), holder: "", reason: "schema" })
    : new Rejected({
      code: 1105,
      sqlState: "HY000",
      message: `this node has applied ${local} schema change(s) of database '${request.database}', the transaction needs ${built}`
    })
}
