/** The command line of `npm run bench:matrix`. */
import { parseArgs } from "node:util"
import { TARGETS, WORKLOADS, type TargetId, type Workload } from "./MatrixModel.ts"

export const USAGE = `usage: npm run bench:matrix -- [--time S] [--threads N] [--only a,b,...] [--tables N] [--table-size N]
         [--idle-samples N] [--no-docs] [--from bench/results/matrix-<ts>.json]
  --time S          seconds per sysbench run (default 10: the full matrix takes about 12 minutes)
  --threads N       sysbench threads (default 6; spread over the three nodes on the clusters)
  --only LIST       workloads and/or targets to run (default all)
                    workloads: ${WORKLOADS.join(", ")}
                    targets:   ${TARGETS.join(", ")}
  --tables N        sysbench tables (default 4)     --table-size N  rows per table (default 1000)
  --idle-samples N  lag probe samples with the cluster idle (default 50)
  --no-docs         do not rewrite docs/BENCHMARKS.md and docs/bench/*.svg
  --from FILE       measure nothing: print and render the docs from an earlier run's JSON
  GALERA_TOOLS      dir with galera-up.sh / galera-down.sh (default /work/shared/tools/galera)`

export interface Options {
  readonly time: number
  readonly threads: number
  readonly tables: number
  readonly tableSize: number
  readonly idleSamples: number
  readonly workloads: ReadonlyArray<Workload>
  readonly targets: ReadonlyArray<TargetId>
  readonly docs: boolean
  /** Render from this earlier results file instead of measuring. */
  readonly from?: string
}

export class UsageError extends Error {}

export function parseOptions(argv: ReadonlyArray<string>): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      time: { type: "string" },
      threads: { type: "string" },
      only: { type: "string" },
      tables: { type: "string" },
      "table-size": { type: "string" },
      "idle-samples": { type: "string" },
      "no-docs": { type: "boolean" },
      from: { type: "string" }
    },
    strict: true
  })
  const positive = (key: string, v: string | undefined, d: number) => {
    if (v === undefined) return d
    const n = Number(v)
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${key} must be a positive integer, got '${v}'`)
    return n
  }
  const only = (values.only ?? "").split(",").map((s) => s.trim().replace(/^oltp_/, "")).filter((s) => s !== "")
  for (const o of only) {
    if (!(WORKLOADS as ReadonlyArray<string>).includes(o) && !(TARGETS as ReadonlyArray<string>).includes(o)) {
      throw new UsageError(`--only: '${o}' is neither a workload (${WORKLOADS.join(", ")}) nor a target (${TARGETS.join(", ")})`)
    }
  }
  const workloads = WORKLOADS.filter((w) => only.includes(w))
  const targets = TARGETS.filter((t) => only.includes(t))
  return {
    time: positive("time", values.time, 10),
    threads: positive("threads", values.threads, 6),
    tables: positive("tables", values.tables, 4),
    tableSize: positive("table-size", values["table-size"], 1000),
    idleSamples: positive("idle-samples", values["idle-samples"], 50),
    workloads: workloads.length > 0 ? workloads : WORKLOADS,
    targets: targets.length > 0 ? targets : TARGETS,
    docs: values["no-docs"] !== true,
    ...(values.from === undefined ? {} : { from: values.from })
  }
}
