import { Context, Data, Effect, Layer } from "effect"
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { NodeConfig } from "../config/NodeConfig.ts"
import { ProcessBus } from "../process/ProcessBus.ts"
import { ensureReplicationTables } from "../replication/Applier.ts"
import { ensureCaptureTriggers } from "./Capture.ts"
import { loadInto, resolveExtension } from "./Extensions.ts"
import { SqliteConnection } from "./SqliteConnection.ts"
import { type TableInfo, TableInfoCache } from "./TableInfo.ts"
import { WriteLock } from "./WriteLock.ts"

export class UnknownDatabase extends Data.TaggedError("UnknownDatabase")<{ readonly name: string }> {}
export class DatabaseExists extends Data.TaggedError("DatabaseExists")<{ readonly name: string }> {}
export class InvalidDatabaseName extends Data.TaggedError("InvalidDatabaseName")<{ readonly name: string }> {}
export class StorageError extends Data.TaggedError("StorageError")<{ readonly message: string }> {}

/**
 * One logical database: one SQLite file, a shared reader connection for statements outside a
 * write transaction, and one writer connection guarded by the write lock.
 */
export class DatabaseHandle {
  readonly reader: SqliteConnection
  readonly writer: SqliteConnection
  readonly lock: WriteLock
  /** Bumped by every DDL, so caches of table shapes know to reload. */
  schemaVersion = 0
  private readonly tables = new TableInfoCache()

  constructor(readonly name: string, readonly path: string, extensions: ReadonlyArray<string> = []) {
    this.writer = new SqliteConnection(path, { readonly: false, extensions })
    this.reader = new SqliteConnection(path, { readonly: true, extensions })
    this.lock = new WriteLock(name)
    this.ensureCapture()
  }

  /** Brings the capture triggers up to date when no other process holds the file's write lock. */
  private ensureCapture(): void {
    try {
      this.writer.db.transaction(() => {
        ensureReplicationTables(this.writer.db)
        ensureCaptureTriggers(this.writer.db)
      }).immediate()
    } catch (e) {
      if (!String((e as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY")) throw e
    }
  }

  /** Columns, keys and the AUTO_INCREMENT column of a table of this database. */
  tableInfo(table: string): TableInfo | undefined {
    return this.tables.get(this.reader, this.schemaVersion, table)
  }

  schemaChanged(): void {
    this.schemaVersion++
    this.reader.clearStatements()
    this.writer.clearStatements()
  }

  close(): void {
    this.reader.close()
    this.writer.close()
  }
}

export interface StorageService {
  readonly dataDir: string
  /** Names of the user databases, sorted. */
  readonly list: () => ReadonlyArray<string>
  readonly get: (name: string) => DatabaseHandle | undefined
  readonly pathOf: (name: string) => string
  /** Throws DatabaseExists or InvalidDatabaseName. */
  readonly create: (name: string) => DatabaseHandle
  /** Throws UnknownDatabase; the caller must hold the database's write lock. */
  readonly drop: (name: string) => void
  /** After DDL: drops cached statements and table shapes here and in the node's other processes. */
  readonly schemaChanged: (handle: DatabaseHandle) => void
  /** Paths of the extensions every SQLite connection loads when it opens (always_loaded, then LOAD EXTENSION). */
  readonly extensions: () => ReadonlyArray<string>
  /**
   * LOAD EXTENSION name: resolved inside [extensions] directory (throws MysqlError 1124/1126), loaded
   * on every open connection of this node's processes and on every one opened later. Returns the path.
   */
  readonly loadExtension: (name: string) => string
  /** Called with each extension's path once it is loaded here (the query engine loads it on its scratch connection). */
  readonly onExtensionLoaded: (listener: (name: string, path: string) => void) => void
}

const fileSuffix = ".db"
const systemDatabase = "__marmot_system"

/** MySQL allows more, but a database name must be a safe file name here. */
export const validDatabaseName = (name: string): boolean =>
  name.length > 0 && name.length <= 64 && /^[A-Za-z0-9_$-]+$/.test(name) && !name.startsWith("__marmot")

const make = Effect.gen(function*() {
  const config = yield* NodeConfig
  const bus = yield* ProcessBus
  const dataDir = config.dataDir
  const dbDir = join(dataDir, "databases")
  yield* Effect.try({
    try: () => mkdirSync(dbDir, { recursive: true }),
    catch: (e) => new StorageError({ message: `cannot create data directory ${dbDir}: ${String(e)}` })
  })
  const handles = new Map<string, DatabaseHandle>()
  const pathOf = (name: string) => join(dbDir, name + fileSuffix)
  const extensionDir = config.extensions.directory
  const extensions: Array<string> = yield* Effect.try({
    try: () => config.extensions.alwaysLoaded.map((name) => resolveExtension(extensionDir, name)),
    catch: (e) => new StorageError({ message: `config: extensions.always_loaded: ${e instanceof Error ? e.message : String(e)}` })
  })
  const extensionListeners: Array<(name: string, path: string) => void> = []
  const addExtension = (name: string, path: string) => {
    if (extensions.includes(path)) return
    for (const h of handles.values()) {
      loadInto(h.writer.db, name, path)
      loadInto(h.reader.db, name, path)
    }
    extensions.push(path)
    for (const l of extensionListeners) l(name, path)
  }

  const open = (name: string) => {
    const handle = new DatabaseHandle(name, pathOf(name), extensions)
    handles.set(name, handle)
    return handle
  }

  const forget = (name: string) => {
    const handle = handles.get(name)
    if (handle === undefined) return undefined
    handles.delete(name)
    for (const other of handles.values()) {
      other.reader.detach(name)
      other.writer.detach(name)
    }
    handle.close()
    return handle
  }

  /** Databases are files; another worker process of this node may have created one since. */
  const names = (): Array<string> => {
    const found = new Set(handles.keys())
    for (const file of readdirSync(dbDir)) {
      if (!file.endsWith(fileSuffix)) continue
      const name = file.slice(0, -fileSuffix.length)
      if (validDatabaseName(name)) found.add(name)
    }
    return [...found].sort()
  }

  yield* Effect.acquireRelease(
    Effect.try({
      try: () => {
        for (const name of names()) open(name)
      },
      catch: (e) => new StorageError({ message: `cannot open databases in ${dbDir}: ${String(e)}` })
    }),
    () =>
      Effect.sync(() => {
        for (const h of handles.values()) h.close()
        handles.clear()
      })
  )
  bus.subscribe((m) => {
    if (m._tag === "DatabaseDropped") forget(m.name)
    else if (m._tag === "ExtensionLoaded") {
      try {
        addExtension(m.name, m.path)
      } catch {
        // it loaded in the process that ran LOAD EXTENSION; statements here will report what is missing
      }
    }
    else if (m._tag === "SchemaChanged") handles.get(m.database)?.schemaChanged()
  })
  yield* Effect.logInfo(`storage: ${handles.size} database(s) in ${dbDir}`)

  const service: StorageService = {
    dataDir,
    list: names,
    get: (name) => {
      const handle = handles.get(name)
      if (handle !== undefined) return handle
      return validDatabaseName(name) && existsSync(pathOf(name)) ? open(name) : undefined
    },
    pathOf,
    create: (name) => {
      if (!validDatabaseName(name) || name === systemDatabase) throw new InvalidDatabaseName({ name })
      if (handles.has(name)) throw new DatabaseExists({ name })
      try {
        closeSync(openSync(pathOf(name), "wx"))
      } catch (e) {
        if ((e as { code?: string }).code === "EEXIST") throw new DatabaseExists({ name })
        throw e
      }
      return open(name)
    },
    drop: (name) => {
      const handle = forget(name) ?? (existsSync(pathOf(name)) ? { path: pathOf(name) } : undefined)
      if (handle === undefined) throw new UnknownDatabase({ name })
      for (const suffix of ["", "-wal", "-shm"]) {
        const file = handle.path + suffix
        if (existsSync(file)) rmSync(file)
      }
      bus.broadcast({ _tag: "DatabaseDropped", name })
    },
    schemaChanged: (handle) => {
      handle.schemaChanged()
      bus.broadcast({ _tag: "SchemaChanged", database: handle.name })
    },
    extensions: () => extensions,
    onExtensionLoaded: (listener) => {
      extensionListeners.push(listener)
    },
    loadExtension: (name) => {
      const path = resolveExtension(extensionDir, name)
      addExtension(name, path)
      bus.broadcast({ _tag: "ExtensionLoaded", name, path })
      return path
    }
  }
  return service
})

export class Storage extends Context.Tag("marmot/storage/Storage")<Storage, StorageService>() {
  static readonly make = make
  static readonly layer = Layer.scoped(Storage, make)
}
