import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Layer, Logger, Option, Redacted } from "effect"
import net from "node:net"
import { PeerUnavailable } from "../../proto-schemas/src/Errors.ts"
import { nodeId } from "../../proto-schemas/src/NodeId.ts"
import * as PeerLane from "../../src/network/PeerLane.ts"
import * as PeerListener from "../../src/network/PeerListener.ts"

const secretOf = (s: string | undefined) => s === undefined ? Option.none() : Option.some(Redacted.make(s))

/** A node's lane on a fresh listener on 127.0.0.1:0; its address. */
const node = (secret: string | undefined) =>
  Effect.gen(function*() {
    const listener = yield* PeerListener.make({ host: "127.0.0.1", port: 0 })
    const address = listener.socketServer.address
    const port = address._tag === "TcpAddress" ? address.port : 0
    const lane = yield* Layer.build(PeerLane.layerSocket({ listener, secret: secretOf(secret) })).pipe(Effect.map(Context.get(PeerLane.PeerLane)))
    return { lane, peer: { nodeId: nodeId(7), address: `127.0.0.1:${port}` }, port }
  })

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const second = Duration.seconds(5)

describe("PeerLane over TCP", () => {
  it.scopedLive("answers requests in any order they finish, many in flight on one connection", () =>
    Effect.gen(function*() {
      const server = yield* node("s3cret")
      yield* server.lane.serve((request) =>
        Effect.as(Effect.sleep(Duration.millis(text(request) === "slow" ? 50 : 0)), bytes(`re:${text(request)}`)))
      const client = yield* node("s3cret")
      const answers = yield* Effect.all(
        ["slow", "a", "b", "x".repeat(200_000)].map((m) => client.lane.call(server.peer, bytes(m), second)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(answers.map(text).map((s) => s.slice(0, 10)), ["re:slow", "re:a", "re:b", "re:xxxxxxx"])
      assert.strictEqual(answers[3]!.length, 200_003)
    }))

  it.scopedLive("a client without the cluster secret is refused at the handshake, and the refusal is logged without it", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => void logs.push(String(message)))
      const server = yield* node("right-secret").pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      yield* server.lane.serve((request) => Effect.succeed(request))
      const intruder = yield* node("wrong-secret")
      const exit = yield* Effect.exit(intruder.lane.call(server.peer, bytes("hello"), second))
      assert.deepStrictEqual(exit, Exit.fail(new PeerUnavailable({ nodeId: nodeId(7) })))
      const none = yield* node(undefined)
      assert.isTrue(Exit.isFailure(yield* Effect.exit(none.lane.call(server.peer, bytes("hello"), second))))
      yield* Effect.sleep(Duration.millis(50))
      assert.isTrue(logs.some((l) => l.includes("peer lane connection refused: invalid cluster secret")), logs.join("\n"))
      assert.isFalse(logs.some((l) => l.includes("right-secret") || l.includes("wrong-secret")))
    }))

  it.scopedLive("a handler failure comes back as PeerUnavailable for that request only", () =>
    Effect.gen(function*() {
      const server = yield* node("k")
      yield* server.lane.serve((request) =>
        text(request) === "bad" ? Effect.fail(new PeerLane.LaneRequestError("undecodable")) : Effect.succeed(request))
      const client = yield* node("k")
      assert.isTrue(Exit.isFailure(yield* Effect.exit(client.lane.call(server.peer, bytes("bad"), second))))
      assert.strictEqual(text(yield* client.lane.call(server.peer, bytes("good"), second)), "good")
    }))

  it.scopedLive("no answer in time is PeerUnavailable; a dead peer fails at once, and a restarted one is dialled again", () =>
    Effect.gen(function*() {
      const server = yield* node("k")
      yield* server.lane.serve((request) => text(request) === "hang" ? Effect.never : Effect.succeed(request))
      const client = yield* node("k")
      const started = Date.now()
      assert.isTrue(Exit.isFailure(yield* Effect.exit(client.lane.call(server.peer, bytes("hang"), Duration.millis(200)))))
      assert.isBelow(Date.now() - started, 2000)
      // nothing listens on this port: refused, not a wait for the deadline
      const free = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const s = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port
            s.close(() => resolve(port))
          })
        })
      )
      const t0 = Date.now()
      const dead = { nodeId: nodeId(9), address: `127.0.0.1:${free}` }
      assert.isTrue(Exit.isFailure(yield* Effect.exit(client.lane.call(dead, bytes("x"), Duration.seconds(30)))))
      assert.isBelow(Date.now() - t0, 5000)
      // the first connection still works after the timeout
      assert.strictEqual(text(yield* client.lane.call(server.peer, bytes("ok"), second)), "ok")
    }))

  it.scopedLive("an oversize or garbage frame closes that connection; the server goes on serving others", () =>
    Effect.gen(function*() {
      const server = yield* node(undefined)
      yield* server.lane.serve((request) => Effect.succeed(request))
      const closed = yield* Effect.promise(() =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(server.port, "127.0.0.1", () => {
            s.write(Buffer.from([PeerListener.laneMagic, 1]))
          })
          let stage = 0
          s.on("data", () => {
            if (stage++ === 0) s.write(Buffer.alloc(32)) // a proof (no secret on the server)
            else s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0])) // a 4 GiB frame
          })
          s.on("close", () => resolve(true))
          s.on("error", () => {})
        })
      )
      assert.isTrue(closed)
      const client = yield* node(undefined)
      assert.strictEqual(text(yield* client.lane.call(server.peer, bytes("still here"), second)), "still here")
    }))

  it.scopedLive("a peer that accepts the connection but never answers the handshake (paused) fails the call in about a second", () =>
    Effect.gen(function*() {
      const accepted: Array<net.Socket> = []
      const silent = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new Promise<net.Server>((resolve) => {
            const s = net.createServer((socket) => void accepted.push(socket)).listen(0, "127.0.0.1", () => resolve(s))
          })
        ),
        (s) =>
          Effect.promise(() =>
            new Promise<void>((resolve) => {
              s.close(() => resolve())
              for (const socket of accepted) socket.destroy()
            })
          )
      )
      const port = (silent.address() as net.AddressInfo).port
      const client = yield* node("k")
      const t0 = Date.now()
      const exit = yield* Effect.exit(client.lane.call({ nodeId: nodeId(3), address: `127.0.0.1:${port}` }, bytes("x"), Duration.seconds(30)))
      assert.deepStrictEqual(exit, Exit.fail(new PeerUnavailable({ nodeId: nodeId(3) })))
      assert.isBelow(Date.now() - t0, 5000)
    }))
})
