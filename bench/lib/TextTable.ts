/** Plain-text tables for the bench reports: the first `leftColumns` columns left-aligned, the rest right-aligned. */
export function formatTable(rows: ReadonlyArray<ReadonlyArray<string>>, leftColumns = 1): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)))
  return rows
    .map((r) => r.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd())
    .join("\n")
}

/** A number with `digits` decimals, or "-" when there is none. */
export const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(digits))

/** a / b to 3 decimals, or undefined when either is missing or b is 0. */
export const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0 ? undefined : Math.round((a / b) * 1000) / 1000
