/**
 * The benchmark matrix: which targets and workloads there are, what one run records, and which
 * target each one is compared with.
 */
import type { RowCheck } from "./Endpoints.ts"
import type { LagReport } from "./LagProbe.ts"
import type { StepResult, SysbenchRun } from "./SysbenchRun.ts"

export const WORKLOADS = ["point_select", "read_only", "read_write", "update_index", "insert"] as const
export type Workload = (typeof WORKLOADS)[number]

export const TARGETS = ["marmot", "mariadb", "marmot-one", "marmot-quorum", "marmot-all", "galera"] as const
export type TargetId = (typeof TARGETS)[number]

export interface TargetInfo {
  /** Short name for tables and chart bars. */
  readonly label: string
  readonly nodes: 1 | 3
  readonly color: string
  /** What it is compared with (ratios); itself for the baselines. */
  readonly baseline: TargetId
  /** marmot cluster targets: the write consistency level. */
  readonly level?: "ONE" | "QUORUM" | "ALL"
}

export const TARGET_INFO: Record<TargetId, TargetInfo> = {
  marmot: { label: "marmot 1", nodes: 1, color: "#2b7bb9", baseline: "mariadb" },
  mariadb: { label: "MariaDB 1", nodes: 1, color: "#999999", baseline: "mariadb" },
  "marmot-one": { label: "ONE", nodes: 3, color: "#6cb8e6", baseline: "galera", level: "ONE" },
  "marmot-quorum": { label: "QUORUM", nodes: 3, color: "#1f5f99", baseline: "galera", level: "QUORUM" },
  "marmot-all": { label: "ALL", nodes: 3, color: "#0b2e55", baseline: "galera", level: "ALL" },
  galera: { label: "Galera 3", nodes: 3, color: "#d98c2b", baseline: "galera" }
}

/** The sysbench script of a workload. */
export const script = (w: Workload) => `oltp_${w}`

/** One sysbench run of one workload against one target. */
export interface Cell {
  readonly target: TargetId
  readonly workload: Workload
  readonly run?: SysbenchRun
  /** Cluster targets: visibility lag (node 1 -> node 3) sampled during the run. */
  readonly lag?: LagReport
  /** 1-minute load average during the run. */
  readonly load1m?: { readonly during1mMean: number; readonly during1mMax: number }
  /** Established server-side connections per node at the busiest sample. */
  readonly connectionsPerPort?: ReadonlyArray<number>
  readonly error?: string
}

/** Everything about one target in the run besides its cells. */
export interface TargetRun {
  readonly target: TargetId
  readonly engine?: string
  readonly startupS?: number
  readonly prepare?: StepResult
  /** Cluster targets: visibility lag with no other load, before the workloads. */
  readonly idleLag?: LagReport
  /** Cluster targets: row counts on the three nodes after the last workload. */
  readonly rows?: RowCheck
  readonly skipped?: string
  readonly error?: string
  /** marmot: WARN/ERROR lines each node logged while it was measured. */
  readonly nodeWarnings?: ReadonlyArray<{ readonly node: number; readonly count: number; readonly samples: ReadonlyArray<string> }>
}

export interface Machine {
  readonly cpus: number
  readonly cpuModel: string
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  readonly sysbench: string
  readonly mariadb: string
  readonly galera: string
}

export interface MatrixResults {
  readonly startedAt: string
  readonly finishedAt: string
  /** The command line that produced it. */
  readonly command: string
  readonly config: {
    readonly time: number
    readonly threads: number
    readonly tables: number
    readonly tableSize: number
    readonly workloads: ReadonlyArray<Workload>
    readonly targets: ReadonlyArray<TargetId>
    readonly marmotWorkersSingle: number
    readonly marmotWorkersPerClusterNode: number
  }
  readonly machine: Machine
  readonly loadavg: {
    readonly before: ReadonlyArray<number>
    readonly after: ReadonlyArray<number>
    /** Mean of the per-run 1-minute means. */
    readonly duringMean: number
    readonly duringMax: number
  }
  readonly probe: string
  readonly targets: ReadonlyArray<TargetRun>
  readonly cells: ReadonlyArray<Cell>
}

export const cellOf = (r: Pick<MatrixResults, "cells">, target: TargetId, workload: Workload) =>
  r.cells.find((c) => c.target === target && c.workload === workload)

/** The throughput that counts for a cell: transactions/s when it ran cleanly, else undefined. */
export const tpsOf = (c: Cell | undefined) => (c?.run?.ok ? c.run.report?.tps : undefined)
