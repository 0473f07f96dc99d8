/**
 * A read-only replica ([replica] enabled) serves reads only: every statement that would change
 * data, schema or the set of databases is refused with 1290, as MySQL does under --read-only.
 * Locking reads, transactions, SET and SHOW work as usual.
 */
import type { Statement } from "../sql/Statement.ts"
import type { EngineContext } from "./Context.ts"
import { Errors } from "./Errors.ts"

const writeKinds: ReadonlySet<Statement["kind"]> = new Set<Statement["kind"]>([
  "insert",
  "replace",
  "update",
  "delete",
  "ddl",
  "create_database",
  "drop_database",
  "load_data"
])

/** Throws 1290 for a write on a replica. (`raw` statements are checked once SQLite says what they are.) */
export const refuseWrites = (ctx: EngineContext, s: Statement): void => {
  if (ctx.readOnly && writeKinds.has(s.kind)) throw Errors.readOnlyReplica()
}
