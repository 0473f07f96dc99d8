import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { MemberState, type MemberStatus, nodeId } from "../../proto-schemas/src/Gossip.ts"
import * as Swim from "../../src/membership/Swim.ts"

const timeouts: Swim.SwimTimeouts = { suspectTimeoutMs: 5000, deadTimeoutMs: 10_000 }
const SELF = nodeId(1)

const member = (
  id: number,
  status: MemberStatus = "ALIVE",
  incarnation = 0,
  heartbeat = 0,
  address = `10.0.0.${id}:7946`
) => new MemberState({ nodeId: nodeId(id), address, status, incarnation, heartbeat, meta: {} })

/** A node 1 that knows `others` (received at time 0). */
const stateWith = (...others: ReadonlyArray<MemberState>) =>
  Swim.receive(Swim.initial({ nodeId: SELF, address: "10.0.0.1:7946" }, timeouts, 0), undefined, others, 0).state

const receive = (state: Swim.SwimState, records: ReadonlyArray<MemberState>, nowMs = 0, from?: number) =>
  Swim.receive(state, from === undefined ? undefined : nodeId(from), records, nowMs)

const status = (state: Swim.SwimState, id: number) => Swim.get(state, nodeId(id))?.status
const incarnation = (state: Swim.SwimState, id: number) => Swim.get(state, nodeId(id))?.incarnation

describe("Swim: starting", () => {
  it("a new node is ALIVE at incarnation 0 and knows only itself", () => {
    const state = Swim.initial({ nodeId: SELF, address: "a:1" }, timeouts, 0)
    assert.deepStrictEqual(Swim.members(state).map((m) => [m.nodeId, m.status, m.incarnation]), [[1, "ALIVE", 0]])
    assert.strictEqual(Swim.totalMembership(state), 1)
  })

  it("a restarted node restores every member it knew and supersedes its own record (e.g. LEAVING)", () => {
    const known = [member(1, "LEAVING", 4), member(2, "ALIVE", 1), member(3, "DEAD", 2), member(4, "REMOVED", 3)]
    const state = Swim.initial({ nodeId: SELF, address: "10.0.0.1:7946" }, timeouts, 100, known)
    assert.strictEqual(status(state, 1), "ALIVE")
    assert.strictEqual(incarnation(state, 1), 5)
    assert.deepStrictEqual(Swim.members(state).map((m) => m.status), ["ALIVE", "ALIVE", "DEAD", "REMOVED"])
    assert.strictEqual(Swim.totalMembership(state), 3)
  })

  it("a node that was REMOVED stays REMOVED after a restart", () => {
    const state = Swim.initial({ nodeId: SELF, address: "a:1" }, timeouts, 0, [member(1, "REMOVED", 3)])
    assert.strictEqual(status(state, 1), "REMOVED")
    assert.strictEqual(incarnation(state, 1), 3)
  })
})

describe("Swim: merge rules", () => {
  it("adds an unknown member, whatever its status", () => {
    const t = receive(stateWith(), [member(2), member(3, "DEAD", 4), member(4, "REMOVED", 1)])
    assert.deepStrictEqual(Swim.members(t.state).map((m) => m.status), ["ALIVE", "ALIVE", "DEAD", "REMOVED"])
    assert.deepStrictEqual(t.changes.map((c) => `${c.previous?.status}→${c.current.nodeId}`).sort(), [
      "undefined→2",
      "undefined→3",
      "undefined→4"
    ])
  })

  it("a higher incarnation replaces the record, whatever the statuses", () => {
    const state = stateWith(member(2, "DEAD", 3))
    const t = receive(state, [member(2, "ALIVE", 4, 0, "10.9.9.9:1")])
    assert.strictEqual(status(t.state, 2), "ALIVE")
    assert.strictEqual(Swim.get(t.state, nodeId(2))?.address, "10.9.9.9:1")
    assert.strictEqual(t.changes.length, 1)
  })

  it("a lower incarnation is ignored", () => {
    const state = stateWith(member(2, "ALIVE", 5))
    const t = receive(state, [member(2, "DEAD", 4, 99)])
    assert.strictEqual(t.state, state)
    assert.deepStrictEqual(t.changes, [])
  })

  const equalIncarnation: ReadonlyArray<readonly [MemberStatus, MemberStatus, MemberStatus]> = [
    ["ALIVE", "SUSPECT", "SUSPECT"],
    ["ALIVE", "DEAD", "DEAD"],
    ["SUSPECT", "DEAD", "DEAD"],
    ["JOINING", "SUSPECT", "SUSPECT"],
    ["SUSPECT", "ALIVE", "SUSPECT"],
    ["DEAD", "ALIVE", "DEAD"],
    ["DEAD", "SUSPECT", "DEAD"],
    ["ALIVE", "JOINING", "ALIVE"],
    ["LEAVING", "DEAD", "LEAVING"],
    ["ALIVE", "LEAVING", "ALIVE"],
    ["ALIVE", "REMOVED", "REMOVED"],
    ["DEAD", "REMOVED", "REMOVED"],
    ["LEAVING", "REMOVED", "REMOVED"]
  ]
  for (const [known, claim, expected] of equalIncarnation) {
    it(`at equal incarnation ${known} + ${claim} claim → ${expected}`, () => {
      const t = receive(stateWith(member(2, known, 3)), [member(2, claim, 3)])
      assert.strictEqual(status(t.state, 2), expected)
      assert.strictEqual(incarnation(t.state, 2), 3)
    })
  }

  it("news (a newer heartbeat) refreshes lastSeen; an echo of old news does not", () => {
    let state = stateWith(member(2, "ALIVE", 0, 1))
    // Echoes of heartbeat 1 keep arriving until t=6000: the member is still suspected at 5000+.
    for (let t = 1000; t <= 6000; t += 1000) state = receive(state, [member(2, "ALIVE", 0, 1)], t).state
    assert.strictEqual(Swim.tick(state, 5001).state.entries.get(nodeId(2))?.member.status, "SUSPECT")
    // A newer heartbeat at 4000 moves lastSeen: not suspected at 5001, but at 9001.
    state = receive(stateWith(member(2, "ALIVE", 0, 1)), [member(2, "ALIVE", 0, 2)], 4000).state
    assert.strictEqual(status(Swim.tick(state, 5001).state, 2), "ALIVE")
    assert.strictEqual(status(Swim.tick(state, 9001).state, 2), "SUSPECT")
  })

  it("news at equal incarnation takes the member's address and meta, but not its status back from SUSPECT", () => {
    const state = stateWith(member(2, "SUSPECT", 1, 5))
    const news = new MemberState({ ...member(2, "ALIVE", 1, 6, "10.2.2.2:9"), meta: { db: "7" } })
    const t = receive(state, [news], 100)
    const m = Swim.get(t.state, nodeId(2))!
    assert.deepStrictEqual([m.status, m.heartbeat, m.address, m.meta], ["SUSPECT", 6, "10.2.2.2:9", { db: "7" }])
  })

  it("a heartbeat alone is not a change worth an event", () => {
    const t = receive(stateWith(member(2, "ALIVE", 0, 1)), [member(2, "ALIVE", 0, 2)], 10)
    assert.notStrictEqual(t.state, stateWith(member(2, "ALIVE", 0, 1)))
    assert.deepStrictEqual(t.changes, [])
  })
})

describe("Swim: REMOVED", () => {
  it("is sticky: higher-incarnation ALIVE, SUSPECT, JOINING or LEAVING records are ignored", () => {
    const state = stateWith(member(2, "REMOVED", 3))
    for (const claim of ["ALIVE", "SUSPECT", "JOINING", "LEAVING"] as const) {
      assert.strictEqual(status(receive(state, [member(2, claim, 9)]).state, 2), "REMOVED")
    }
  })

  it("yields to a higher-incarnation DEAD (an operator's allow) or REMOVED", () => {
    const state = stateWith(member(2, "REMOVED", 3))
    assert.strictEqual(status(receive(state, [member(2, "DEAD", 4)]).state, 2), "DEAD")
    assert.strictEqual(incarnation(receive(state, [member(2, "REMOVED", 6)]).state, 2), 6)
    assert.strictEqual(status(receive(state, [member(2, "DEAD", 3)]).state, 2), "REMOVED")
  })

  it("within one batch, order does not matter: records are judged oldest first", () => {
    const state = stateWith(member(2, "REMOVED", 0))
    const batch = [member(2, "JOINING", 4), member(2, "DEAD", 1), member(2, "LEAVING", 3)]
    const once = receive(state, batch).state
    assert.deepStrictEqual([status(once, 2), incarnation(once, 2)], ["JOINING", 4])
    assert.deepStrictEqual(receive(once, batch).changes, [])
    assert.strictEqual(status(receive(state, [...batch].reverse()).state, 2), "JOINING")
  })

  it("gossip from a REMOVED member is refused and merges nothing", () => {
    const state = stateWith(member(2, "REMOVED", 3), member(3))
    const t = receive(state, [member(2, "ALIVE", 9), member(3, "DEAD", 0), member(4)], 0, 2)
    assert.strictEqual(t.refused, "SenderRemoved")
    assert.strictEqual(t.state, state)
  })

  it("is not counted in the membership", () => {
    const state = stateWith(member(2), member(3, "DEAD"), member(4, "REMOVED"), member(5, "LEAVING"), member(6, "JOINING"))
    assert.strictEqual(Swim.totalMembership(state), 5)
    assert.deepStrictEqual(Swim.alive(state).map((m) => m.nodeId), [1, 2])
    assert.strictEqual(Swim.quorumSize(Swim.totalMembership(state)), 3)
  })

  it("remove: bumps the incarnation; refuses self and unknown members", () => {
    const state = stateWith(member(2, "ALIVE", 2))
    const t = Swim.remove(state, nodeId(2))
    assert.deepStrictEqual([status(t.state, 2), incarnation(t.state, 2)], ["REMOVED", 3])
    assert.strictEqual(Swim.remove(state, SELF).refused, "CannotRemoveSelf")
    assert.strictEqual(Swim.remove(state, nodeId(9)).refused, "UnknownMember")
    assert.deepStrictEqual(Swim.remove(t.state, nodeId(2)).changes, [])
  })

  it("allow: only a REMOVED member, which becomes DEAD one incarnation up", () => {
    const removed = Swim.remove(stateWith(member(2, "ALIVE", 2)), nodeId(2)).state
    const t = Swim.allow(removed, nodeId(2))
    assert.deepStrictEqual([status(t.state, 2), incarnation(t.state, 2)], ["DEAD", 4])
    assert.strictEqual(Swim.allow(t.state, nodeId(2)).refused, "NotRemoved")
    assert.strictEqual(Swim.allow(t.state, nodeId(9)).refused, "UnknownMember")
  })
})

describe("Swim: claims about self", () => {
  const me = (state: Swim.SwimState) => Swim.selfMember(state)

  it("refutes SUSPECT or DEAD at ≥ its incarnation with claim + 1, staying ALIVE", () => {
    const state = Swim.step(stateWith(), { _tag: "MarkAlive" }, 0).state // still incarnation 0
    for (const claim of ["SUSPECT", "DEAD"] as const) {
      const t = receive(state, [member(1, claim, 0)])
      assert.deepStrictEqual([me(t.state).status, me(t.state).incarnation], ["ALIVE", 1])
      const t2 = receive(state, [member(1, claim, 7)])
      assert.deepStrictEqual([me(t2.state).status, me(t2.state).incarnation], ["ALIVE", 8])
    }
  })

  it("ignores claims below its incarnation and its own echo", () => {
    const state = receive(stateWith(), [member(1, "DEAD", 3)]).state // now at 4
    assert.strictEqual(receive(state, [member(1, "DEAD", 3)]).state, state)
    assert.strictEqual(receive(state, [me(state)]).state, state)
  })

  it("moves above any record of a previous life (higher incarnation, or newer heartbeat)", () => {
    const state = stateWith()
    assert.strictEqual(me(receive(state, [member(1, "ALIVE", 5)]).state).incarnation, 6)
    assert.strictEqual(me(receive(state, [member(1, "ALIVE", 0, 40)]).state).incarnation, 1)
  })

  it("a JOINING node refutes but stays JOINING; a LEAVING node refutes but stays LEAVING", () => {
    const joining = Swim.initial({ nodeId: SELF, address: "a:1", status: "JOINING" }, timeouts, 0)
    const t = receive(joining, [member(1, "SUSPECT", 0)])
    assert.deepStrictEqual([me(t.state).status, me(t.state).incarnation], ["JOINING", 1])
    const leaving = Swim.step(stateWith(), { _tag: "Leave" }, 0).state
    const t2 = receive(leaving, [member(1, "DEAD", 1)])
    assert.deepStrictEqual([me(t2.state).status, me(t2.state).incarnation], ["LEAVING", 2])
  })

  it("accepts REMOVED, and is revived by a DEAD record above it (allow)", () => {
    const removed = receive(stateWith(), [member(1, "REMOVED", 1)]).state
    assert.deepStrictEqual([me(removed).status, me(removed).incarnation], ["REMOVED", 1])
    assert.strictEqual(me(receive(removed, [member(1, "ALIVE", 5)]).state).status, "REMOVED")
    const allowed = receive(removed, [member(1, "DEAD", 2)]).state
    assert.deepStrictEqual([me(allowed).status, me(allowed).incarnation], ["ALIVE", 3])
  })

  it("leave bumps the incarnation once; MarkAlive promotes JOINING", () => {
    const leaving = Swim.step(stateWith(), { _tag: "Leave" }, 0)
    assert.deepStrictEqual([me(leaving.state).status, me(leaving.state).incarnation], ["LEAVING", 1])
    assert.deepStrictEqual(Swim.step(leaving.state, { _tag: "Leave" }, 0).changes, [])
    const joining = Swim.initial({ nodeId: SELF, address: "a:1", status: "JOINING" }, timeouts, 0)
    const alive = Swim.step(joining, { _tag: "MarkAlive" }, 0).state
    assert.deepStrictEqual([me(alive).status, me(alive).incarnation], ["ALIVE", 1])
  })
})

describe("Swim: failure detection", () => {
  it("ALIVE → SUSPECT after more than suspectTimeout without news, → DEAD after more than deadTimeout", () => {
    const state = stateWith(member(2), member(3, "JOINING"))
    assert.strictEqual(status(Swim.tick(state, 5000).state, 2), "ALIVE")
    const suspect = Swim.tick(state, 5001).state
    assert.deepStrictEqual([status(suspect, 2), status(suspect, 3)], ["SUSPECT", "SUSPECT"])
    assert.strictEqual(status(Swim.tick(suspect, 10_000).state, 2), "SUSPECT")
    assert.strictEqual(status(Swim.tick(suspect, 10_001).state, 2), "DEAD")
    assert.strictEqual(incarnation(Swim.tick(suspect, 10_001).state, 2), 0, "timeouts do not bump incarnations")
  })

  it("never times out DEAD, LEAVING, REMOVED members or self", () => {
    const state = stateWith(member(2, "DEAD"), member(3, "LEAVING"), member(4, "REMOVED"))
    const later = Swim.tick(state, 1_000_000).state
    assert.deepStrictEqual(Swim.members(later).map((m) => m.status), ["ALIVE", "DEAD", "LEAVING", "REMOVED"])
  })

  it("each tick bumps own heartbeat", () => {
    const t = Swim.tick(Swim.tick(stateWith(), 1).state, 2)
    assert.strictEqual(Swim.selfMember(t.state).heartbeat, 2)
  })
})

// ---------------------------------------------------------------------------------------------
// properties

const ids = [2, 3, 4, 5] as const
/** What a member itself says at an incarnation: fixed per (member, incarnation), as in real runs. */
const ownStatus = (id: number, inc: number): MemberStatus =>
  (["ALIVE", "ALIVE", "JOINING", "LEAVING"] as const)[(id * 7 + inc * 3) % 4]!

const claimArb = (withRemoved: boolean) =>
  FastCheck.record({
    id: FastCheck.constantFrom(...ids),
    inc: FastCheck.integer({ min: 0, max: 4 }),
    heartbeat: FastCheck.integer({ min: 0, max: 4 }),
    kind: withRemoved
      ? FastCheck.constantFrom("own", "own", "SUSPECT", "DEAD", "REMOVED")
      : FastCheck.constantFrom("own", "own", "SUSPECT", "DEAD")
  }).map(({ heartbeat, id, inc, kind }) => {
    const own = ownStatus(id, inc)
    const claimed: MemberStatus = kind === "own" || own === "LEAVING" ? own : (kind as MemberStatus)
    return member(id, claimed, inc, heartbeat)
  })

const batch = (withRemoved: boolean) => FastCheck.array(claimArb(withRemoved), { maxLength: 8 })

const summary = (state: Swim.SwimState) =>
  Swim.members(state).map((m) => `${m.nodeId}:${m.status}:${m.incarnation}`).join(" ")

describe("Swim: properties", () => {
  it.prop("merging the same batch twice changes nothing the second time", [batch(true), batch(true)], ([a, b]) => {
    const once = receive(receive(stateWith(), a).state, b).state
    const twice = receive(once, b)
    assert.deepStrictEqual(twice.changes, [])
    assert.strictEqual(summary(twice.state), summary(once))
  })

  it.prop(
    "without operator removals, merge order does not change the resulting statuses and incarnations",
    [batch(false), batch(false)],
    ([a, b]) => {
      const ab = receive(receive(stateWith(), a).state, b).state
      const ba = receive(receive(stateWith(), b).state, a).state
      assert.strictEqual(summary(ab), summary(ba))
    }
  )

  it.prop("merging never lowers an incarnation", [batch(true), batch(true)], ([a, b]) => {
    const first = receive(stateWith(), a).state
    const second = receive(first, b).state
    for (const m of Swim.members(first)) {
      assert.isAtLeast(Swim.get(second, m.nodeId)!.incarnation, m.incarnation)
    }
  })

  it.prop(
    "after any claims about self, own record dominates each of them (unless removed)",
    [FastCheck.array(FastCheck.record({
      status: FastCheck.constantFrom(...(["ALIVE", "SUSPECT", "DEAD", "LEAVING", "JOINING"] as const)),
      inc: FastCheck.integer({ min: 0, max: 6 }),
      heartbeat: FastCheck.integer({ min: 0, max: 6 })
    }), { maxLength: 6 })],
    ([claims]) => {
      const records = claims.map((c) => member(1, c.status, c.inc, c.heartbeat))
      const me = Swim.selfMember(receive(stateWith(), records).state)
      assert.strictEqual(me.status, "ALIVE")
      for (const c of records) {
        const dominated = me.incarnation > c.incarnation ||
          (me.incarnation === c.incarnation && me.heartbeat >= c.heartbeat && (c.status === "ALIVE" || c.status === "JOINING"))
        assert.isTrue(dominated, `${me.incarnation}/${me.heartbeat} vs ${c.status}@${c.incarnation}/${c.heartbeat}`)
      }
    }
  )

  it.prop(
    "targets: distinct, never self, never REMOVED, up to fanout reachable ones plus one DEAD/LEAVING probe",
    [
      FastCheck.array(FastCheck.constantFrom(...(["ALIVE", "SUSPECT", "DEAD", "JOINING", "LEAVING", "REMOVED"] as const)), {
        minLength: 0,
        maxLength: 12
      }),
      FastCheck.integer({ min: 1, max: 5 }),
      FastCheck.array(FastCheck.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 20, maxLength: 20 })
    ],
    ([statuses, fanout, draws]) => {
      const state = stateWith(...statuses.map((s, i) => member(i + 2, s)))
      let k = 0
      const picked = Swim.targets(state, fanout, () => draws[k++ % draws.length]!)
      const pickedIds = picked.map((m) => m.nodeId)
      assert.strictEqual(new Set(pickedIds).size, picked.length)
      assert.isFalse(pickedIds.includes(SELF))
      assert.isFalse(picked.some((m) => m.status === "REMOVED"))
      const reachable = statuses.filter((s) => s === "ALIVE" || s === "SUSPECT" || s === "JOINING").length
      const gone = statuses.filter((s) => s === "DEAD" || s === "LEAVING").length
      const pickedReachable = picked.filter((m) => m.status !== "DEAD" && m.status !== "LEAVING").length
      assert.strictEqual(pickedReachable, Math.min(fanout, reachable))
      assert.strictEqual(picked.length - pickedReachable, Math.min(1, gone))
    }
  )
})
