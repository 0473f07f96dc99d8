/** This node's answers to the replication RPCs: the Participant, served by the peer server. */
import { Effect } from "effect"
import { Storage } from "../storage/Storage.ts"
import { LogConsumers } from "./LogConsumers.ts"
import { Participant } from "./Participant.ts"
import { ReplicationRpcs } from "./ReplicationRpcs.ts"
import { snapshotStream } from "./SnapshotSource.ts"

export const layer = ReplicationRpcs.toLayer(Effect.gen(function*() {
  const participant = yield* Participant
  const consumers = yield* LogConsumers
  const storage = yield* Storage
  return ReplicationRpcs.of({
    Prepare: (request) => participant.prepare(request),
    Commit: (request) => participant.commit(request),
    Abort: (request) => participant.abort(request),
    PullLog: (request) =>
      Effect.zipRight(consumers.record(request.from, request.cursors), participant.readLog(request.cursors, request.limit)),
    Snapshot: (request) => snapshotStream(storage, request.database)
  })
}))
