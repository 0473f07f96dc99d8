import { mkdir, open, rename } from "node:fs/promises"

/** Replaces `path` (in `dir`) with `text` so a crash leaves the old or the new file, never a torn one. */
export const writeAtomically = async (dir: string, path: string, text: string): Promise<void> => {
  await mkdir(dir, { recursive: true })
  const temp = `${path}.tmp`
  const file = await open(temp, "w")
  try {
    await file.writeFile(text, "utf8")
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(temp, path)
  const directory = await open(dir, "r")
  try {
    await directory.sync()
  } finally {
    await directory.close()
  }
}
