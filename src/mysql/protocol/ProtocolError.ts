import { Data } from "effect"

/**
 * A malformed, truncated or oversized packet. Decoders return this value instead of throwing, so
 * the server shell can answer with an ERR packet (or close the connection) without try/catch on
 * the hot path. `tooLarge` is set when a packet exceeded the reader's limit, so the shell can
 * answer ER_NET_PACKET_TOO_LARGE (1153) before closing.
 */
export class ProtocolError extends Data.TaggedError("ProtocolError")<{
  readonly message: string
  readonly tooLarge?: boolean
}> {}

export const isProtocolError = (u: unknown): u is ProtocolError => u instanceof ProtocolError
