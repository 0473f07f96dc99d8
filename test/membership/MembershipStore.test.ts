import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { MemberState, nodeId } from "../../proto-schemas/src/Gossip.ts"
import { fileName, MembershipStore } from "../../src/membership/MembershipStore.ts"

const members = [
  new MemberState({ nodeId: nodeId(1), address: "10.0.0.1:7946", status: "LEAVING", incarnation: 4, heartbeat: 9, meta: {} }),
  new MemberState({ nodeId: nodeId(2), address: "10.0.0.2:7946", status: "REMOVED", incarnation: 2, heartbeat: 0, meta: { db: "3" } })
]

const withDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "marmot-membership-"))),
    f,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

describe("MembershipStore", () => {
  it.effect("file: empty on first start, then what was saved last, with no temp file left behind", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const store = MembershipStore.makeFile(join(dir, "data"))
        assert.deepStrictEqual(yield* store.load, [])
        yield* store.save(members.slice(0, 1))
        yield* store.save(members)
        assert.deepStrictEqual(yield* MembershipStore.makeFile(join(dir, "data")).load, members)
        assert.deepStrictEqual(yield* Effect.promise(() => readdir(join(dir, "data"))), [fileName])
        const text = yield* Effect.promise(() => readFile(join(dir, "data", fileName), "utf8"))
        assert.include(text, "\"version\": 1")
      })
    ))

  it.effect("file: a corrupt file is an error, not an empty membership", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        yield* Effect.promise(() => writeFile(join(dir, fileName), "{\"version\": 1, \"members\": [{\"nodeId\": -1}]}"))
        const error = yield* Effect.flip(MembershipStore.makeFile(dir).load)
        assert.deepStrictEqual([error._tag, error.operation], ["MembershipStoreError", "load"])
      })
    ))

  it.effect("memory: one store handed to a restarted node keeps what the first one saved", () =>
    Effect.gen(function*() {
      const store = yield* MembershipStore.makeMemory
      yield* store.save(members)
      assert.deepStrictEqual(yield* store.load, members)
    }))
})
