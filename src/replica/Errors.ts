/** The follower's own failures (process-local). */
import { Data } from "effect"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"

/** No cluster node answered (follow addresses and known nodes): nothing to follow. */
export class NoSource extends Data.TaggedError("NoSource")<{ readonly tried: ReadonlyArray<string>; readonly reason: string }> {
  override get message() {
    return `replica: no cluster node to follow answered (tried ${this.tried.join(", ")}): ${this.reason}`
  }
}

/** A pull from the node followed failed: the replica switches to another node. */
export class SourceLost extends Data.TaggedError("SourceLost")<{ readonly source: NodeId; readonly reason: string }> {
  override get message() {
    return `replica: lost source node ${this.source}: ${this.reason}`
  }
}
