/**
 * JSON text for change events. JSON.stringify cannot write a bigint, and SQLite INTEGERs arrive
 * as bigints (64-bit, beyond 2^53): they are written as their exact digits, as Kafka Connect's
 * JSON converter writes an int64. Bytes become standard base64 (Debezium's default
 * `binary.handling.mode=bytes` in JSON); NaN and the infinities, which JSON has no number for,
 * become the strings "NaN", "Infinity" and "-Infinity".
 */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | ReadonlyArray<JsonValue>
  | { readonly [k: string]: JsonValue | undefined }

export const toJson = (v: JsonValue): string => {
  if (v === null) return "null"
  switch (typeof v) {
    case "string":
      return JSON.stringify(v)
    case "bigint":
      return v.toString()
    case "number":
      return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(String(v))
    case "boolean":
      return v ? "true" : "false"
  }
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64"))
  if (Array.isArray(v)) return "[" + (v as ReadonlyArray<JsonValue>).map(toJson).join(",") + "]"
  let out = "{"
  let first = true
  for (const [k, field] of Object.entries(v)) {
    if (field === undefined) continue
    out += (first ? "" : ",") + JSON.stringify(k) + ":" + toJson(field as JsonValue)
    first = false
  }
  return out + "}"
}
