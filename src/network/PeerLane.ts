/**
 * The peer lane: a plain request/answer channel between nodes for the write path's 2PC exchanges,
 * next to the `@effect/rpc` group on the same port (PeerListener.ts tells them apart). An exchange
 * through `@effect/rpc` cost about 2 ms of CPU (fibers, Schema, msgpack per message); the lane moves
 * opaque frames (the hand-written codec of ../replication/ExchangeCodec.ts) with one Effect per
 * request on each side. See DESIGN.md "The peer lane".
 *
 * Connection: the client sends 0xC1 0x01 (magic, version); the server answers a 32-byte nonce; the
 * client answers HMAC-SHA256(cluster secret, nonce); the server checks it in constant time and
 * answers 0x01, or logs the refusal and closes. With no secret configured on the server every client
 * is let in (as the RPC side does). Then frames both ways: u32 length of the rest, u32 request id,
 * u8 status (0 ok, 1 error: the payload is the reason in UTF-8), payload.
 */
import { Context, Duration, Effect, Layer, Option, Redacted, Runtime, type Scope } from "effect"
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import net from "node:net"
import tls from "node:tls"
import { PeerUnavailable } from "../../proto-schemas/src/Errors.ts"
import type { PeerTls as PeerTlsFiles } from "../config/ClusterTls.ts"
import * as PeerTls from "./PeerTls.ts"
import type { Peer } from "./PeerNetwork.ts"
import { parseAddress } from "./PeerNetwork.ts"
import { laneMagic, type PeerListener } from "./PeerListener.ts"
import { SimNetwork } from "./SimNetwork.ts"

const version = 1
const nonceBytes = 32
const okByte = 1
/** Larger frames close the connection (an exchange is bounded by maxSteps and the packet limits). */
export const maxFrameBytes = 256 * 1024 * 1024

/** What answers lane requests on a node; a failure is sent back as an error frame. */
export type LaneHandler = (request: Uint8Array) => Effect.Effect<Uint8Array, LaneRequestError>

/** A request the handler could not answer (undecodable, or refused); the caller sees PeerUnavailable. */
export class LaneRequestError extends Error {
  override readonly name = "LaneRequestError"
}

export class PeerLane extends Context.Tag("marmot/network/PeerLane")<PeerLane, {
  /** One request to `peer` and its answer; no answer in `timeout` (or a broken connection) is PeerUnavailable. */
  readonly call: (peer: Peer, request: Uint8Array, timeout: Duration.Duration) => Effect.Effect<Uint8Array, PeerUnavailable>
  /** Answers this node's lane requests with `handler` while the scope lives. */
  readonly serve: (handler: LaneHandler) => Effect.Effect<void, never, Scope.Scope>
}>() {}

const proofOf = (secret: Option.Option<Redacted.Redacted<string>>, nonce: Uint8Array) =>
  createHmac("sha256", Option.isNone(secret) ? "" : Redacted.value(secret.value)).update(nonce).digest()

// ---------------------------------------------------------------------------------------------
// framing

const header = 9

const frame = (id: number, status: number, payload: Uint8Array): Buffer => {
  const out = Buffer.allocUnsafe(header + payload.length)
  out.writeUInt32LE(5 + payload.length, 0)
  out.writeUInt32LE(id, 4)
  out[8] = status
  out.set(payload, header)
  return out
}

/**
 * Splits a byte stream into frames; `onFrame` gets a view of each payload, valid for good: socket
 * chunks are fresh buffers that nothing reuses, and the codecs copy what they keep.
 */
const framer = (onFrame: (id: number, status: number, payload: Uint8Array) => void, onOversize: () => void) => {
  let buffered: Buffer = Buffer.alloc(0)
  return (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    while (buffered.length >= 4) {
      const length = buffered.readUInt32LE(0)
      if (length < 5 || length > maxFrameBytes) return onOversize()
      if (buffered.length < 4 + length) break
      const id = buffered.readUInt32LE(4)
      const status = buffered[8]!
      const payload = buffered.subarray(header, 4 + length)
      buffered = buffered.subarray(4 + length)
      onFrame(id, status, payload)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the client side: one connection per peer address

type Reply = (error: string | undefined, payload: Uint8Array | undefined) => void

class LaneConnection {
  private readonly pending = new Map<number, Reply>()
  private readonly waiting: Array<Buffer> = []
  private nextId = 1
  private ready = false
  closed = false

  constructor(private readonly socket: net.Socket, secret: Option.Option<Redacted.Redacted<string>>) {
    socket.setNoDelay(true)
    let handshake: Buffer = Buffer.alloc(0)
    const onFrames = framer(
      (id, status, payload) => {
        const reply = this.pending.get(id)
        if (reply === undefined) return
        this.pending.delete(id)
        reply(status === 0 ? undefined : Buffer.from(payload).toString("utf8"), status === 0 ? payload : undefined)
      },
      () => this.close("oversize frame")
    )
    let proofSent = false
    socket.on("data", (chunk: Buffer) => {
      if (this.ready) return onFrames(chunk)
      handshake = Buffer.concat([handshake, chunk])
      if (!proofSent && handshake.length >= nonceBytes) {
        socket.write(proofOf(secret, handshake.subarray(0, nonceBytes)))
        proofSent = true
      }
      if (handshake.length <= nonceBytes) return
      if (handshake[nonceBytes] !== okByte) return this.close("refused by the peer")
      this.ready = true
      socket.setTimeout(0)
      for (const f of this.waiting.splice(0)) socket.write(f)
      const rest = handshake.subarray(nonceBytes + 1)
      if (rest.length > 0) onFrames(rest)
    })
    socket.on("error", (e) => this.close(e.message))
    socket.on("close", () => this.close("connection closed"))
    socket.write(Buffer.from([laneMagic, version]))
  }

  request(payload: Uint8Array, reply: Reply): number {
    if (this.closed) {
      reply("connection closed", undefined)
      return 0
    }
    const id = this.nextId
    this.nextId = this.nextId === 0xffff_ffff ? 1 : this.nextId + 1
    this.pending.set(id, reply)
    const f = frame(id, 0, payload)
    if (this.ready) this.socket.write(f)
    else this.waiting.push(f)
    return id
  }

  forget(id: number) {
    this.pending.delete(id)
  }

  close(reason: string) {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    const replies = [...this.pending.values()]
    this.pending.clear()
    for (const reply of replies) reply(reason, undefined)
  }
}

// ---------------------------------------------------------------------------------------------
// the server side: a lane connection after its magic byte

const serveConnection = (
  socket: net.Socket,
  check: ((proof: Uint8Array, nonce: Uint8Array) => boolean) | undefined,
  answer: (payload: Uint8Array, reply: (status: number, payload: Uint8Array) => void) => void,
  refused: (remote: string, why: string) => void
) => {
  const remote = `${socket.remoteAddress}:${socket.remotePort}`
  const nonce = randomBytes(nonceBytes)
  let stage: "hello" | "proof" | "frames" = "hello"
  let pendingBytes: Buffer = Buffer.alloc(0)
  const onFrames = framer(
    (id, _status, payload) =>
      answer(payload, (status, out) => {
        if (!socket.destroyed) socket.write(frame(id, status, out))
      }),
    () => {
      refused(remote, "oversize frame")
      socket.destroy()
    }
  )
  socket.on("error", () => socket.destroy())
  socket.on("data", (chunk: Buffer) => {
    if (stage === "frames") return onFrames(chunk)
    pendingBytes = Buffer.concat([pendingBytes, chunk])
    if (stage === "hello") {
      if (pendingBytes.length < 2) return
      if (pendingBytes[0] !== laneMagic || pendingBytes[1] !== version) {
        refused(remote, `unknown lane version ${pendingBytes[1]}`)
        return socket.destroy()
      }
      pendingBytes = pendingBytes.subarray(2)
      stage = "proof"
      socket.write(nonce)
    }
    if (stage === "proof") {
      if (pendingBytes.length < 32) return
      if (check !== undefined && !check(pendingBytes.subarray(0, 32), nonce)) {
        refused(remote, "invalid cluster secret")
        return socket.destroy()
      }
      stage = "frames"
      socket.write(Buffer.from([okByte]))
      const rest = pendingBytes.subarray(32)
      pendingBytes = Buffer.alloc(0)
      if (rest.length > 0) onFrames(rest)
    }
  })
}

const reasonOf = (cause: unknown) => cause instanceof Error ? cause.message : String(cause)

/** Runs `handler` for each request in `runtime`, answering with its result or an error frame. */
const answerWith = (runtime: Runtime.Runtime<never>, handler: () => LaneHandler | undefined) =>
(payload: Uint8Array, reply: (status: number, payload: Uint8Array) => void) => {
  const h = handler()
  if (h === undefined) return reply(1, Buffer.from("not serving yet", "utf8"))
  Runtime.runCallback(runtime)(h(payload), {
    onExit: (exit) => {
      if (exit._tag === "Success") return reply(0, exit.value)
      const why = exit.cause._tag === "Fail" ? reasonOf(exit.cause.error) : "the handler failed"
      Runtime.runFork(runtime)(Effect.logWarning(`peer lane request failed: ${why}`, exit.cause))
      reply(1, Buffer.from(why, "utf8"))
    }
  })
}

/**
 * The lane over TCP (TLS when `tls` is given) on the node's peer listener: connections it accepts
 * and connections it dials, one per peer address, redialled after a break.
 */
export const layerSocket = (options: {
  readonly listener: PeerListener
  readonly secret: Option.Option<Redacted.Redacted<string>>
  readonly tls?: PeerTlsFiles | undefined
  readonly openTimeoutMs?: number | undefined
}): Layer.Layer<PeerLane> =>
  Layer.scoped(
    PeerLane,
    Effect.gen(function*() {
      const runtime = yield* Effect.runtime<never>()
      const secret = options.secret
      const expected = Option.isNone(secret) ? undefined : (proof: Uint8Array, nonce: Uint8Array) => timingSafeEqual(proofOf(secret, nonce), proof)
      let handler: LaneHandler | undefined
      const refused = (remote: string, why: string) =>
        Runtime.runFork(runtime)(Effect.logWarning(`peer lane connection refused: ${why}`).pipe(Effect.annotateLogs({ remote })))
      // Accepted connections belong to the listener, which ends them when it closes.
      options.listener.onLane((socket) => serveConnection(socket, expected, answerWith(runtime, () => handler), refused))

      const connections = new Map<string, LaneConnection>()
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const c of connections.values()) c.close("node stopping")
        })
      )
      const openTimeoutMs = options.openTimeoutMs ?? 1000
      const connectionTo = (address: string): LaneConnection | undefined => {
        const known = connections.get(address)
        if (known !== undefined && !known.closed) return known
        const parsed = parseAddress(address)
        if (parsed === undefined) return undefined
        const socket = options.tls === undefined
          ? net.connect({ host: parsed.host, port: parsed.port, noDelay: true })
          : tls.connect({ host: parsed.host, port: parsed.port, cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, minVersion: PeerTls.minVersion })
        // Until the handshake is done: a peer that accepts but never answers (paused) is given up on.
        socket.setTimeout(openTimeoutMs, () => connection.close("no handshake in time"))
        const connection = new LaneConnection(socket, secret)
        connections.set(address, connection)
        return connection
      }

      return PeerLane.of({
        call: (peer, request, timeout) =>
          Effect.async<Uint8Array, PeerUnavailable>((resume) => {
            const connection = connectionTo(peer.address)
            if (connection === undefined) return resume(Effect.fail(new PeerUnavailable({ nodeId: peer.nodeId })))
            // A plain timer: Effect.timeoutFail forks a fiber per call, which cost more than the call.
            const ms = Duration.toMillis(timeout)
            const timer = Number.isFinite(ms)
              ? setTimeout(() => {
                connection.forget(id)
                resume(Effect.fail(new PeerUnavailable({ nodeId: peer.nodeId })))
              }, ms)
              : undefined
            const id = connection.request(request, (error, payload) => {
              clearTimeout(timer)
              resume(error === undefined ? Effect.succeed(payload!) : Effect.zipRight(
                Effect.logDebug(`peer lane call to ${peer.address} failed: ${error}`),
                Effect.fail(new PeerUnavailable({ nodeId: peer.nodeId }))
              ))
            })
            return Effect.sync(() => {
              clearTimeout(timer)
              connection.forget(id)
            })
          }),
        serve: (h) =>
          Effect.acquireRelease(Effect.sync(() => void (handler = h)), () => Effect.sync(() => void (handler = undefined)))
      })
    })
  )

/**
 * The lane through the simulated network: the same handlers and codec, messages subject to the
 * network's delays, loss, partitions and crashes. The cluster secret is checked on every request.
 */
export const layerSim = (address: string, secret: Option.Option<Redacted.Redacted<string>>): Layer.Layer<PeerLane, never, SimNetwork> =>
  Layer.effect(
    PeerLane,
    Effect.gen(function*() {
      const network = yield* SimNetwork
      const credential = Option.isNone(secret) ? "" : Redacted.value(secret.value)
      return PeerLane.of({
        call: (peer, request, timeout) =>
          network.laneCall(address, peer.address, request, credential).pipe(
            Effect.mapError(() => new PeerUnavailable({ nodeId: peer.nodeId })),
            Effect.timeoutFail({ duration: timeout, onTimeout: () => new PeerUnavailable({ nodeId: peer.nodeId }) })
          ),
        serve: (handler) =>
          network.laneServe(address, (request, presented) =>
            Option.isSome(secret) && presented !== credential
              ? Effect.zipRight(
                Effect.logWarning("peer lane request refused: invalid cluster secret"),
                Effect.fail(new LaneRequestError("invalid cluster secret"))
              )
              : handler(request))
      })
    })
  )

