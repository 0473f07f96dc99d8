/** The replica's metrics (rendered by its admin port's /metrics). */
import { Metric } from "effect"

export const applied = Metric.counter("marmot_replica_applied_total", {
  description: "Transactions this replica applied from its source's commit logs",
  incremental: true
})

export const behind = Metric.gauge("marmot_replica_behind_transactions", {
  description: "Entries of the source's commit logs not pulled yet when the last round started"
})

export const failovers = Metric.counter("marmot_replica_failovers_total", {
  description: "Times this replica lost its source node and switched to another",
  incremental: true
})
