/**
 * Translator micro-benchmark: statements/s for the hot shapes.
 *   npx tsx bench/translate.ts
 */
import { clearCaches, translate, TranslateError } from "../src/sql/Translator.ts"

const rnd = (n: number): number => Math.floor(Math.random() * n)
const digits = (n: number): string => Array.from({ length: n }, () => String(rnd(10))).join("")
/** sysbench's c/pad strings: groups of 11 digits joined by '-' */
const sbString = (groups: number): string => Array.from({ length: groups }, () => digits(11)).join("-")

/**
 * Times translate() (process CPU time) over `count` statements from make(i); `clear` empties both
 * caches before each call.
 */
const run = (name: string, make: (i: number) => string, count: number, clear = false): void => {
  const r = translate(make(0))
  if (r instanceof TranslateError) throw new Error(`${name}: ${r.message}`)
  // 20,000 distinct inputs (twice the text cache, so cycling through them always misses it),
  // flattened the way text decoded from a socket is
  const inputs: Array<string> = []
  for (let i = 0; i < 20_000; i++) inputs.push(Buffer.from(make(i + 1), "utf8").toString("utf8"))
  for (let i = 0; i < 20_000; i++) { if (clear) clearCaches(); translate(inputs[i]!) } // warm-up
  // CPU time of this process (less sensitive to other load on the machine than wall time)
  const t = process.cpuUsage()
  for (let i = 0; i < count; i++) { if (clear) clearCaches(); translate(inputs[i % 20_000]!) }
  const used = process.cpuUsage(t)
  const secs = (used.user + used.system) / 1e6
  const perSec = count / secs
  console.log(`${name.padEnd(60)} ${Math.round(perSec).toLocaleString("en-US").padStart(11)} stmt/s ${(1e6 / perSec).toFixed(2).padStart(8)} µs/stmt`)
}

const pointSelect = (i: number): string => `SELECT c FROM sbtest${1 + (i % 4)} WHERE id=${1 + rnd(10_000)}`
const oltpInsert = (i: number): string =>
  `INSERT INTO sbtest${1 + (i % 4)} (id, k, c, pad) VALUES (0, ${rnd(10_000)}, '${sbString(10)}', '${sbString(5)}')`
const AUTOLOAD = "SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes'"
const WP_POSTS = "SELECT SQL_CALC_FOUND_ROWS  wp_posts.ID FROM wp_posts  WHERE 1=1  AND ((wp_posts.post_type = 'post' AND (wp_posts.post_status = 'publish'))) ORDER BY wp_posts.post_date DESC LIMIT 0, 10"

console.log(`translate() throughput (node ${process.version}, one thread)`)
const N = 200_000
run("sysbench point select, prepared (text-cache hit)", () => "SELECT c FROM sbtest1 WHERE id=?", N)
run("sysbench point select, COM_QUERY, varying id (fingerprint hit)", pointSelect, N)
run("sysbench oltp_insert, varying literals (fast INSERT path)", oltpInsert, N)
run("WordPress autoload SELECT, repeated (fingerprint hit)", () => AUTOLOAD, N)
run("WordPress autoload SELECT, caches cleared (lex+parse+emit)", () => AUTOLOAD, 20_000, true)
run("WordPress posts query, varying LIMIT (fingerprint hit)", (i) => WP_POSTS.replace("LIMIT 0, 10", `LIMIT ${i}, 10`), N)
run("WordPress posts query, caches cleared (lex+parse+emit)", () => WP_POSTS, 5_000, true)
run("sysbench UPDATE … WHERE id=<n> (fingerprint hit)", (i) => `UPDATE sbtest1 SET k=k+1 WHERE id=${i}`, N)
run("sysbench oltp_insert, caches cleared", oltpInsert, 50_000, true)

// sysbench prepare: one INSERT of ~2,700 rows, ~500 KB
const bigInsert = (): string => {
  const rows: Array<string> = []
  for (let i = 0; i < 2700; i++) rows.push(`(${rnd(10_000)}, '${sbString(10)}', '${sbString(5)}')`)
  return `INSERT INTO sbtest1(k, c, pad) VALUES${rows.join(",")}`
}
const big = bigInsert()
const t0 = process.hrtime.bigint()
const r = translate(big)
const t1 = process.hrtime.bigint()
if (r instanceof TranslateError || r.kind !== "insert") throw new Error("big insert failed")
let total = 0n
const reps = 20
for (let i = 0; i < reps; i++) {
  const s = bigInsert()
  const a = process.hrtime.bigint()
  translate(s)
  total += process.hrtime.bigint() - a
}
console.log(`sysbench prepare INSERT: ${r.rows?.length} rows, ${(big.length / 1024).toFixed(0)} KB: first ${(Number(t1 - t0) / 1e6).toFixed(1)} ms, ` +
  `warm ${(Number(total) / reps / 1e6).toFixed(1)} ms (${(1e9 * reps / Number(total)).toFixed(0)} stmt/s)`)
