/**
 * A node's publisher in its own process that SIGKILLs itself after a batch reaching `crashAtSeq`
 * was acknowledged by the broker and before its cursor is saved (the restart tests).
 * Usage: node --import tsx test/cdc/crash-child.ts '<json {settings, crashAtSeq}>'
 */
import { Effect, Layer } from "effect"
import { NodeConfig, type NodeSettings } from "../../src/config/NodeConfig.ts"
import { connectSink, Publisher } from "../../src/cdc/Publisher.ts"

const { settings, crashAtSeq } = JSON.parse(process.argv[2]!) as { settings: NodeSettings; crashAtSeq: number }

const layer = Publisher.layerWith({
  connect: connectSink,
  afterPublish: (_sink, _db, lastSeq) =>
    lastSeq >= BigInt(crashAtSeq)
      ? Effect.sync(() => {
        process.stdout.write(`crashing after publishing up to seq ${lastSeq}\n`)
        process.kill(process.pid, "SIGKILL")
      }).pipe(Effect.zipRight(Effect.never))
      : Effect.void
}).pipe(Layer.provide(NodeConfig.layer(settings)))

Effect.runFork(Layer.launch(layer))
