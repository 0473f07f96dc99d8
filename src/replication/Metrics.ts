/**
 * The replication metrics (Effect's metric registry; the admin API renders them for Prometheus).
 * Names follow Prometheus conventions; labels are few and bounded (levels, outcomes, peer ids).
 */
import { Metric, MetricBoundaries } from "effect"

/** Coordinated writes by consistency level and outcome. */
export const writes = Metric.counter("marmot_writes_total", {
  description: "Writes this node coordinated, by consistency level and outcome",
  incremental: true
})

/** Outcome label values of `writes`. */
export type WriteOutcome = "committed" | "conflict" | "quorum_failed" | "rejected" | "apply_failed"

/** Conflicts this node's participant voted, by reason (intent held, stale read). */
export const conflicts = Metric.counter("marmot_conflicts_total", {
  description: "PREPAREs this node refused with a conflict, by reason",
  incremental: true
})

/** From the coordinator's start to the client's answer. */
export const writeLatency = Metric.histogram(
  "marmot_write_latency_ms",
  MetricBoundaries.exponential({ start: 0.25, factor: 2, count: 16 }),
  "Two-phase commit latency on the coordinator, ms"
)

/** Transactions anti-entropy applied that this node had missed. */
export const antiEntropyApplied = Metric.counter("marmot_anti_entropy_applied_total", {
  description: "Transactions applied from peers' commit logs that this node had missed",
  incremental: true
})

/** How far behind each peer's commit log this node is: entries not pulled yet. */
export const peerLagTransactions = Metric.gauge("marmot_peer_lag_transactions", {
  description: "Entries of a peer's commit log this node has not pulled yet"
})

/** Age of the newest entry pulled from a peer when it was applied here (ms). */
export const peerLagMs = Metric.gauge("marmot_peer_lag_ms", {
  description: "How old the last entry pulled from a peer was when applied here, ms"
})

/** Replicated transactions this node could not apply (its SQLite refused them) and skipped. */
export const applyFailures = Metric.counter("marmot_apply_failures_total", {
  description: "Replicated transactions this node could not apply and skipped",
  incremental: true
})

/** What the commit-log GC deleted (LogGc.ts). */
export const gcLogEntries = Metric.counter("marmot_gc_log_entries_deleted_total", {
  description: "Commit-log entries deleted by GC",
  incremental: true
})
export const gcTombstones = Metric.counter("marmot_gc_tombstones_deleted_total", {
  description: "Row tombstones deleted by GC",
  incremental: true
})
export const gcAppliedMarkers = Metric.counter("marmot_gc_applied_markers_deleted_total", {
  description: "Applied-transaction markers deleted by GC",
  incremental: true
})

/** Snapshots this node restored, by outcome (installed, failed), and their bytes (Snapshots.ts). */
export const snapshots = Metric.counter("marmot_snapshots_total", {
  description: "Snapshot restores on this node, by outcome",
  incremental: true
})
export const snapshotBytes = Metric.counter("marmot_snapshot_bytes_total", {
  description: "Bytes of snapshots this node installed",
  incremental: true
})

/** Snapshot copies this node took to serve pullers, and streams that shared one already taken (SnapshotCache.ts). */
export const snapshotExports = Metric.counter("marmot_snapshot_exports_total", {
  description: "Snapshot copies this node took to serve peers and replicas",
  incremental: true
})
export const snapshotExportsShared = Metric.counter("marmot_snapshot_exports_shared_total", {
  description: "Snapshot streams this node served from a copy already taken for another puller",
  incremental: true
})
