/**
 * Bar charts as standalone SVG text (no dependency): a grid of panels, each with its own y axis and
 * one bar per label. A bar is drawn as nested segments from the baseline, the largest first and
 * lightest (so p99 / p95 / p50 of one latency read as one bar with darker inner parts). Every bar
 * rect carries data-panel / data-bar / data-series / data-value, so the chart can be checked.
 */

export interface Segment {
  /** Series name (legend, data-series). */
  readonly series: string
  readonly value: number
}

export interface Bar {
  readonly label: string
  readonly color: string
  /** Empty: no value (drawn as "n/a", with the reason in its tooltip). */
  readonly segments: ReadonlyArray<Segment>
  readonly missing?: string
}

export interface Panel {
  readonly title: string
  readonly bars: ReadonlyArray<Bar>
}

export interface Chart {
  readonly title: string
  readonly subtitle?: string
  /** y axis unit, e.g. "transactions/s" or "ms". */
  readonly unit: string
  readonly scale: "linear" | "log"
  readonly panels: ReadonlyArray<Panel>
  /** Colour per bar label (one entry per target). */
  readonly legend: ReadonlyArray<{ readonly label: string; readonly color: string }>
  /** Segment series, outermost (largest, lightest) first, e.g. ["p99", "p95", "p50"]. */
  readonly series?: ReadonlyArray<string>
  readonly columns?: number
}

const PANEL_W = 360
const PANEL_H = 230
const PAD = { top: 28, right: 12, bottom: 34, left: 52 }
const HEADER_H = 64

export const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** 1234 -> "1.23k", 0.456 -> "0.456", 12.3 -> "12.3". */
export function compact(v: number): string {
  if (v >= 1_000_000) return `${trim(v / 1_000_000)}M`
  if (v >= 1000) return `${trim(v / 1000)}k`
  return trim(v)
}
const trim = (v: number) => String(Number(v.toPrecision(3)))

/** Axis ticks from 0 to a rounded-up max: steps of 1, 2, 2.5 or 5 x 10^k. */
function linearTicks(max: number): Array<number> {
  if (!(max > 0)) return [0, 1]
  const raw = max / 4
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!
  const ticks: Array<number> = []
  for (let t = 0; t < max + step * 0.999; t += step) ticks.push(Number(t.toPrecision(12)))
  return ticks
}

/** Powers of ten spanning [min, max]. */
function logTicks(min: number, max: number): Array<number> {
  const lo = Math.floor(Math.log10(min > 0 ? min : 1))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max > 0 ? max : 10)))
  const ticks: Array<number> = []
  for (let e = lo; e <= hi; e++) ticks.push(Number((10 ** e).toPrecision(12)))
  return ticks
}

function renderPanel(chart: Chart, panel: Panel, x0: number, y0: number): string {
  const values = panel.bars.flatMap((b) => b.segments.map((s) => s.value)).filter((v) => Number.isFinite(v) && v > 0)
  const max = values.length > 0 ? Math.max(...values) : 1
  const min = values.length > 0 ? Math.min(...values) : 1
  const ticks = chart.scale === "log" ? logTicks(min, max) : linearTicks(max)
  const plotW = PANEL_W - PAD.left - PAD.right
  const plotH = PANEL_H - PAD.top - PAD.bottom
  const bottom = y0 + PAD.top + plotH
  const lo = ticks[0]!
  const hi = ticks[ticks.length - 1]!
  const y = (v: number) =>
    chart.scale === "log"
      ? bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH
      : bottom - (v / hi) * plotH
  const out: Array<string> = []
  out.push(`<g class="panel" data-panel="${escapeXml(panel.title)}">`)
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + 16}" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`)
  for (const t of ticks) {
    const ty = y(t).toFixed(1)
    out.push(`<line x1="${x0 + PAD.left}" x2="${x0 + PAD.left + plotW}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`)
    out.push(`<text x="${x0 + PAD.left - 4}" y="${ty}" dy="3" text-anchor="end" font-size="10" fill="#555">${compact(t)}</text>`)
  }
  out.push(`<line x1="${x0 + PAD.left}" x2="${x0 + PAD.left}" y1="${y0 + PAD.top}" y2="${bottom}" stroke="#888"/>`)
  const slot = plotW / Math.max(1, panel.bars.length)
  const barW = Math.min(38, slot * 0.7)
  const order = chart.series ?? []
  panel.bars.forEach((bar, i) => {
    const cx = x0 + PAD.left + slot * (i + 0.5)
    const bx = (cx - barW / 2).toFixed(1)
    const segments = [...bar.segments]
      .filter((s) => Number.isFinite(s.value))
      .sort((a, b) => b.value - a.value || order.indexOf(a.series) - order.indexOf(b.series))
    if (segments.length === 0) {
      out.push(`<text x="${cx.toFixed(1)}" y="${bottom - 4}" text-anchor="middle" font-size="10" fill="#b00">n/a<title>${escapeXml(`${bar.label}: ${bar.missing ?? "no result"}`)}</title></text>`)
    }
    segments.forEach((s, k) => {
      const top = y(s.value)
      const opacity = segments.length === 1 ? 1 : [0.35, 0.65, 1][Math.min(2, k + 3 - segments.length)]!
      out.push(
        `<rect x="${bx}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0, bottom - top).toFixed(1)}" ` +
          `fill="${bar.color}" fill-opacity="${opacity}" data-panel="${escapeXml(panel.title)}" data-bar="${escapeXml(bar.label)}" ` +
          `data-series="${escapeXml(s.series)}" data-value="${s.value}"><title>${escapeXml(`${panel.title}, ${bar.label}, ${s.series}: ${s.value} ${chart.unit}`)}</title></rect>`
      )
    })
    if (segments.length > 0) {
      out.push(`<text x="${cx.toFixed(1)}" y="${(y(segments[0]!.value) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${compact(segments[0]!.value)}</text>`)
    }
    out.push(`<text x="${cx.toFixed(1)}" y="${bottom + 13}" text-anchor="middle" font-size="9">${escapeXml(bar.label)}</text>`)
  })
  out.push(`</g>`)
  return out.join("\n")
}

export function renderChart(chart: Chart): string {
  const columns = Math.max(1, Math.min(chart.columns ?? 3, chart.panels.length))
  const rows = Math.max(1, Math.ceil(chart.panels.length / columns))
  const width = columns * PANEL_W
  const height = HEADER_H + rows * PANEL_H
  const out: Array<string> = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`)
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`)
  out.push(`<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`)
  const sub = `${chart.unit}${chart.scale === "log" ? ", log scale" : ""}${chart.subtitle ? `; ${chart.subtitle}` : ""}`
  out.push(`<text x="10" y="36" font-size="11" fill="#444">${escapeXml(sub)}</text>`)
  let lx = 10
  for (const l of chart.legend) {
    out.push(`<rect x="${lx}" y="46" width="10" height="10" fill="${l.color}"/><text x="${lx + 14}" y="55" font-size="11">${escapeXml(l.label)}</text>`)
    lx += 30 + l.label.length * 7
  }
  if (chart.series && chart.series.length > 1) {
    chart.series.forEach((s, k) => {
      const opacity = [0.35, 0.65, 1][Math.min(2, k + 3 - chart.series!.length)]!
      out.push(`<rect x="${lx}" y="46" width="10" height="10" fill="#333" fill-opacity="${opacity}"/><text x="${lx + 14}" y="55" font-size="11">${escapeXml(s)}</text>`)
      lx += 30 + s.length * 7
    })
  }
  chart.panels.forEach((p, i) => {
    out.push(renderPanel(chart, p, (i % columns) * PANEL_W, HEADER_H + Math.floor(i / columns) * PANEL_H))
  })
  out.push(`</svg>`)
  return out.join("\n") + "\n"
}
