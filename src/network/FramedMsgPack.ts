/**
 * The peer wire format: @effect/rpc's msgpack, each message preceded by its length (4 bytes,
 * big-endian). The library's own msgpack framing re-joins and re-parses everything buffered on
 * every socket read until a message is complete, so a message of n bytes costs O(n² / read size):
 * a 1 MB snapshot chunk arriving in 64 KB reads was copied about 16 times, and decoding dominated
 * a bootstrap. Knowing the length, the pieces of a message are kept as they arrive and joined once.
 */
import { RpcSerialization } from "@effect/rpc"
import { Layer } from "effect"

const headerBytes = 4
/** A longer frame is a broken or hostile stream: the connection fails. */
const maxFrameBytes = 256 << 20

/** Buffer copies: `Uint8Array.prototype.set` from a Buffer measured 9× slower than `Buffer.copy`. */
const join = (pieces: ReadonlyArray<Uint8Array>, total: number): Uint8Array =>
  pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, total)

/** Header plus body of the frame whose header starts at `at`. */
const frameAt = (buffer: Uint8Array, at: number): number => {
  const length = new DataView(buffer.buffer, buffer.byteOffset + at, headerBytes).getUint32(0)
  if (length > maxFrameBytes) throw new Error(`peer message of ${length} bytes exceeds ${maxFrameBytes}`)
  return headerBytes + length
}

export const framedMsgPack: RpcSerialization.RpcSerialization["Type"] = RpcSerialization.RpcSerialization.of({
  contentType: "application/x-marmot-msgpack-framed",
  includesFraming: true,
  unsafeMake() {
    const body = RpcSerialization.msgPack.unsafeMake()
    const encoder = new TextEncoder()
    let pending: Array<Uint8Array> = []
    let pendingBytes = 0
    /** Size of the frame at the front of `pending`, once its header is in. */
    let frameBytes: number | undefined

    return {
      decode(bytes) {
        const piece = typeof bytes === "string" ? encoder.encode(bytes) : bytes
        pending.push(piece)
        pendingBytes += piece.byteLength
        if (pendingBytes < headerBytes) return []
        frameBytes ??= frameAt(pending[0]!.byteLength >= headerBytes ? pending[0]! : join(pending, pendingBytes), 0)
        if (pendingBytes < frameBytes) return []
        const buffered = join(pending, pendingBytes)
        const messages: Array<unknown> = []
        let at = 0
        while (frameBytes !== undefined && buffered.byteLength - at >= frameBytes) {
          messages.push(...body.decode(buffered.subarray(at + headerBytes, at + frameBytes)))
          at += frameBytes
          frameBytes = buffered.byteLength - at >= headerBytes ? frameAt(buffered, at) : undefined
        }
        pending = at === buffered.byteLength ? [] : [buffered.subarray(at)]
        pendingBytes = buffered.byteLength - at
        return messages
      },
      encode(message) {
        const packed = body.encode(message) as Uint8Array
        const framed = Buffer.allocUnsafe(headerBytes + packed.byteLength)
        framed.writeUInt32BE(packed.byteLength, 0)
        Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength).copy(framed, headerBytes)
        return framed
      }
    }
  }
})

export const layerFramedMsgPack = Layer.succeed(RpcSerialization.RpcSerialization, framedMsgPack)
