/** The [extensions] section: SQLite loadable extensions (see src/storage/Extensions.ts). */
import { ConfigError } from "./ConfigError.ts"
import type { Reader } from "./NodeConfig.ts"

export interface ExtensionSettings {
  /** The only place extensions are loaded from; undefined = extensions off. */
  readonly directory: string | undefined
  /** Names (resolved inside `directory`) loaded on every SQLite connection when it opens. */
  readonly alwaysLoaded: ReadonlyArray<string>
}

export const extensionDefaults: ExtensionSettings = { directory: undefined, alwaysLoaded: [] }

export const readExtensions = (r: Reader): ExtensionSettings => {
  const directory = r.string("directory", "")
  const alwaysLoaded = r.strings("always_loaded", [])
  r.done()
  if (directory === "" && alwaysLoaded.length > 0) {
    throw new ConfigError({ key: r.key("always_loaded"), reason: "needs extensions.directory" })
  }
  return { directory: directory === "" ? undefined : directory, alwaysLoaded }
}
