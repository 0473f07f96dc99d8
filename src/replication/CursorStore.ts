/**
 * Where anti-entropy keeps how far it has pulled each peer's commit log, per database, so a
 * restarted node resumes instead of pulling every peer's whole history again (applied markers
 * would make that harmless, but slow). `layerFile` writes `data_dir/replication-cursors.json`
 * atomically; `layerMemory` is for tests and simulation.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { writeAtomically } from "../storage/AtomicFile.ts"

/** peer node id → database → last seq applied from that peer's log. */
export type Cursors = ReadonlyMap<number, ReadonlyMap<string, bigint>>

const CursorFile = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  peers: Schema.Record({ key: Schema.String, value: Schema.Record({ key: Schema.String, value: Schema.BigInt }) })
}))

export const fileName = "replication-cursors.json"

export class CursorStore extends Context.Tag("marmot/replication/CursorStore")<CursorStore, {
  readonly load: Effect.Effect<Cursors>
  readonly save: (cursors: Cursors) => Effect.Effect<void>
}>() {
  static readonly layerMemory: Layer.Layer<CursorStore> = Layer.effect(
    CursorStore,
    Effect.map(Ref.make<Cursors>(new Map()), (ref) => CursorStore.of({ load: Ref.get(ref), save: (c) => Ref.set(ref, c) }))
  )

  static readonly layerFile = (dataDir: string): Layer.Layer<CursorStore> => {
    const path = join(dataDir, fileName)
    const load = Effect.tryPromise(() => readFile(path, "utf8")).pipe(
      Effect.flatMap(Schema.decodeUnknown(CursorFile)),
      Effect.map((file): Cursors =>
        new Map(Object.entries(file.peers).map(([peer, dbs]) => [Number(peer), new Map(Object.entries(dbs))]))
      ),
      // No file yet, or one this version cannot read: start from the beginning of every log.
      Effect.orElseSucceed((): Cursors => new Map())
    )
    const save = (cursors: Cursors) =>
      Schema.encode(CursorFile)({
        version: 1,
        peers: Object.fromEntries([...cursors].map(([peer, dbs]) => [String(peer), Object.fromEntries(dbs)]))
      }).pipe(
        Effect.flatMap((text) => Effect.tryPromise(() => writeAtomically(dataDir, path, text))),
        Effect.catchAll((e) => Effect.logWarning(`cannot save replication cursors to ${path}: ${String(e)}`))
      )
    return Layer.succeed(CursorStore, CursorStore.of({ load, save }))
  }
}
