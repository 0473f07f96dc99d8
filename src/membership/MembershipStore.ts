/**
 * Where a node keeps the members it knew, so a restarted node counts them again (a quorum is never
 * computed from fewer members than the node last knew) and supersedes its own LEAVING record.
 * `layerFile` writes `data_dir/membership.json` atomically (temp file, fsync, rename, fsync of the
 * directory); `layerMemory` is for tests and simulation.
 */
import { Context, Data, Effect, Layer, Ref, Schema } from "effect"
import { readFile } from "node:fs/promises"
import { writeAtomically } from "../storage/AtomicFile.ts"
import { join } from "node:path"
import { MemberState } from "../../proto-schemas/src/Gossip.ts"

export class MembershipStoreError extends Data.TaggedError("MembershipStoreError")<{
  readonly operation: "load" | "save"
  readonly path: string
  readonly cause: unknown
}> {
  override get message() {
    return `membership store: cannot ${this.operation} ${this.path}: ${String(this.cause)}`
  }
}

/** The file format, versioned so a later layout can still read this one. */
export const MembershipFile = Schema.Struct({
  version: Schema.Literal(1),
  members: Schema.Array(MemberState)
})

const MembershipJson = Schema.parseJson(MembershipFile, { space: 2 })

export const fileName = "membership.json"

export class MembershipStore extends Context.Tag("marmot/membership/MembershipStore")<MembershipStore, {
  /** The members saved last, self included; empty on first start. */
  readonly load: Effect.Effect<ReadonlyArray<MemberState>, MembershipStoreError>
  readonly save: (members: ReadonlyArray<MemberState>) => Effect.Effect<void, MembershipStoreError>
}>() {
  /** A store in memory; keep the value to hand the same store to a restarted node. */
  static readonly makeMemory: Effect.Effect<MembershipStore["Type"]> = Effect.map(
    Ref.make<ReadonlyArray<MemberState>>([]),
    (ref) => MembershipStore.of({ load: Ref.get(ref), save: (members) => Ref.set(ref, members) })
  )

  static readonly layerMemory: Layer.Layer<MembershipStore> = Layer.effect(MembershipStore, MembershipStore.makeMemory)

  static readonly makeFile = (dataDir: string): MembershipStore["Type"] => {
    const path = join(dataDir, fileName)
    const load = Effect.tryPromise({
      try: () => readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => e.code === "ENOENT" ? undefined : Promise.reject(e)),
      catch: (cause) => new MembershipStoreError({ operation: "load", path, cause })
    }).pipe(
      Effect.flatMap((text) =>
        text === undefined
          ? Effect.succeed([])
          : Schema.decodeUnknown(MembershipJson)(text).pipe(
            Effect.map((file) => file.members),
            Effect.mapError((cause) => new MembershipStoreError({ operation: "load", path, cause }))
          )
      )
    )
    const save = (members: ReadonlyArray<MemberState>) =>
      Schema.encode(MembershipJson)({ version: 1, members }).pipe(
        Effect.orDie,
        Effect.flatMap((text) =>
          Effect.tryPromise({
            try: () => writeAtomically(dataDir, path, text),
            catch: (cause) => new MembershipStoreError({ operation: "save", path, cause })
          })
        )
      )
    return MembershipStore.of({ load, save })
  }

  static readonly layerFile = (dataDir: string): Layer.Layer<MembershipStore> =>
    Layer.succeed(MembershipStore, MembershipStore.makeFile(dataDir))
}
