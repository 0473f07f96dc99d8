/**
 * A snapshot of one database fetched from a peer (src/replication/Snapshot*.ts): the puller asks
 * the source to open one (a consistent copy of the file, kept while it is read), then reads it in
 * chunks by offset, several at a time; each chunk carries its SHA-256, so a lost or damaged chunk
 * costs one re-read, not the whole transfer. Bytes travel as msgpack binary.
 */
import { Schema } from "effect"
import { NodeId } from "./NodeId.ts"

export class SnapshotRequest extends Schema.Class<SnapshotRequest>("marmot/SnapshotRequest")({
  from: NodeId,
  database: Schema.String
}) {}

/** An opened snapshot: a copy of the database file on the source, read by `exportId`. */
export class SnapshotOffer extends Schema.Class<SnapshotOffer>("marmot/SnapshotOffer")({
  exportId: Schema.String,
  /** Bytes of the file. */
  size: Schema.Number,
  /** The source's commit-log seq the copy includes: the puller's cursor on the source after installing. */
  logSeq: Schema.BigInt
}) {}

export class SnapshotReadRequest extends Schema.Class<SnapshotReadRequest>("marmot/SnapshotReadRequest")({
  exportId: Schema.String,
  offset: Schema.NonNegativeInt,
  length: Schema.Int.pipe(Schema.between(1, 16 << 20))
}) {}

export class SnapshotBytes extends Schema.Class<SnapshotBytes>("marmot/SnapshotBytes")({
  bytes: Schema.Uint8ArrayFromSelf,
  /** Hex SHA-256 of `bytes`. */
  sha256: Schema.String
}) {}

export class SnapshotCloseRequest extends Schema.Class<SnapshotCloseRequest>("marmot/SnapshotCloseRequest")({
  exportId: Schema.String
}) {}

/**
 * The source cannot make a snapshot of the database (it has none by that name, or the copy failed),
 * or no longer holds the one asked for (closed, or expired while nobody read it).
 */
export class SnapshotUnavailable extends Schema.TaggedError<SnapshotUnavailable>()("SnapshotUnavailable", {
  database: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `no snapshot of ${this.database}: ${this.reason}`
  }
}
