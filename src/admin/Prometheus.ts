/**
 * Prometheus text exposition (format 0.0.4), rendered from Effect's metric registry
 * (`Metric.snapshot`) and from gauges computed when scraped (gossip state, process figures).
 * Pure: families in, text out.
 *
 * Effect's metric types map as: counter → counter (gauge unless `incremental`), gauge → gauge, histogram → histogram
 * (`_bucket{le}` cumulative with `+Inf`, `_sum`, `_count`), summary → summary (`{quantile}`,
 * `_sum`, `_count`), frequency → counter with a `key` label per occurrence.
 */
import { Option } from "effect"
import * as MetricKeyType from "effect/MetricKeyType"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"

export type FamilyType = "counter" | "gauge" | "histogram" | "summary"

export interface Sample {
  /** Appended to the family name: "", "_bucket", "_sum", "_count". */
  readonly suffix: string
  readonly labels: ReadonlyArray<readonly [string, string]>
  readonly value: number | bigint
}

export interface Family {
  readonly name: string
  readonly help: string
  readonly type: FamilyType
  readonly samples: ReadonlyArray<Sample>
}

/** Metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels without ':'); anything else becomes '_'. */
export const metricName = (name: string): string => {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, "_")
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned
}

export const labelName = (name: string): string => {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, "_")
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned
}

export const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")

const escapeHelp = (help: string): string => help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

export const formatValue = (value: number | bigint): string => {
  if (typeof value === "bigint") return value.toString()
  if (Number.isNaN(value)) return "NaN"
  if (value === Number.POSITIVE_INFINITY) return "+Inf"
  if (value === Number.NEGATIVE_INFINITY) return "-Inf"
  return String(value)
}

const formatLabels = (labels: ReadonlyArray<readonly [string, string]>): string =>
  labels.length === 0
    ? ""
    : `{${labels.map(([k, v]) => `${labelName(k)}="${escapeLabelValue(v)}"`).join(",")}}`

/** The exposition text of `families`: one HELP/TYPE header per name, families sorted by name. */
export const render = (families: ReadonlyArray<Family>): string => {
  const byName = new Map<string, { help: string; type: FamilyType; samples: Array<Sample> }>()
  for (const family of families) {
    const name = metricName(family.name)
    const existing = byName.get(name)
    if (existing === undefined) byName.set(name, { help: family.help, type: family.type, samples: [...family.samples] })
    else {
      existing.samples.push(...family.samples)
      if (existing.help === "") existing.help = family.help
    }
  }
  const lines: Array<string> = []
  for (const name of [...byName.keys()].sort()) {
    const family = byName.get(name)!
    if (family.help !== "") lines.push(`# HELP ${name} ${escapeHelp(family.help)}`)
    lines.push(`# TYPE ${name} ${family.type}`)
    for (const sample of family.samples) {
      lines.push(`${name}${sample.suffix}${formatLabels(sample.labels)} ${formatValue(sample.value)}`)
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`
}

const histogramSamples = (
  labels: ReadonlyArray<readonly [string, string]>,
  state: MetricState.MetricState.Histogram
): Array<Sample> => {
  const samples: Array<Sample> = []
  let sawInf = false
  for (const [bound, cumulative] of state.buckets) {
    if (bound === Number.POSITIVE_INFINITY) sawInf = true
    samples.push({ suffix: "_bucket", labels: [...labels, ["le", formatValue(bound)]], value: cumulative })
  }
  if (!sawInf) samples.push({ suffix: "_bucket", labels: [...labels, ["le", "+Inf"]], value: state.count })
  samples.push({ suffix: "_sum", labels, value: state.sum })
  samples.push({ suffix: "_count", labels, value: state.count })
  return samples
}

/** One family per metric pair of Effect's registry (`render` merges pairs that share a name). */
export const fromSnapshot = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): Array<Family> => {
  const families: Array<Family> = []
  for (const pair of pairs) {
    const key = pair.metricKey
    const name = key.name
    const help = Option.getOrElse(key.description, () => "")
    const labels = key.tags.map((t) => [t.key, t.value] as const)
    const state: unknown = pair.metricState
    if (MetricState.isCounterState(state)) {
      // a counter that is not `incremental` may go down (Effect's effect_fiber_active): a gauge here
      const monotonic = MetricKeyType.isCounterKey(key.keyType) && key.keyType.incremental
      families.push({ name, help, type: monotonic ? "counter" : "gauge", samples: [{ suffix: "", labels, value: state.count }] })
    } else if (MetricState.isGaugeState(state)) {
      families.push({ name, help, type: "gauge", samples: [{ suffix: "", labels, value: state.value }] })
    } else if (MetricState.isHistogramState(state)) {
      families.push({ name, help, type: "histogram", samples: histogramSamples(labels, state) })
    } else if (MetricState.isSummaryState(state)) {
      const samples: Array<Sample> = []
      for (const [quantile, value] of state.quantiles) {
        if (Option.isSome(value)) samples.push({ suffix: "", labels: [...labels, ["quantile", formatValue(quantile)]], value: value.value })
      }
      samples.push({ suffix: "_sum", labels, value: state.sum }, { suffix: "_count", labels, value: state.count })
      families.push({ name, help, type: "summary", samples })
    } else if (MetricState.isFrequencyState(state)) {
      const samples = [...state.occurrences].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, count]): Sample => ({ suffix: "", labels: [...labels, ["key", k]], value: count }))
      families.push({ name, help, type: "counter", samples })
    }
  }
  return families
}

/** A gauge family from label sets to values. */
export const gauge = (
  name: string,
  help: string,
  samples: ReadonlyArray<{ readonly labels?: ReadonlyArray<readonly [string, string]>; readonly value: number }>
): Family => ({
  name,
  help,
  type: "gauge",
  samples: samples.map((s) => ({ suffix: "", labels: s.labels ?? [], value: s.value }))
})
