/**
 * The checkers on hand-made histories and final states: each anomaly they exist for is reported
 * (so a chaos run that passes did check something), and what the model allows is not.
 */
import { describe, expect, it } from "vitest"
import { checkAppends, checkCounters, checkSets, type FinalState } from "./Checker.ts"
import { History, type Op } from "./History.ts"
import { classify } from "./Workload.ts"

const empty: FinalState = { sets: [], counters: [], lists: [], appends: [] }

const op = (h: History, f: Op["f"], key: number, outcome: Op["outcome"], extra: { value?: number; affected?: number } = {}) => {
  const o = h.invoke(0, 0, f, key, extra.value)
  h.complete(o, outcome!, extra.affected === undefined ? {} : { affected: extra.affected })
  return o
}

describe("checkSets", () => {
  it("passes when acknowledged rows are there and deleted ones are gone; unknown ones may be either", () => {
    const h = new History()
    op(h, "insert", 1, "ok")
    op(h, "insert", 2, "ok")
    op(h, "delete", 2, "ok", { affected: 1 })
    op(h, "insert", 3, "info")
    op(h, "insert", 4, "ok")
    op(h, "delete", 4, "info")
    op(h, "insert", 5, "ok")
    op(h, "delete", 5, "ok", { affected: 0 })
    const r = checkSets(h, { ...empty, sets: [{ id: 1, client: 0 }, { id: "3", client: 0 }, { id: 5, client: 0 }] })
    expect(r.anomalies).toEqual([])
    expect(r.stats).toMatchObject({ mustExist: 2, mustBeGone: 1 })
  })

  it("reports a lost acknowledged insert, a resurrected delete, a failed insert present, and a row nobody inserted", () => {
    const h = new History()
    op(h, "insert", 1, "ok")
    op(h, "insert", 2, "ok")
    op(h, "delete", 2, "ok", { affected: 1 })
    op(h, "insert", 3, "fail")
    const r = checkSets(h, { ...empty, sets: [{ id: 2, client: 0 }, { id: 3, client: 0 }, { id: 99, client: 0 }] })
    expect(r.anomalies.map((a) => a.split(":")[0])).toEqual(["lost", "resurrected", "phantom", "phantom"])
  })
})

describe("checkCounters", () => {
  const history = () => {
    const h = new History()
    for (let i = 0; i < 5; i++) op(h, i % 2 === 0 ? "incr-auto" : "incr-txn", 1, "ok")
    op(h, "incr-txn", 1, "info")
    op(h, "incr-auto", 1, "fail")
    return h
  }
  it("accepts acknowledged ≤ v ≤ acknowledged + unknown", () => {
    expect(checkCounters(history(), { ...empty, counters: [{ k: 1, v: "5" }] }, "QUORUM").anomalies).toEqual([])
    expect(checkCounters(history(), { ...empty, counters: [{ k: 1, v: 6 }] }, "QUORUM").anomalies).toEqual([])
  })
  it("reports lost and extra increments; lost ones are allowed at ONE", () => {
    expect(checkCounters(history(), { ...empty, counters: [{ k: 1, v: 4 }] }, "QUORUM").anomalies[0]).toMatch(/^lost increments: counter 1 = 4, 5 acknowledged/)
    expect(checkCounters(history(), { ...empty, counters: [{ k: 1, v: 7 }] }, "QUORUM").anomalies[0]).toMatch(/^extra increments/)
    const one = checkCounters(history(), { ...empty, counters: [{ k: 1, v: 4 }] }, "ONE")
    expect(one.anomalies).toEqual([])
    expect(one.stats["allowedAtOne"]).toBe(1)
  })
})

describe("checkAppends", () => {
  const history = () => {
    const h = new History()
    op(h, "append-text", 1, "ok", { value: 10 })
    op(h, "append-text", 1, "ok", { value: 11 })
    op(h, "append-text", 2, "fail", { value: 12 })
    op(h, "append-row", 1, "ok", { value: 20 })
    op(h, "append-row", 1, "info", { value: 21 })
    op(h, "append-row", 1, "ok", { value: 22 })
    return h
  }
  it("passes when every acknowledged element is there once", () => {
    const final = { ...empty, lists: [{ k: 1, v: "10 11 " }, { k: 2, v: "" }], appends: [{ k: 1, seq: 1, val: "20" }, { k: 1, seq: 2, val: 22 }] }
    expect(checkAppends(history(), final, "QUORUM").anomalies).toEqual([])
  })
  it("reports lost, duplicated, failed-but-present, misplaced and unknown elements, and seq gaps", () => {
    const final = {
      ...empty,
      lists: [{ k: 1, v: "10 10 99 " }, { k: 2, v: "12 11 " }],
      appends: [{ k: 1, seq: 1, val: 20 }, { k: 1, seq: 3, val: 21 }]
    }
    const kinds = checkAppends(history(), final, "QUORUM").anomalies.map((a) => a.split(":")[0])
    expect(kinds).toEqual([
      "duplicated append-text",
      "misplaced append-text",
      "phantom append-text",
      "phantom append-text",
      "lost append-row",
      "append-row key 1"
    ])
  })
  it("at ONE a lost append is allowed, a duplicate is not", () => {
    const final = { ...empty, lists: [{ k: 1, v: "10 " }], appends: [{ k: 1, seq: 1, val: 20 }, { k: 1, seq: 2, val: 22 }, { k: 1, seq: 3, val: 22 }] }
    const r = checkAppends(history(), final, "ONE")
    expect(r.anomalies.map((a) => a.split(":")[0])).toEqual(["duplicated append-row"])
    expect(r.stats["allowedAtOne"]).toBe(1)
  })
})

describe("classify", () => {
  it("documented refusals are failures, lost connections after sending are unknown", () => {
    expect(classify({ errno: 1213, message: "Deadlock" }, true).outcome).toBe("fail")
    expect(classify({ errno: 1105, message: "quorum not achieved: 1 of 3 nodes prepared, QUORUM needs 2; nothing was written" }, true).outcome).toBe("fail")
    expect(classify({ errno: 1105, message: "committed on 1 of 3 nodes, QUORUM needs 2; the other nodes catch up when they are reachable" }, true).outcome).toBe("info")
    expect(classify({ code: "ECONNRESET", message: "read ECONNRESET" }, true)).toMatchObject({ outcome: "info", dropConnection: true })
    expect(classify({ code: "ECONNRESET", message: "read ECONNRESET" }, false)).toMatchObject({ outcome: "fail", dropConnection: true })
  })
})
