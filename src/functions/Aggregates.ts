/**
 * MySQL aggregates SQLite lacks: BIT_AND/BIT_OR/BIT_XOR (unsigned 64-bit) and the standard
 * deviation / variance family. NULLs are skipped; an empty group gives NULL (BIT_* give their
 * identity: all ones for BIT_AND, 0 otherwise).
 */
import type Database from "better-sqlite3"
import { intResult, type SqlValue, toDouble, toInteger, UINT64_MAX, UINT64_MOD } from "./Values.ts"

const toUnsigned = (v: Exclude<SqlValue, null>): bigint => {
  const n = toInteger(v)
  return n < 0n ? n + UINT64_MOD : n
}

const bitAggregate = (
  db: Database.Database,
  name: string,
  start: bigint,
  step: (acc: bigint, v: bigint) => bigint
): void => {
  db.aggregate(name, {
    start: () => start,
    step: (acc: bigint, v: SqlValue) => (v === null ? acc : step(acc, toUnsigned(v))),
    result: (acc: bigint) => intResult(acc),
    deterministic: true,
    safeIntegers: true
  })
}

interface Moments {
  n: number
  mean: number
  m2: number
}

const statistic = (db: Database.Database, names: ReadonlyArray<string>, result: (m: Moments) => number | null): void => {
  for (const name of names) {
    db.aggregate(name, {
      start: (): Moments => ({ n: 0, mean: 0, m2: 0 }),
      step: ((m: Moments, v: SqlValue): Moments => {
        if (v === null) return m
        const x = toDouble(v)
        // Welford's recurrence, as MariaDB computes it.
        const n = m.n + 1
        const delta = x - m.mean
        const mean = m.mean + delta / n
        return { n, mean, m2: m.m2 + delta * (x - mean) }
      }) as (m: Moments, ...v: Array<unknown>) => Moments,
      result: (m: Moments) => {
        const r = m.n === 0 ? null : result(m)
        if (r !== null && !Number.isFinite(r)) throw new Error(`DOUBLE value is out of range in '${name}'`)
        return r
      },
      deterministic: true,
      safeIntegers: true
    })
  }
}

export const registerAggregates = (db: Database.Database): void => {
  bitAggregate(db, "bit_and", UINT64_MAX, (a, v) => a & v)
  bitAggregate(db, "bit_or", 0n, (a, v) => a | v)
  bitAggregate(db, "bit_xor", 0n, (a, v) => a ^ v)
  statistic(db, ["std", "stddev", "stddev_pop"], (m) => Math.sqrt(m.m2 / m.n))
  statistic(db, ["stddev_samp"], (m) => (m.n < 2 ? null : Math.sqrt(m.m2 / (m.n - 1))))
  statistic(db, ["variance", "var_pop"], (m) => m.m2 / m.n)
  statistic(db, ["var_samp"], (m) => (m.n < 2 ? null : m.m2 / (m.n - 1)))
}
