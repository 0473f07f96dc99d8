import { describe, expect, it } from "vitest"
import { MemberState, type MemberStatus, nodeId } from "../../proto-schemas/src/Gossip.ts"
import { standInsOf } from "../../src/cdc/Origins.ts"

const member = (id: number, status: MemberStatus, meta: Record<string, string> = {}) =>
  new MemberState({ nodeId: nodeId(id), address: `127.0.0.1:${9000 + id}`, status, incarnation: 0, heartbeat: 0, meta })

describe("standInsOf (publish_from = origin)", () => {
  it("the lowest ALIVE member stands in for every DEAD, LEAVING or REMOVED one, with the watermarks they announced", () => {
    const members = [
      member(1, "DEAD", { "cdc.k": JSON.stringify({ shop: "123456" }) }),
      member(2, "ALIVE"),
      member(3, "SUSPECT"),
      member(4, "ALIVE"),
      member(5, "LEAVING", { "cdc.k": "not json" }),
      member(6, "REMOVED")
    ]
    const mine = standInsOf(2, members)
    expect(mine.map((s) => s.origin)).toEqual([1, 5, 6])
    expect(mine[0]!.watermark("k", "shop")).toBe(123456n)
    expect(mine[0]!.watermark("k", "other")).toBe(0n)
    expect(mine[0]!.watermark("other-sink", "shop")).toBe(0n)
    expect(mine[1]!.watermark("k", "shop")).toBe(0n)
    // Not the lowest ALIVE: nobody to stand in for. A node counts itself alive whatever its record says.
    expect(standInsOf(4, members)).toEqual([])
    expect(standInsOf(3, members.filter((m) => m.nodeId !== 2)).map((s) => s.origin)).toEqual([1, 5, 6])
    expect(standInsOf(2, [member(2, "ALIVE"), member(3, "ALIVE")])).toEqual([])
  })
})
