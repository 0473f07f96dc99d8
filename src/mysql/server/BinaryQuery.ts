import { isUtf8 } from "node:buffer"
import type { Statement } from "../../sql/Statement.ts"

/**
 * A COM_QUERY is bytes, not text: clients such as pymysql interpolate binary values into string
 * literals (`_binary'\x00\xff'`). Such a query is decoded byte-for-char (latin1) so no byte is
 * lost; literals are lifted into parameters by the translator, and each lifted string is turned
 * back into its bytes here: text again when they are valid UTF-8, else a BLOB.
 */
export const decodeQueryText = (bytes: Buffer): { readonly sql: string; readonly binary: boolean } =>
  isUtf8(bytes) ? { sql: bytes.toString("utf8"), binary: false } : { sql: bytes.toString("latin1"), binary: true }

const restore = (value: string): string | Buffer => {
  const bytes = Buffer.from(value, "latin1")
  return isUtf8(bytes) ? bytes.toString("utf8") : bytes
}

const walk = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(walk)
  if (typeof node !== "object" || node === null || Buffer.isBuffer(node)) return node
  const record = node as Record<string, unknown>
  if (record["_tag"] === "Value" && typeof record["value"] === "string") return { _tag: "Value", value: restore(record["value"]) }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(record)) out[k] = walk(v)
  return out
}

export const restoreBinaryLiterals = (statement: Statement): Statement => walk(statement) as Statement
