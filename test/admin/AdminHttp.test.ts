/**
 * The admin layer in-process over stub services (membership, anti-entropy, storage): which secret
 * opens what, and every state /readyz goes through. The HTTP server is real (loopback, a free port).
 */
import { Effect, Exit, Layer, Logger, LogLevel, Scope, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { MemberState, type MemberStatus } from "../../proto-schemas/src/Gossip.ts"
import { nodeId, type NodeId } from "../../proto-schemas/src/NodeId.ts"
import { adminLayer } from "../../src/app/CoreLayer.ts"
import { defaults, type NodeSettings } from "../../src/config/NodeConfig.ts"
import { Membership, MembershipRefused } from "../../src/membership/Membership.ts"
import { AntiEntropy, type PeerSync } from "../../src/replication/AntiEntropy.ts"
import { Storage, type StorageService } from "../../src/storage/Storage.ts"
import { freePort } from "../support/Servers.ts"

interface World {
  readonly members: Array<MemberState>
  readonly syncs: Map<NodeId, PeerSync>
}

const member = (id: number, status: MemberStatus) =>
  new MemberState({ nodeId: nodeId(id), address: `10.0.0.${id}:7000`, status, incarnation: 0, heartbeat: 0, meta: {} })

const stubs = (world: World) => {
  const membership = Membership.of({
    nodeId: nodeId(1),
    self: Effect.sync(() => world.members[0]!),
    members: Effect.sync(() => [...world.members]),
    alive: Effect.sync(() => world.members.filter((m) => m.status === "ALIVE")),
    totalMembership: Effect.sync(() => world.members.filter((m) => m.status !== "REMOVED").length),
    changes: Stream.empty,
    remove: (id) =>
      Effect.suspend(() => {
        const i = world.members.findIndex((m) => m.nodeId === id)
        if (id === 1) return Effect.fail(new MembershipRefused({ operation: "remove", nodeId: id, reason: "CannotRemoveSelf" }))
        if (i < 0) return Effect.fail(new MembershipRefused({ operation: "remove", nodeId: id, reason: "UnknownMember" }))
        world.members[i] = member(id, "REMOVED")
        return Effect.void
      }),
    allow: (id) => Effect.fail(new MembershipRefused({ operation: "allow", nodeId: id, reason: "NotRemoved" })),
    setMeta: () => Effect.void,
    leave: Effect.void
  })
  const antiEntropy = AntiEntropy.of({ syncNow: Effect.succeed(0), peers: Effect.sync(() => new Map(world.syncs)) })
  const storage = { list: () => [], get: () => undefined } as unknown as StorageService
  return Layer.mergeAll(Layer.succeed(Membership, membership), Layer.succeed(AntiEntropy, antiEntropy), Layer.succeed(Storage, storage))
}

const scopes: Array<Scope.CloseableScope> = []
afterEach(async () => {
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void))
})

const serve = async (world: World, settings: { admin?: Partial<NodeSettings["admin"]>; clusterSecret?: string; seeds?: Array<string> }) => {
  const port = await freePort()
  const node: NodeSettings = {
    ...defaults,
    cluster: { ...defaults.cluster, grpcPort: 7000, clusterSecret: settings.clusterSecret, seedNodes: settings.seeds ?? [] },
    admin: { ...defaults.admin, httpPort: port, ...settings.admin }
  }
  const scope = Effect.runSync(Scope.make())
  scopes.push(scope)
  await Effect.runPromise(Layer.buildWithScope(adminLayer(node, "10.0.0.1:7000").pipe(Layer.provide(stubs(world)), Layer.provide(Logger.minimumLogLevel(LogLevel.None))), scope))
  return async (path: string, init: { method?: string; secret?: string } = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: init.method ?? "GET",
      headers: init.secret === undefined ? {} : { "x-marmot-secret": init.secret }
    })
    return { status: response.status, body: await response.json() as Record<string, unknown> }
  }
}

describe("admin HTTP layer", () => {
  it("[admin] secret replaces the cluster secret for /admin/", async () => {
    const call = await serve({ members: [member(1, "ALIVE")], syncs: new Map() }, { admin: { secret: "operator" }, clusterSecret: "peers" })
    expect((await call("/admin/cluster/members", { secret: "peers" })).status).toBe(401)
    expect((await call("/admin/cluster/members", { secret: "operator" })).status).toBe(200)
  })

  it("with no secret at all, /admin/ reads are open and remove/allow are refused with 403", async () => {
    const world = { members: [member(1, "ALIVE"), member(2, "ALIVE")], syncs: new Map() }
    const call = await serve(world, {})
    expect((await call("/admin/cluster/members")).status).toBe(200)
    expect((await call("/admin/checksums")).body).toMatchObject({ node_id: 1, databases: {} })
    const refused = await call("/admin/cluster/remove/2", { method: "POST" })
    expect(refused.status).toBe(403)
    expect(world.members[1]!.status).toBe("ALIVE")
  })

  it("remove answers with the new state, 404 for an unknown member, 409 for self", async () => {
    const world = { members: [member(1, "ALIVE"), member(2, "ALIVE")], syncs: new Map() }
    const call = await serve(world, { clusterSecret: "k" })
    expect(await call("/admin/cluster/remove/2", { method: "POST", secret: "k" })).toEqual({
      status: 200,
      body: { ok: true, id: 2, status: "REMOVED", incarnation: 0 }
    })
    expect((await call("/admin/cluster/remove/5", { method: "POST", secret: "k" })).status).toBe(404)
    expect((await call("/admin/cluster/remove/1", { method: "POST", secret: "k" })).body).toMatchObject({ reason: "CannotRemoveSelf" })
    expect((await call("/admin/cluster/allow/2", { method: "POST", secret: "k" })).status).toBe(409)
    expect((await call("/admin/cluster/remove/0", { method: "POST", secret: "k" })).status).toBe(400)
  })

  it("/readyz: not joined, then not caught up with a peer, then ready (latched); unready again when isolated", async () => {
    const world: World = { members: [member(1, "ALIVE"), member(2, "DEAD")], syncs: new Map() }
    const call = await serve(world, { seeds: ["10.0.0.2:7000"] })
    expect(await call("/readyz")).toEqual({ status: 503, body: { ready: false, reason: "not joined: no other member is ALIVE" } })
    world.members[1] = member(2, "ALIVE")
    world.members.push(member(3, "ALIVE"))
    world.syncs.set(nodeId(2), { caughtUpAtMs: 1, behindTransactions: 4, lagMs: 10, lastError: undefined })
    world.syncs.set(nodeId(3), { caughtUpAtMs: undefined, behindTransactions: 0, lagMs: 0, lastError: "PeerUnavailable" })
    expect(await call("/readyz")).toEqual({ status: 503, body: { ready: false, reason: "anti-entropy has not yet caught up with node(s) 3" } })
    world.syncs.set(nodeId(3), { caughtUpAtMs: 2, behindTransactions: 0, lagMs: 0, lastError: undefined })
    expect(await call("/readyz")).toEqual({ status: 200, body: { ready: true } })
    // a member joining later does not make the node unready
    world.members.push(member(4, "ALIVE"))
    expect((await call("/readyz")).status).toBe(200)
    // isolated: every other member DEAD
    for (const i of [1, 2, 3]) world.members[i] = member(i + 1, "DEAD")
    expect((await call("/readyz")).body).toEqual({ ready: false, reason: "not joined: no other member is ALIVE" })
    world.members[0] = member(1, "REMOVED")
    expect((await call("/readyz")).body).toEqual({ ready: false, reason: "this node is REMOVED" })
  })

  it("/readyz: a node alone by design (no seeds, no other member) is ready at once", async () => {
    const call = await serve({ members: [member(1, "ALIVE")], syncs: new Map() }, {})
    expect(await call("/readyz")).toEqual({ status: 200, body: { ready: true } })
  })

  it("members carry the lag this node's anti-entropy saw", async () => {
    const world: World = { members: [member(1, "ALIVE"), member(2, "ALIVE"), member(3, "SUSPECT")], syncs: new Map() }
    world.syncs.set(nodeId(2), { caughtUpAtMs: 0, behindTransactions: 7, lagMs: 42, lastError: undefined })
    const call = await serve(world, { clusterSecret: "k" })
    const body = (await call("/admin/cluster/members", { secret: "k" })).body
    expect(body).toMatchObject({ local_node_id: 1, total_membership: 3, alive_count: 2, quorum_size: 2 })
    expect(body["members"]).toEqual([
      { id: 1, address: "10.0.0.1:7000", status: "ALIVE", incarnation: 0, admin: null, self: true, lag: null },
      {
        id: 2,
        address: "10.0.0.2:7000",
        status: "ALIVE",
        incarnation: 0,
        admin: null,
        self: false,
        lag: { transactions: 7, ms: 42, caught_up_at: "1970-01-01T00:00:00.000Z", last_error: null }
      },
      { id: 3, address: "10.0.0.3:7000", status: "SUSPECT", incarnation: 0, admin: null, self: false, lag: null }
    ])
  })
})
