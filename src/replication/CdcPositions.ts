/**
 * How far this node's CDC sinks have published each database's commit log, for GC (LogGc.ts): the
 * publisher's saved cursors (src/cdc/CursorStore.ts), read from its file beside the running
 * publisher. Only the sinks `[publisher]` runs count, each for the databases its filter covers; a
 * covered database a sink has no cursor for yet counts as 0 (it publishes that log from the start).
 */
import Database from "better-sqlite3"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { cursorsPath } from "../cdc/CursorStore.ts"
import { makeFilter } from "../cdc/Filter.ts"
import type { NodeSettings } from "../config/NodeConfig.ts"

/** The lowest position the sinks covering `database` published; undefined when no sink covers it. */
export type CdcPositions = (database: string) => bigint | undefined

export const makeCdcPositions = (config: NodeSettings) =>
  Effect.gen(function*() {
    const sinks = (config.publisher.enabled ? config.publisher.sinks : [])
      .map((s) => ({ name: s.name, covers: makeFilter(s.filterDatabases, s.filterTables).database }))
    const path = cursorsPath(config.dataDir)
    let db: Database.Database | undefined
    yield* Effect.addFinalizer(() => Effect.sync(() => db?.close()))
    const positions: CdcPositions = (database) => {
      const covering = sinks.filter((s) => s.covers(database))
      if (covering.length === 0) return undefined
      if (db === undefined) {
        if (!existsSync(path)) return 0n
        db = new Database(path, { readonly: true, fileMustExist: true })
        db.defaultSafeIntegers(true)
      }
      const seqOf = db.prepare("SELECT seq FROM cdc_cursor WHERE sink = ? AND db = ?").pluck()
      return covering.reduce((low, s) => {
        const seq = (seqOf.get(s.name, database) as bigint | undefined) ?? 0n
        return seq < low ? seq : low
      }, 1n << 62n)
    }
    return positions
  })
