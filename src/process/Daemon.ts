import { spawn } from "node:child_process"
import { mkdirSync, openSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** Starts this command again without --daemon, detached, with its output in <data_dir>/marmot.log. */
export const daemonize = (dataDir: string): void => {
  mkdirSync(dataDir, { recursive: true })
  const logFile = join(dataDir, "marmot.log")
  const log = openSync(logFile, "a")
  const args = [...process.execArgv, process.argv[1]!, ...process.argv.slice(2).filter((a) => a !== "--daemon")]
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", log, log] })
  child.unref()
  process.stdout.write(`marmot-ts started in the background: pid ${child.pid}, log ${logFile}\n`)
}

/** Writes the pid and removes the file when the process exits. */
export const writePidFile = (file: string): void => {
  writeFileSync(file, `${process.pid}\n`)
  process.on("exit", () => rmSync(file, { force: true }))
}
