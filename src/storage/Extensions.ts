/**
 * SQLite loadable extensions, only from `[extensions] directory`: a name is a plain file name
 * (no path separators, no leading dot), tried as `name`, `name.so`, `libname.so` (and `.dylib`),
 * and must still lie inside the directory once symlinks are resolved.
 */
import { existsSync, realpathSync, statSync } from "node:fs"
import { join, resolve, sep } from "node:path"
import { MysqlError } from "../query/Errors.ts"

/** MySQL's wording for CREATE FUNCTION … SONAME with a path. */
const noPaths = () => new MysqlError({ code: 1124, sqlState: "HY000", message: "No paths allowed for shared library" })

const cannotOpen = (name: string, why: string) =>
  new MysqlError({ code: 1126, sqlState: "HY000", message: `Can't open shared library '${name}' (${why})` })

const suffixes = ["", ".so", ".dylib"]

/** The extension file for `name` inside `directory`, or a MysqlError (1124 for paths, 1126 otherwise). */
export const resolveExtension = (directory: string | undefined, name: string): string => {
  if (directory === undefined) throw cannotOpen(name, "extensions are off: [extensions] directory is not set")
  if (name === "" || name.includes("/") || name.includes("\\") || name.includes("\0") || name.startsWith(".")) throw noPaths()
  let root: string
  try {
    root = realpathSync(resolve(directory))
  } catch {
    throw cannotOpen(name, `extensions directory ${directory} does not exist`)
  }
  for (const candidate of suffixes.flatMap((s) => [name + s, "lib" + name + s])) {
    const path = join(root, candidate)
    if (!existsSync(path)) continue
    const real = realpathSync(path)
    if (!real.startsWith(root + sep)) throw noPaths()
    if (!statSync(real).isFile()) continue
    return real
  }
  throw cannotOpen(name, `not found in the extensions directory`)
}

/** Loads an extension into one connection; a failure becomes 1126 with SQLite's reason. */
export const loadInto = (db: { loadExtension: (path: string) => unknown }, name: string, path: string): void => {
  try {
    db.loadExtension(path)
  } catch (e) {
    throw cannotOpen(name, e instanceof Error ? e.message : String(e))
  }
}
