/** This node's answers to the replication RPCs: the Participant, served by the peer server. */
import { Effect } from "effect"
import { Participant } from "./Participant.ts"
import { ReplicationRpcs } from "./ReplicationRpcs.ts"

export const layer = ReplicationRpcs.toLayer(Effect.gen(function*() {
  const participant = yield* Participant
  return ReplicationRpcs.of({
    Prepare: (request) => participant.prepare(request),
    Commit: (request) => participant.commit(request),
    Abort: (request) => participant.abort(request),
    PullLog: (request) => participant.readLog(request.cursors, request.limit)
  })
}))
