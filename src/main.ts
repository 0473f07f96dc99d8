import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { parseArgs } from "node:util"
import { MainLayer } from "./app/MainLayer.ts"

const usage = `marmot-ts: a leaderless, replicated SQLite server that speaks the MySQL protocol

Usage: marmot [options]
  --config <file>        TOML config file (see config/marmot.example.toml)
  --node-id <n>          node id (default 1)
  --data-dir <dir>       where the SQLite files live (default ./marmot-data)
  --mysql-port <port>    MySQL port (default 3306; 0 picks a free port)
  --mysql-bind <addr>    MySQL bind address (default 127.0.0.1)
  --unix-socket <path>   also listen on this unix socket
  --help                 this text
`

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        config: { type: "string" },
        "node-id": { type: "string" },
        "data-dir": { type: "string" },
        "mysql-port": { type: "string" },
        "mysql-bind": { type: "string" },
        "unix-socket": { type: "string" },
        help: { type: "boolean" }
      },
      strict: true
    }).values
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${usage}`)
    process.exit(2)
  }
})()

if (parsed.help === true) {
  process.stdout.write(usage)
  process.exit(0)
}

const integer = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${flag} must be a non-negative integer, got '${v}'\n`)
    process.exit(2)
  }
  return n
}

const layer = MainLayer(parsed.config, {
  nodeId: integer("node-id", parsed["node-id"]),
  dataDir: parsed["data-dir"],
  mysqlPort: integer("mysql-port", parsed["mysql-port"]),
  mysqlBind: parsed["mysql-bind"],
  unixSocket: parsed["unix-socket"]
})

NodeRuntime.runMain(Layer.launch(layer).pipe(Effect.tapErrorCause(Effect.logError)), { disableErrorReporting: true, disablePrettyLogger: true })
