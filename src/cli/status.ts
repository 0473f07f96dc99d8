/**
 * `marmot status --admin host:port [--secret s]`: the cluster at a glance, through the admin HTTP
 * API of one node: its member list (status, incarnation, lag as that node sees it), then every
 * ALIVE member's readiness and per-table checksums (each member's admin address comes from its
 * gossiped meta), and whether the checksums agree across nodes.
 *
 * Exit code: 0 when every ALIVE member answered and every table agrees, 1 otherwise, 2 for usage.
 * The secret comes from --secret, MARMOT_ADMIN_SECRET or MARMOT_CLUSTER_SECRET.
 */
import { parseArgs } from "node:util"

const usage = `Usage: marmot status --admin <host:port> [--secret <secret>] [--timeout-ms <ms>]
  --admin       admin HTTP address of any node ([admin] http_port)
  --secret      the admin secret (default: MARMOT_ADMIN_SECRET, then MARMOT_CLUSTER_SECRET)
  --timeout-ms  deadline of each HTTP request (default 5000)
`

interface Lag {
  readonly transactions: number
  readonly ms: number
  readonly caught_up_at: string | null
  readonly last_error: string | null
}

interface MemberJson {
  readonly id: number
  readonly address: string
  readonly status: string
  readonly incarnation: number
  readonly admin: string | null
  readonly self: boolean
  readonly lag: Lag | null
}

interface MembersJson {
  readonly local_node_id: number
  readonly total_membership: number
  readonly alive_count: number
  readonly quorum_size: number
  readonly members: ReadonlyArray<MemberJson>
}

interface ChecksumsJson {
  readonly node_id: number
  readonly databases: Readonly<Record<string, Readonly<Record<string, { readonly rows: number; readonly sha256: string }>>>>
}

type Fetched<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: string }

const get = async <A>(address: string, path: string, secret: string | undefined, timeoutMs: number): Promise<Fetched<A>> => {
  try {
    const response = await fetch(`http://${address}${path}`, {
      headers: secret === undefined ? {} : { "x-marmot-secret": secret },
      signal: AbortSignal.timeout(timeoutMs)
    })
    const text = await response.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return { ok: false, error: `HTTP ${response.status}: not JSON` }
    }
    if (!response.ok && response.status !== 503) {
      const reason = typeof body === "object" && body !== null && "error" in body ? String(body.error) : text
      return { ok: false, error: `HTTP ${response.status}: ${reason}` }
    }
    return { ok: true, value: body as A }
  } catch (e) {
    return { ok: false, error: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e) }
  }
}

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths: Array<number> = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((row) => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!)).join("  ")).join("\n")
}

const lagText = (lag: Lag | null) =>
  lag === null
    ? "-"
    : `${lag.transactions} txns / ${lag.ms} ms${lag.caught_up_at === null ? " (never caught up)" : ""}${lag.last_error === null ? "" : ` (last pull failed: ${lag.last_error})`}`

/** Runs the command with its arguments (after `status`); resolves to the exit code. */
export const runStatus = async (args: ReadonlyArray<string>): Promise<number> => {
  let values: { admin?: string | undefined; secret?: string | undefined; "timeout-ms"?: string | undefined; help?: boolean | undefined }
  try {
    values = parseArgs({
      args: [...args],
      options: { admin: { type: "string" }, secret: { type: "string" }, "timeout-ms": { type: "string" }, help: { type: "boolean" } },
      strict: true
    }).values
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${usage}`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(usage)
    return 0
  }
  if (values.admin === undefined) {
    process.stderr.write(`--admin is required\n\n${usage}`)
    return 2
  }
  const timeoutMs = Number(values["timeout-ms"] ?? 5000)
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    process.stderr.write(`--timeout-ms must be a positive integer\n`)
    return 2
  }
  const secret = values.secret ?? (process.env["MARMOT_ADMIN_SECRET"] || process.env["MARMOT_CLUSTER_SECRET"] || undefined)

  const fetched = await get<MembersJson>(values.admin, "/admin/cluster/members", secret, timeoutMs)
  if (!fetched.ok) {
    process.stderr.write(`cannot read the members from ${values.admin}: ${fetched.error}\n`)
    return 1
  }
  const view = fetched.value
  const alive = view.members.filter((m) => m.status === "ALIVE")
  const reachable = alive.map((m) => ({ member: m, admin: m.self ? values.admin! : m.admin }))
  const answers = await Promise.all(reachable.map(async ({ admin }) =>
    admin === null
      ? { ready: { ok: false, error: "no admin address in its meta" } as const, sums: { ok: false, error: "no admin address in its meta" } as const }
      : {
        ready: await get<{ ready: boolean; reason?: string }>(admin, "/readyz", undefined, timeoutMs),
        sums: await get<ChecksumsJson>(admin, "/admin/checksums", secret, timeoutMs)
      }
  ))
  const answerOf = new Map(reachable.map((r, i) => [r.member.id, answers[i]!]))
  let healthy = true

  const out: Array<string> = []
  out.push(
    `cluster seen from node ${view.local_node_id} (${values.admin}): ${view.members.length} members, ` +
      `${view.alive_count} ALIVE, quorum ${view.quorum_size} of ${view.total_membership}`,
    ""
  )
  const memberRows = [["NODE", "STATUS", "INCARNATION", "PEER ADDRESS", "ADMIN", "READY", `LAG (seen from node ${view.local_node_id})`]]
  for (const m of view.members) {
    const answer = answerOf.get(m.id)
    const ready = answer === undefined
      ? "-"
      : answer.ready.ok
      ? answer.ready.value.ready ? "yes" : `no: ${answer.ready.value.reason ?? "?"}`
      : `? ${answer.ready.error}`
    memberRows.push([`${m.id}${m.self ? "*" : ""}`, m.status, String(m.incarnation), m.address, m.admin ?? "-", ready, lagText(m.lag)])
  }
  out.push(table(memberRows), "")

  const nodes = reachable.map((r) => r.member.id)
  const sums = new Map<number, ChecksumsJson>()
  for (const id of nodes) {
    const answer = answerOf.get(id)!
    if (answer.sums.ok) sums.set(id, answer.sums.value)
    else {
      healthy = false
      out.push(`node ${id}: no checksums (${answer.sums.error})`)
    }
  }
  const names = new Set<string>()
  for (const s of sums.values()) {
    for (const [db, tables] of Object.entries(s.databases)) for (const t of Object.keys(tables)) names.add(`${db}.${t}`)
  }
  const sorted = [...names].sort()
  const sumRows = [["TABLE", ...[...sums.keys()].map((id) => `NODE ${id} (rows sha256)`), "AGREE"]]
  let differing = 0
  for (const name of sorted) {
    const dot = name.indexOf(".")
    const [db, t] = [name.slice(0, dot), name.slice(dot + 1)]
    const cells = [...sums.values()].map((s) => s.databases[db]?.[t])
    const keys = cells.map((c) => c === undefined ? "missing" : `${c.rows} ${c.sha256.slice(0, 16)}`)
    const agree = new Set(keys).size === 1 && keys[0] !== "missing"
    if (!agree) differing++
    sumRows.push([name, ...keys, agree ? "yes" : "NO"])
  }
  if (sorted.length === 0) out.push("checksums: no tables")
  else out.push(table(sumRows))
  if (differing > 0) healthy = false
  out.push(
    "",
    differing === 0
      ? `checksums: all ${sorted.length} table(s) agree on ${sums.size} node(s)`
      : `checksums: ${differing} of ${sorted.length} table(s) differ across ${sums.size} node(s)`
  )
  process.stdout.write(`${out.join("\n")}\n`)
  return healthy ? 0 : 1
}
