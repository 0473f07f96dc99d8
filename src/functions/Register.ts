/**
 * Registration of scalar functions on a better-sqlite3 connection.
 */
import type Database from "better-sqlite3"
import type { SqlValue } from "./Values.ts"

export type Result = SqlValue | undefined
export type Impl = (...args: Array<SqlValue>) => Result

export interface FunctionSpec {
  /** Argument counts accepted; omitted means any number (varargs). */
  readonly arity?: number | ReadonlyArray<number>
  /** Pure functions are deterministic (SQLite may factor them out); clocks and random ones are not. */
  readonly deterministic?: boolean
  /** When true the function returns NULL as soon as any argument is NULL (most MySQL functions). */
  readonly nullIfAnyNull?: boolean
}

const withNullCheck = (impl: Impl): Impl => (...args) => {
  for (const a of args) if (a === null) return null
  return impl(...args)
}

/** Registers `impl` under each name, once per arity (or as varargs). */
export const define = (
  db: Database.Database,
  names: string | ReadonlyArray<string>,
  spec: FunctionSpec,
  impl: Impl
): void => {
  const body = spec.nullIfAnyNull === true ? withNullCheck(impl) : impl
  const run = (...args: Array<unknown>): unknown => {
    const r = body(...(args as Array<SqlValue>))
    return r === undefined ? null : r
  }
  const arities = spec.arity === undefined ? [-1] : typeof spec.arity === "number" ? [spec.arity] : spec.arity
  for (const name of typeof names === "string" ? [names] : names) {
    for (const arity of arities) {
      const options = { varargs: arity < 0, deterministic: spec.deterministic ?? true, safeIntegers: true }
      const fn = arity < 0 ? run : Object.defineProperty((...args: Array<unknown>) => run(...args), "length", { value: arity })
      db.function(name, options, fn)
    }
  }
}
