/**
 * Two-phase commit of one captured transaction from this node to the cluster (marmot research
 * §4.2): PREPARE to this node and every ALIVE member in parallel, count the votes against the
 * membership (ONE = 1, QUORUM = majority of every non-REMOVED member, ALL = all of them), decide
 * the commit timestamp after the votes (later than every voter's clock), COMMIT, and answer once
 * this node and enough others have applied it. Stragglers finish in the background; a member that
 * missed the transaction gets it from anti-entropy. See DESIGN.md.
 */
import { Context, Data, Deferred, Duration, Effect, Either, Exit, Layer, Metric } from "effect"
import * as HlcMath from "../../proto-schemas/src/Hlc.ts"
import type { Hlc } from "../../proto-schemas/src/Hlc.ts"
import type { NodeId } from "../../proto-schemas/src/NodeId.ts"
import type { RowChange } from "../../proto-schemas/src/RowChange.ts"
import type { MemberState } from "../../proto-schemas/src/Gossip.ts"
import {
  AbortRequest,
  CommitRequest,
  type Conflict,
  type ConsistencyLevel,
  PrepareRequest,
  type PrepareVote,
  txnIdOf
} from "../../proto-schemas/src/Transaction.ts"
import { HlcClock } from "../clock/HlcClock.ts"
import { Membership } from "../membership/Membership.ts"
import type { PeerUnavailable } from "../../proto-schemas/src/Errors.ts"
import { AbortStep, CommitStep, PrepareStep, type Step, type StepOutcome } from "../../proto-schemas/src/Exchange.ts"
import { PeerLane } from "../network/PeerLane.ts"
import { annotateWhen, spanWhen } from "../telemetry/Telemetry.ts"
import { kindDatabase } from "./IntentKey.ts"
import { makePeerExchange } from "./PeerExchange.ts"
import * as Metrics from "./Metrics.ts"
import * as Parallel from "./Parallel.ts"
import { Participant } from "./Participant.ts"

/** What a worker hands over: the row images of one transaction on one database, or a schema change. */
export interface WriteRequest {
  readonly database: string
  readonly changes: ReadonlyArray<RowChange>
  readonly ddl?: ReadonlyArray<string> | undefined
  readonly databaseOp?: "create" | "drop" | undefined
  /** Keys to reserve without a change (tables a DDL statement alters, the database itself). */
  readonly locks?: ReadonlyArray<Uint8Array> | undefined
  readonly consistency: ConsistencyLevel
  /** The database's schema version the changes were built against (SchemaVersion.ts); absent: unchecked. */
  readonly schemaVersion?: number | undefined
}

export interface WriteCommitted {
  readonly txnId: string
  readonly commitHlc: Hlc
  /** Nodes that had applied it when the answer was given (this one included). */
  readonly acks: number
}

/** Another transaction holds a row, or the row changed since it was read: MySQL 1213. */
export class WriteConflict extends Data.TaggedError("WriteConflict")<{
  readonly reason: "intent" | "stale" | "schema"
  /** The conflict was on this database's DDL lock, held by this transaction. */
  readonly ddlLock?: { readonly database: string; readonly holder: string } | undefined
}> {
  override get message() {
    const deadlock = "Deadlock found when trying to get lock; try restarting transaction"
    return this.ddlLock !== undefined
      ? `${deadlock} (the DDL lock of database '${this.ddlLock.database}' is held by transaction ${this.ddlLock.holder})`
      : this.reason === "schema"
      ? `${deadlock} (the schema of the database changed since the transaction read it)`
      : this.reason === "stale"
      ? `${deadlock} (a row changed on another node since it was read)`
      : `${deadlock} (a row is being written by another transaction)`
  }
}

/** A participant's Conflict vote as the coordinator's error. */
const conflictError = (vote: Conflict, database: string): WriteConflict =>
  new WriteConflict({
    reason: vote.reason,
    ...(vote.reason === "intent" && vote.key[0] === kindDatabase ? { ddlLock: { database, holder: vote.holder } } : {})
  })

export class QuorumNotReached extends Data.TaggedError("QuorumNotReached")<{
  readonly phase: "prepare" | "commit"
  readonly level: ConsistencyLevel
  readonly reached: number
  readonly required: number
  readonly total: number
}> {
  override get message() {
    return this.phase === "prepare"
      ? `quorum not achieved: ${this.reached} of ${this.total} nodes prepared, ${this.level} needs ${this.required}; nothing was written`
      : `committed on ${this.reached} of ${this.total} nodes, ${this.level} needs ${this.required}; the other nodes catch up when they are reachable`
  }
}

/** A participant refused deterministically (unknown database, ...): its MySQL error. */
export class WriteRejected extends Data.TaggedError("WriteRejected")<{
  readonly code: number
  readonly sqlState: string
  readonly message: string
}> {}

/** This node could not apply what it had voted for. */
export class LocalApplyFailed extends Data.TaggedError("LocalApplyFailed")<{ readonly reason: string }> {
  override get message() {
    return `the transaction could not be applied here: ${this.reason}`
  }
}

export type WriteError = WriteConflict | QuorumNotReached | WriteRejected | LocalApplyFailed

/** The MySQL error a client gets for each failure (mapped once, here). */
export const mysqlErrorOf = (e: WriteError): { readonly code: number; readonly sqlState: string; readonly message: string } => {
  switch (e._tag) {
    case "WriteConflict":
      return { code: 1213, sqlState: "40001", message: e.message }
    case "WriteRejected":
      return { code: e.code, sqlState: e.sqlState, message: e.message }
    case "QuorumNotReached":
      return { code: 1105, sqlState: "HY000", message: e.message }
    case "LocalApplyFailed":
      return { code: 1105, sqlState: "HY000", message: e.message }
  }
}

/** How many nodes must prepare and apply a write at `level` in a membership of `total`. */
export const requiredAcks = (level: ConsistencyLevel, total: number): number =>
  level === "ONE" ? 1 : level === "ALL" ? total : Math.floor(total / 2) + 1

export interface CoordinatorSettings {
  readonly nodeId: NodeId
  /** This node's peer address and its seeds: an unmet seed counts in the quorum denominator. */
  readonly advertiseAddress: string
  readonly seedNodes: ReadonlyArray<string>
  /** Deadline of each PREPARE and COMMIT call to a peer. */
  readonly writeTimeoutMs: number
  /** Participants drop a silent transaction's intents after this long (`heartbeat_timeout_seconds`). */
  readonly heartbeatTimeoutMs: number
  /** Spans for the write and its two phases, and traced PREPARE/COMMIT calls (`[telemetry] enabled`). */
  readonly tracing?: boolean | undefined
}

export class CoordinatorConfig extends Context.Tag("marmot/replication/CoordinatorConfig")<
  CoordinatorConfig,
  CoordinatorSettings
>() {}

type Vote = { readonly nodeId: NodeId; readonly vote: PrepareVote | undefined }

/** The latest row version a write was built on (its changes' base stamps), if any. */
const latestBase = (changes: ReadonlyArray<RowChange>): Hlc | undefined => {
  let latest: { stamp: bigint; nodeId: number } | undefined
  for (const { baseStamp } of changes) {
    if (baseStamp === undefined || baseStamp.stamp === 0n) continue
    if (latest === undefined || HlcMath.compareStamps(baseStamp.stamp, baseStamp.nodeId, latest.stamp, latest.nodeId) > 0) latest = baseStamp
  }
  return latest === undefined ? undefined : HlcMath.fromStamp(latest.stamp, latest.nodeId)
}

export class WriteCoordinator extends Context.Tag("marmot/replication/WriteCoordinator")<WriteCoordinator, {
  readonly write: (request: WriteRequest) => Effect.Effect<WriteCommitted, WriteError>
}>() {
  static readonly make = Effect.gen(function*() {
    const config = yield* CoordinatorConfig
    const clock = yield* HlcClock
    const membership = yield* Membership
    const participant = yield* Participant
    const lane = yield* PeerLane
    const traced = spanWhen(config.tracing === true)
    const exchange = yield* makePeerExchange(lane, { timeout: Duration.millis(config.writeTimeoutMs), tracing: config.tracing === true })
    const self = config.nodeId
    /**
     * A step whose outcome `settle` gets, without waiting for it. Traced, the step's client span needs
     * a fiber under the caller's span; untraced, none is forked (a fork per step cost more than it).
     */
    const dispatch = (member: MemberState, step: Step, settle: (outcome: StepOutcome | PeerUnavailable) => void) =>
      config.tracing === true
        ? Effect.asVoid(Effect.forkDaemon(Effect.flatMap(Effect.either(exchange.send(member, step)), (e) => Effect.sync(() => settle(Either.merge(e))))))
        : Effect.sync(() => exchange.submit(member, step, settle))

    const abortEverywhere = (txnId: string, prepared: ReadonlyArray<Vote>) =>
      Effect.gen(function*() {
        const request = new AbortRequest({ txnId })
        yield* participant.abort(request)
        for (const { nodeId } of prepared) {
          if (nodeId === self) continue
          const member = (yield* membership.members).find((m) => m.nodeId === nodeId)
          if (member === undefined) continue
          exchange.submit(member, new AbortStep({ request }, true))
        }
      })

    /**
     * The quorum denominator: every non-REMOVED member, plus each seed not known as a member yet.
     * A node that has not met its seeds (just started, or cut off before it ever joined) must not
     * count itself as the whole cluster: two such nodes would each acknowledge QUORUM writes.
     */
    const totalMembership = Effect.gen(function*() {
      const members = yield* membership.members
      const known = new Set(members.map((m) => m.address))
      const unknownSeeds = new Set(config.seedNodes.filter((a) => a !== config.advertiseAddress && !known.has(a)))
      return (yield* membership.totalMembership) + unknownSeeds.size
    })

    const write = (request: WriteRequest) =>
      Effect.gen(function*() {
        const start = yield* clock.now
        const txnId = txnIdOf(start)
        yield* annotateWhen(config.tracing === true)("marmot.txn_id", txnId)
        const total = yield* totalMembership
        const required = requiredAcks(request.consistency, total)
        const targets = (yield* membership.alive).filter((m) => m.nodeId !== self)
        const prepare = new PrepareRequest({
          txnId,
          coordinator: self,
          startHlc: start,
          database: request.database,
          ...(request.schemaVersion === undefined ? {} : { schemaVersion: request.schemaVersion }),
          changes: request.changes,
          consistency: request.consistency,
          ...(request.ddl === undefined ? {} : { ddl: request.ddl }),
          ...(request.databaseOp === undefined ? {} : { databaseOp: request.databaseOp }),
          ...(request.locks === undefined ? {} : { locks: request.locks })
        }, true) // our own worker built the changes; peers validate what they decode

        // This node's own COMMIT goes through its participant like any other: it applies only while
        // the transaction still holds its intents there (a coordinator paused past the heartbeat
        // timeout must not apply a write whose rows another transaction has since taken).
        const commitLocally = (commitHlc: Hlc) =>
          participant.commit(new CommitRequest({ txnId, commitHlc, database: request.database }, true)).pipe(
            Effect.asVoid,
            Effect.catchAll((e) => Effect.fail(new LocalApplyFailed({ reason: e.message })))
          )
        /**
         * The commit timestamp: later than every voter's clock (so it follows every write they saw)
         * and than every row version the write was built on (so last-write-wins keeps it over them).
         * A clock that may not move that far (a peer or a row stamped more than max_clock_drift_ms
         * ahead) fails the write: committing under an earlier stamp would silently lose it.
         */
        const decideCommitHlc = (voters: ReadonlyArray<Vote>) =>
          Effect.gen(function*() {
            for (const v of voters) if (v.vote?._tag === "Prepared") yield* clock.observe(v.vote.hlc)
            const base = latestBase(request.changes)
            if (base !== undefined) yield* clock.observe(base)
            return yield* clock.now
          }).pipe(
            Effect.mapError((e) =>
              new WriteRejected({ code: 1105, sqlState: "HY000", message: `clock skew: ${e.message}; nothing was written` })
            )
          )
        const startedMs = yield* Effect.clockWith((c) => c.currentTimeMillis)
        /**
         * Past 3/4 of the heartbeat timeout since PREPARE, participants may be about to drop this
         * transaction's intents and grant its rows to another one: abort (the client retries)
         * rather than COMMIT a write whose rows may no longer be its own.
         */
        const tooLate = Effect.map(Effect.clockWith((c) => c.currentTimeMillis), (now) => now - startedMs > config.heartbeatTimeoutMs * 0.75)
        const prepareStep = new PrepareStep({ request: prepare }, true)
        const prepareOn = (member: MemberState) =>
          exchange.send(member, prepareStep).pipe(
            Effect.flatMap((outcome) =>
              outcome._tag === "Prepared" || outcome._tag === "Conflict" || outcome._tag === "Rejected"
                ? Effect.succeed<Vote>({ nodeId: member.nodeId, vote: outcome })
                : Effect.fail(outcome)
            ),
            Effect.catchAll((e) =>
              Effect.as(
                Effect.logDebug(`prepare ${txnId} on node ${member.nodeId}: ${e._tag === "Acked" ? "answered Acked" : e.message}`),
                { nodeId: member.nodeId, vote: undefined } as Vote
              )
            )
          )

        if (request.consistency === "ONE") {
          // ONE: this node alone decides. The others get the write in the background (a refusal
          // there is settled by last-write-wins when anti-entropy brings it).
          const local = yield* participant.prepare(prepare).pipe(Effect.orDie)
          if (local._tag === "Conflict") return yield* Effect.fail(conflictError(local, request.database))
          if (local._tag === "Rejected") {
            return yield* Effect.fail(new WriteRejected({ code: local.code, sqlState: local.sqlState, message: local.message }))
          }
          if (yield* tooLate) {
            yield* participant.abort(new AbortRequest({ txnId }))
            return yield* Effect.fail(new WriteConflict({ reason: "intent" }))
          }
          const commitHlc = yield* decideCommitHlc([]).pipe(Effect.tapError(() => participant.abort(new AbortRequest({ txnId }))))
          yield* commitLocally(commitHlc)
          const commit = new CommitStep({ request: new CommitRequest({ txnId, commitHlc, database: request.database }, true) }, true)
          for (const member of targets) {
            exchange.submit(member, prepareStep, (vote) => {
              if (vote._tag === "Prepared") exchange.submit(member, commit)
              else if (vote._tag === "Conflict" || vote._tag === "Rejected") {
                exchange.submit(member, new AbortStep({ request: new AbortRequest({ txnId }, true) }, true))
              }
            })
          }
          return { txnId, commitHlc, acks: 1 } satisfies WriteCommitted
        }

        const [localVote, ...remote] = yield* Parallel.all<Vote, never>([
          Effect.map(Effect.orDie(participant.prepare(prepare)), (vote) => ({ nodeId: self, vote })),
          ...targets.map(prepareOn)
        ]).pipe(traced("coordinator.prepare", { "marmot.peers": targets.length }))
        const local = localVote!.vote!
        const votes: Array<Vote> = [localVote!, ...remote]
        const prepared = votes.filter((v) => v.vote?._tag === "Prepared")

        const conflict = votes.find((v) => v.vote?._tag === "Conflict")
        if (local._tag !== "Prepared" || conflict !== undefined || prepared.length < required) {
          yield* abortEverywhere(txnId, prepared)
          if (conflict?.vote?._tag === "Conflict") return yield* Effect.fail(conflictError(conflict.vote, request.database))
          // A refusal counts only when this node refused, or when without the refusers no quorum is left
          // (a member still catching up may not know the database yet; it gets the write later).
          const rejected = local._tag === "Rejected" ? local : votes.find((v) => v.vote?._tag === "Rejected")?.vote
          if (rejected?._tag === "Rejected") {
            const { code, message, sqlState } = rejected
            return yield* Effect.fail(new WriteRejected({ code, sqlState, message }))
          }
          return yield* Effect.fail(
            new QuorumNotReached({ phase: "prepare", level: request.consistency, reached: prepared.length, required, total })
          )
        }

        if (yield* tooLate) {
          yield* abortEverywhere(txnId, prepared)
          return yield* Effect.fail(new WriteConflict({ reason: "intent" }))
        }
        const commitHlc = yield* decideCommitHlc(prepared).pipe(Effect.tapError(() => abortEverywhere(txnId, prepared)))
        const commit = new CommitStep({ request: new CommitRequest({ txnId, commitHlc, database: request.database }, true) }, true)

        const remoteNeeded = required - 1
        const remotePrepared = prepared.filter((v) => v.nodeId !== self)
        const remoteAcks = yield* Effect.gen(function*() {
          const enough = yield* Deferred.make<number>()
          let acks = 0
          let settled = 0
          const members = yield* membership.members
          for (const { nodeId } of remotePrepared) {
            const member = members.find((m) => m.nodeId === nodeId)!
            // Acked: applied there (NotPrepared, ApplyFailed or no answer: it did not).
            yield* dispatch(member, commit, (outcome) => {
              settled++
              if (outcome._tag === "Acked") acks++
              if (acks >= remoteNeeded || settled === remotePrepared.length) Deferred.unsafeDone(enough, Exit.succeed(acks))
            })
          }
          if (remotePrepared.length === 0 || remoteNeeded <= 0) Deferred.unsafeDone(enough, Exit.succeed(acks))

          yield* commitLocally(commitHlc)
          return yield* Deferred.await(enough)
        }).pipe(traced("coordinator.commit", { "marmot.peers": remotePrepared.length }))
        if (remoteAcks < remoteNeeded) {
          return yield* Effect.fail(
            new QuorumNotReached({ phase: "commit", level: request.consistency, reached: remoteAcks + 1, required, total })
          )
        }
        return { txnId, commitHlc, acks: remoteAcks + 1 } satisfies WriteCommitted
      }).pipe(Effect.annotateLogs({ subsystem: "coordinator" }))

    const outcomeOf = (e: WriteError): Metrics.WriteOutcome =>
      e._tag === "WriteConflict" ? "conflict"
      : e._tag === "QuorumNotReached" ? "quorum_failed"
      : e._tag === "WriteRejected" ? "rejected"
      : "apply_failed"

    const measured = (request: WriteRequest) =>
      Effect.gen(function*() {
        const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const exit = yield* Effect.exit(write(request))
        const outcome: Metrics.WriteOutcome = Exit.isSuccess(exit)
          ? "committed"
          : exit.cause._tag === "Fail" ? outcomeOf(exit.cause.error) : "apply_failed"
        yield* Metric.increment(Metric.tagged(Metric.tagged(Metrics.writes, "level", request.consistency), "outcome", outcome))
        yield* Metric.update(Metrics.writeLatency, (yield* Effect.clockWith((c) => c.currentTimeMillis)) - started)
        return yield* exit
      })

    const tracedWrite = (request: WriteRequest) =>
      measured(request).pipe(traced("coordinator.write", {
        "marmot.node_id": self,
        "db.name": request.database,
        "marmot.consistency": request.consistency,
        "marmot.rows": request.changes.length
      }))

    return WriteCoordinator.of({ write: tracedWrite })
  })

  static readonly layer = Layer.scoped(WriteCoordinator, WriteCoordinator.make)
}
