import { mkdir, open, rename, rm } from "node:fs/promises"

const queues = new Map<string, Promise<void>>()
let counter = 0

/**
 * Replaces `path` (in `dir`) with `text` so a crash leaves the old or the new file, never a torn
 * one. Saves of one path run one after the other, in call order (the last call's text is what
 * stays), each through its own temp file.
 */
export const writeAtomically = (dir: string, path: string, text: string): Promise<void> => {
  const previous = queues.get(path) ?? Promise.resolve()
  const next = previous.catch(() => {}).then(() => replace(dir, path, text))
  queues.set(path, next)
  const forget = () => {
    if (queues.get(path) === next) queues.delete(path)
  }
  next.then(forget, forget)
  return next
}

const replace = async (dir: string, path: string, text: string): Promise<void> => {
  await mkdir(dir, { recursive: true })
  const temp = `${path}.${process.pid}.${counter++}.tmp`
  try {
    const file = await open(temp, "w")
    try {
      await file.writeFile(text, "utf8")
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temp, path)
  } catch (e) {
    await rm(temp, { force: true })
    throw e
  }
  const directory = await open(dir, "r")
  try {
    await directory.sync()
  } finally {
    await directory.close()
  }
}
