/**
 * The MySQL function library every SQLite connection registers, so that translated MySQL
 * queries get MySQL semantics. See DESIGN.md beside this file.
 */
import type Database from "better-sqlite3"
import { registerAggregates } from "./Aggregates.ts"
import { nowText, registerDateTimeFunctions, resetStatementClock } from "./DateTime.ts"
import { registerJsonFunctions } from "./Json.ts"
import { registerNumberFunctions } from "./Numbers.ts"
import { registerRegexpFunctions } from "./Regexp.ts"
import { registerStringFunctions } from "./Strings.ts"

export const registerFunctions = (db: Database.Database): void => {
  registerDateTimeFunctions(db)
  registerStringFunctions(db)
  registerNumberFunctions(db)
  registerRegexpFunctions(db)
  registerJsonFunctions(db)
  registerAggregates(db)
}

/** A JavaScript Date as MySQL DATETIME text in the process (session) time zone. */
export const formatDateTime = (d: Date): string => {
  const pad = (n: number): string => String(n).padStart(2, "0")
  return `${String(d.getFullYear()).padStart(4, "0")}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes()
  )}:${pad(d.getSeconds())}`
}

export { nowText, resetStatementClock }
