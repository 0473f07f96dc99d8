import { parse } from "smol-toml"
import { describe, expect, it } from "vitest"
import { ConfigError, fromToml } from "../../src/config/NodeConfig.ts"

const load = (toml: string) => fromToml(parse(toml) as Record<string, unknown>)

const failure = (toml: string): ConfigError => {
  try {
    load(toml)
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error("expected a ConfigError")
}

describe("[publisher] config", () => {
  it("is disabled with no sinks by default", () => {
    expect(load("").publisher).toEqual({ enabled: false, sinks: [] })
  })

  it("reads both sink types with Marmot's defaults and explicit values", () => {
    const s = load(`
[publisher]
enabled = true
[[publisher.sinks]]
name = "k"
type = "kafka"
format = "debezium"
brokers = ["127.0.0.1:9092", "127.0.0.1:9093"]
topic_prefix = "marmot.cdc"
filter_tables = ["orders", "shop.item*"]
filter_databases = ["shop"]
[[publisher.sinks]]
name = "n"
type = "nats"
nats_url = "nats://127.0.0.1:4222"
topic_prefix = "cdc"
batch_size = 500
poll_interval_ms = 5
retry_initial_ms = 50
retry_max_ms = 1000
retry_multiplier = 1.5
snapshot_mode = "initial"
publish_from = "origin"
`).publisher
    expect(s.enabled).toBe(true)
    expect(s.sinks[0]).toEqual({
      name: "k",
      type: "kafka",
      format: "debezium",
      brokers: ["127.0.0.1:9092", "127.0.0.1:9093"],
      natsUrl: "",
      topicPrefix: "marmot.cdc",
      filterTables: ["orders", "shop.item*"],
      filterDatabases: ["shop"],
      batchSize: 100,
      pollIntervalMs: 10,
      retryInitialMs: 100,
      retryMaxMs: 30000,
      retryMultiplier: 2,
      snapshotMode: "when_needed",
      publishFrom: "every_node"
    })
    expect(s.sinks[1]).toMatchObject({
      name: "n",
      type: "nats",
      natsUrl: "nats://127.0.0.1:4222",
      batchSize: 500,
      pollIntervalMs: 5,
      retryInitialMs: 50,
      retryMaxMs: 1000,
      retryMultiplier: 1.5,
      snapshotMode: "initial",
      publishFrom: "origin",
      filterTables: ["*"],
      filterDatabases: ["*"]
    })
  })

  it("names the bad key", () => {
    const nats = `[[publisher.sinks]]\nname = "n"\ntype = "nats"\nnats_url = "nats://x"\ntopic_prefix = "cdc"\n`
    expect(failure(`[publisher]\nenabeld = true`).key).toBe("publisher.enabeld")
    expect(failure(nats + `topic_prefx = "x"`).key).toBe("publisher.sinks[0].topic_prefx")
    expect(failure(nats + `batch_size = 0`)).toMatchObject({ key: "publisher.sinks[0].batch_size", reason: "must be between 1 and 100000" })
    expect(failure(nats + `retry_multiplier = "2"`).key).toBe("publisher.sinks[0].retry_multiplier")
    expect(failure(nats + `filter_tables = "x"`).key).toBe("publisher.sinks[0].filter_tables")
    expect(failure(nats + `brokers = ["a:1"]`).key).toBe("publisher.sinks[0].brokers")
    expect(failure(nats + `format = "avro"`).key).toBe("publisher.sinks[0].format")
    expect(failure(nats + `snapshot_mode = "always"`).key).toBe("publisher.sinks[0].snapshot_mode")
    expect(failure(nats + `publish_from = "leader"`).key).toBe("publisher.sinks[0].publish_from")
    expect(failure(`[[publisher.sinks]]\nname = "n"\ntype = "nats"\ntopic_prefix = "cdc"`).key).toBe("publisher.sinks[0].nats_url")
    expect(failure(`[[publisher.sinks]]\nname = "k"\ntype = "kafka"\ntopic_prefix = "cdc"`).key).toBe("publisher.sinks[0].brokers")
    expect(failure(`[[publisher.sinks]]\nname = "k"\nbrokers = ["a:1"]\ntopic_prefix = "cdc"`).key).toBe("publisher.sinks[0].type")
    expect(failure(`[[publisher.sinks]]\ntype = "kafka"\nbrokers = ["a:1"]\ntopic_prefix = "cdc"`).key).toBe("publisher.sinks[0].name")
    expect(failure(`[[publisher.sinks]]\nname = "k"\ntype = "kafka"\nbrokers = ["a:1"]`).key).toBe("publisher.sinks[0].topic_prefix")
    expect(failure(`[[publisher.sinks]]\nname = "k"\ntype = "kafka"\nbrokers = ["a:1"]\ntopic_prefix = "a..b"`).key).toBe("publisher.sinks[0].topic_prefix")
    expect(failure(nats + `retry_initial_ms = 500\nretry_max_ms = 100`).key).toBe("publisher.sinks[0].retry_max_ms")
    expect(failure(nats + nats).key).toBe("publisher.sinks[1].name")
  })
})
