/**
 * A snapshot of one database streamed from a peer (src/replication/Snapshot*.ts): a start with the
 * file's size and the source's log position, the file's bytes in order, an end with its SHA-256.
 * Bytes travel as msgpack binary.
 */
import { Schema } from "effect"
import { NodeId } from "./NodeId.ts"

export class SnapshotRequest extends Schema.Class<SnapshotRequest>("marmot/SnapshotRequest")({
  from: NodeId,
  database: Schema.String
}) {}

export class SnapshotStart extends Schema.TaggedClass<SnapshotStart>()("SnapshotStart", {
  /** Bytes of the file that follows. */
  size: Schema.Number,
  /** The source's commit-log seq the copy includes: the puller's cursor on the source after installing. */
  logSeq: Schema.BigInt
}) {}

export class SnapshotData extends Schema.TaggedClass<SnapshotData>()("SnapshotData", {
  bytes: Schema.Uint8ArrayFromSelf
}) {}

export class SnapshotEnd extends Schema.TaggedClass<SnapshotEnd>()("SnapshotEnd", {
  /** Hex SHA-256 of every byte sent. */
  sha256: Schema.String
}) {}

export const SnapshotChunk = Schema.Union(SnapshotStart, SnapshotData, SnapshotEnd)
export type SnapshotChunk = typeof SnapshotChunk.Type

/** The source cannot make a snapshot of the database (it has none by that name, or the copy failed). */
export class SnapshotUnavailable extends Schema.TaggedError<SnapshotUnavailable>()("SnapshotUnavailable", {
  database: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `no snapshot of ${this.database}: ${this.reason}`
  }
}
