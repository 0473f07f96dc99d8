import { Data } from "effect"

/** A bad config file: names the key (`mysql.tls_cert_file`) and why. */
export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly key: string; readonly reason: string }> {
  override get message() {
    return `config: ${this.key}: ${this.reason}`
  }
}
