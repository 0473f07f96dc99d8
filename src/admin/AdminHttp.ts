/**
 * The node's admin and observability HTTP API, served by its cluster core on `[admin] http_port`:
 *
 * - `GET /healthz`: the process is up (always 200 while it answers).
 * - `GET /readyz`: 200 once the node has caught up (see `readiness`), else 503 with the reason.
 * - `GET /metrics`: Prometheus text: Effect's metric registry, gossip state, process figures.
 * - behind the admin secret (`X-Marmot-Secret: s` or `Authorization: Bearer s`, constant time):
 *   `GET /admin/cluster/members`, `POST /admin/cluster/remove/:id`, `POST /admin/cluster/allow/:id`,
 *   `GET /admin/checksums`.
 *
 * With no secret configured, /admin/ reads are open (a warning says so at startup) and the
 * mutations answer 403. A refusal is logged with the path and the reason, never a presented value.
 */
import { Headers, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Data, Effect, Layer, Metric, Option, Redacted } from "effect"
import { createServer } from "node:http"
import type { MemberState, MemberStatus } from "../../proto-schemas/src/Gossip.ts"
import { maxNodeId, nodeId, type NodeId } from "../../proto-schemas/src/NodeId.ts"
import { Membership } from "../membership/Membership.ts"
import { secretChecker } from "../network/ClusterAuth.ts"
import { AntiEntropy, type PeerSync } from "../replication/AntiEntropy.ts"
import { Storage } from "../storage/Storage.ts"
import { checksumDatabase, type TableChecksum } from "./Checksums.ts"
import * as Prometheus from "./Prometheus.ts"
import { WorkerMetrics } from "./WorkerMetrics.ts"

export interface AdminOptions {
  readonly port: number
  readonly host: string
  readonly secret: Option.Option<Redacted.Redacted<string>>
  /** True when this node has seeds other than itself to join through. */
  readonly expectsPeers: boolean
}

export const secretHeader = "x-marmot-secret"

export class ChecksumFailed extends Data.TaggedError("ChecksumFailed")<{ readonly database: string; readonly reason: string }> {
  override get message() {
    return `checksum of database ${this.database} failed: ${this.reason}`
  }
}

const statuses: ReadonlyArray<MemberStatus> = ["ALIVE", "SUSPECT", "DEAD", "JOINING", "LEAVING", "REMOVED"]

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

/** The secret a request presents, from `X-Marmot-Secret` or `Authorization: Bearer`. */
export const presentedSecret = (headers: Headers.Headers): Option.Option<string> => {
  const direct = Headers.get(headers, secretHeader)
  if (Option.isSome(direct)) return direct
  return Option.flatMap(Headers.get(headers, "authorization"), (value) => {
    const m = /^Bearer\s+(.+)$/i.exec(value.trim())
    return m === null ? Option.none() : Option.some(m[1]!)
  })
}

const quorumOf = (total: number) => Math.floor(total / 2) + 1

const lagJson = (sync: PeerSync | undefined) =>
  sync === undefined ? null : {
    transactions: sync.behindTransactions,
    ms: sync.lagMs,
    caught_up_at: sync.caughtUpAtMs === undefined ? null : new Date(sync.caughtUpAtMs).toISOString(),
    last_error: sync.lastError ?? null
  }

const memberJson = (m: MemberState, self: NodeId, syncs: ReadonlyMap<NodeId, PeerSync>) => ({
  id: m.nodeId,
  address: m.address,
  status: m.status,
  incarnation: m.incarnation,
  admin: m.meta["admin"] ?? null,
  self: m.nodeId === self,
  lag: m.nodeId === self ? null : lagJson(syncs.get(m.nodeId))
})

/** The serving process's own figures. */
export const processFamilies = (): Array<Prometheus.Family> => {
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  return [
    Prometheus.gauge("process_resident_memory_bytes", "Resident memory of the node's core process, bytes", [{ value: memory.rss }]),
    Prometheus.gauge("nodejs_heap_used_bytes", "V8 heap in use, bytes", [{ value: memory.heapUsed }]),
    Prometheus.gauge("nodejs_heap_total_bytes", "V8 heap allocated, bytes", [{ value: memory.heapTotal }]),
    {
      name: "process_cpu_seconds_total",
      help: "User and system CPU time of the node's core process, seconds",
      type: "counter",
      samples: [{ suffix: "", labels: [], value: (cpu.user + cpu.system) / 1e6 }]
    },
    Prometheus.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, seconds", [{
      value: Math.round(Date.now() / 1000 - process.uptime())
    }])
  ]
}

const makeRouter = (options: AdminOptions) =>
  Effect.gen(function*() {
    const membership = yield* Membership
    const antiEntropy = yield* AntiEntropy
    const storage = yield* Storage
    const workerMetrics = yield* Effect.serviceOption(WorkerMetrics)
    const matches = Option.map(options.secret, secretChecker)
    if (Option.isNone(matches)) {
      yield* Effect.logWarning("no admin secret (neither [admin] secret nor the cluster secret): /admin/ reads are open, remove/allow are refused")
    }

    /** Runs `handler` only for a request with the right secret (reads pass when none is configured). */
    const guarded = <E, R>(mutation: boolean, handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const refuse = (status: number, reason: string) =>
          Effect.as(
            Effect.logWarning(`admin request refused: ${reason}`).pipe(
              Effect.annotateLogs({ subsystem: "admin", method: request.method, path: request.url })
            ),
            HttpServerResponse.unsafeJson({ error: reason }, {
              status,
              headers: status === 401 ? Headers.fromInput({ "www-authenticate": "Bearer" }) : Headers.empty
            })
          )
        if (Option.isNone(matches)) {
          return yield* mutation ? refuse(403, "no admin secret is configured ([admin] secret or the cluster secret)") : handler
        }
        const presented = presentedSecret(request.headers)
        if (Option.isNone(presented)) return yield* refuse(401, "missing authentication header")
        if (!matches.value(presented.value)) return yield* refuse(401, "invalid secret")
        return yield* handler
      })

    const members = Effect.gen(function*() {
      const self = membership.nodeId
      const all = yield* membership.members
      const syncs = yield* antiEntropy.peers
      const total = yield* membership.totalMembership
      return json({
        local_node_id: self,
        total_membership: total,
        alive_count: all.filter((m) => m.status === "ALIVE").length,
        quorum_size: quorumOf(total),
        members: all.map((m) => memberJson(m, self, syncs))
      })
    })

    const idParam = Effect.map(HttpRouter.params, (params): NodeId | undefined => {
      const raw = params["id"] ?? ""
      const n = Number(raw)
      return /^\d+$/.test(raw) && n >= 1 && n <= maxNodeId ? nodeId(n) : undefined
    })

    const operator = (operation: "remove" | "allow") =>
      Effect.gen(function*() {
        const id = yield* idParam
        if (id === undefined) return json({ error: "the node id must be a positive integer" }, 400)
        const outcome = yield* Effect.either(operation === "remove" ? membership.remove(id) : membership.allow(id))
        if (outcome._tag === "Left") {
          const reason = outcome.left.reason
          const status = reason === "UnknownMember" ? 404 : 409
          return json({ error: outcome.left.message, reason }, status)
        }
        yield* Effect.logInfo(`operator: ${operation} node ${id}`).pipe(Effect.annotateLogs({ subsystem: "admin" }))
        const member = (yield* membership.members).find((m) => m.nodeId === id)
        return json({ ok: true, id, status: member?.status ?? null, incarnation: member?.incarnation ?? null })
      })

    // Ready is latched once caught up; the membership half is checked on every probe.
    let caughtUp = false
    const readiness = Effect.gen(function*() {
      const self = yield* membership.self
      if (self.status !== "ALIVE") return `this node is ${self.status}`
      const others = (yield* membership.members).filter((m) => m.nodeId !== self.nodeId && m.status !== "REMOVED")
      const peers = others.filter((m) => m.status === "ALIVE")
      // alone by design: no seeds to join through and no other member known
      if ((options.expectsPeers || others.length > 0) && peers.length === 0) return "not joined: no other member is ALIVE"
      if (caughtUp) return undefined
      const syncs = yield* antiEntropy.peers
      const behind = peers.filter((m) => syncs.get(m.nodeId)?.caughtUpAtMs === undefined).map((m) => m.nodeId)
      if (behind.length > 0) return `anti-entropy has not yet caught up with node(s) ${behind.join(", ")}`
      caughtUp = true
      return undefined
    })

    const metrics = Effect.gen(function*() {
      const snapshot = yield* Metric.snapshot
      const all = yield* membership.members
      const total = yield* membership.totalMembership
      const alive = all.filter((m) => m.status === "ALIVE").length
      const families = [
        ...Prometheus.fromSnapshot(snapshot),
        Prometheus.gauge(
          "marmot_cluster_members",
          "Members this node knows, by gossip status (self included)",
          statuses.map((status) => ({ labels: [["status", status]] as const, value: all.filter((m) => m.status === status).length }))
        ),
        Prometheus.gauge("marmot_cluster_quorum_size", "Votes a QUORUM write needs", [{ value: quorumOf(total) }]),
        Prometheus.gauge("marmot_cluster_quorum_available", "1 when enough members are ALIVE for a QUORUM write", [{
          value: alive >= quorumOf(total) ? 1 : 0
        }]),
        Prometheus.gauge("marmot_node_info", "This node's id", [{ labels: [["node_id", String(membership.nodeId)]], value: 1 }]),
        ...Option.match(workerMetrics, { onNone: () => [], onSome: (w) => w.families() }),
        ...processFamilies()
      ]
      return HttpServerResponse.text(Prometheus.render(families), { contentType: "text/plain; version=0.0.4; charset=utf-8" })
    })

    const checksums = Effect.gen(function*() {
      const databases: Record<string, Record<string, TableChecksum>> = {}
      for (const name of storage.list()) {
        const handle = storage.get(name)
        if (handle === undefined) continue // dropped meanwhile
        databases[name] = yield* Effect.try({
          try: () => checksumDatabase(handle.reader.db),
          catch: (e) => new ChecksumFailed({ database: name, reason: e instanceof Error ? e.message : String(e) })
        })
      }
      return json({ node_id: membership.nodeId, taken_at: new Date().toISOString(), databases })
    }).pipe(Effect.catchTag("ChecksumFailed", (e) => Effect.succeed(json({ error: e.message }, 500))))

    return HttpRouter.empty.pipe(
      HttpRouter.get("/healthz", Effect.succeed(json({ status: "ok", node_id: membership.nodeId }))),
      HttpRouter.get(
        "/readyz",
        Effect.map(readiness, (reason) => reason === undefined ? json({ ready: true }) : json({ ready: false, reason }, 503))
      ),
      HttpRouter.get("/metrics", metrics),
      HttpRouter.get("/admin/cluster/members", guarded(false, members)),
      HttpRouter.post("/admin/cluster/remove/:id", guarded(true, operator("remove"))),
      HttpRouter.post("/admin/cluster/allow/:id", guarded(true, operator("allow"))),
      HttpRouter.get("/admin/checksums", guarded(false, checksums))
    )
  })

/** Serves the admin API on `host:port` while the layer lives; needs the core's services. */
export const layer = (options: AdminOptions) => serve(options, makeRouter(options))

/** Serves the router `make` builds on `host:port` while the layer lives (a replica's admin port too). */
export const serve = <E, R, RM>(
  options: { readonly port: number; readonly host: string },
  make: Effect.Effect<HttpRouter.HttpRouter<E, R>, never, RM>
) =>
  Layer.unwrapEffect(Effect.map(make, (router) => HttpServer.serve(router))).pipe(
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port: options.port, host: options.host })),
    Layer.tap(() => Effect.logInfo(`admin HTTP on ${options.host}:${options.port}`).pipe(Effect.annotateLogs({ subsystem: "admin" }))),
    // the admin secret is a header too: keep it out of any span or log that records headers
    Layer.locally(Headers.currentRedactedNames, ["authorization", "cookie", "set-cookie", "x-api-key", secretHeader])
  )
