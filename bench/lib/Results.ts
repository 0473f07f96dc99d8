/** Where the benches leave their results: bench/results/<name>-<timestamp>.json. */
import { mkdirSync, writeFileSync } from "node:fs"
import path from "node:path"
import { repoRoot } from "../../test/support/Servers.ts"
import { log } from "./Processes.ts"

/** Write `data` as JSON to bench/results/<name>-<timestamp>.json; returns the path relative to the repo. */
export function writeResults(name: string, data: unknown): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-")
  const dir = path.join(repoRoot, "bench", "results")
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${name}-${stamp}.json`)
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n")
  const relative = path.relative(repoRoot, file)
  log(`results: ${relative}`)
  return relative
}
