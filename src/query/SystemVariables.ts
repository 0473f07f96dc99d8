/**
 * MySQL system variables the server answers for `SELECT @@x`, `SHOW VARIABLES` and `SET`.
 * Values are what clients and drivers read on connect; the few that change behaviour
 * (autocommit, sql_mode, marmot_transpilation) are read by the session.
 */
export const serverVersion = "8.0.36-marmot-ts"

export type SysValue = string | bigint | number | null

export const globalDefaults: ReadonlyMap<string, SysValue> = new Map<string, SysValue>([
  ["auto_increment_increment", 1n],
  ["auto_increment_offset", 1n],
  ["autocommit", 1n],
  ["character_set_client", "utf8mb4"],
  ["character_set_connection", "utf8mb4"],
  ["character_set_database", "utf8mb4"],
  ["character_set_results", "utf8mb4"],
  ["character_set_server", "utf8mb4"],
  ["character_set_system", "utf8mb3"],
  ["collation_connection", "utf8mb4_general_ci"],
  ["collation_database", "utf8mb4_general_ci"],
  ["collation_server", "utf8mb4_general_ci"],
  ["default_storage_engine", "SQLite"],
  ["foreign_key_checks", 1n],
  ["have_ssl", "DISABLED"],
  ["hostname", "localhost"],
  ["init_connect", ""],
  ["innodb_lock_wait_timeout", 50n],
  ["interactive_timeout", 28800n],
  ["license", "MIT"],
  ["lock_wait_timeout", 50n],
  ["lower_case_table_names", 0n],
  ["max_allowed_packet", 67108864n],
  ["max_connections", 1000n],
  ["net_buffer_length", 16384n],
  ["net_read_timeout", 30n],
  ["net_write_timeout", 60n],
  ["performance_schema", 0n],
  ["protocol_version", 10n],
  ["query_cache_size", 0n],
  ["query_cache_type", "OFF"],
  ["read_only", 0n],
  ["sql_auto_is_null", 0n],
  ["sql_mode", "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"],
  ["sql_safe_updates", 0n],
  ["sql_select_limit", 18446744073709551615n],
  ["storage_engine", "SQLite"],
  ["system_time_zone", "UTC"],
  ["time_zone", "SYSTEM"],
  ["transaction_isolation", "REPEATABLE-READ"],
  ["transaction_read_only", 0n],
  ["tx_isolation", "REPEATABLE-READ"],
  ["tx_read_only", 0n],
  ["unique_checks", 1n],
  ["version", serverVersion],
  ["version_comment", "marmot-ts"],
  ["version_compile_machine", "x86_64"],
  ["version_compile_os", "Linux"],
  ["wait_timeout", 28800n],
  ["warning_count", 0n],
  ["error_count", 0n],
  ["marmot_transpilation", "ON"]
])

/** Variables whose value is fixed by the server: SET on them is refused. */
export const readOnlyVariables: ReadonlySet<string> = new Set([
  "version",
  "version_comment",
  "version_compile_machine",
  "version_compile_os",
  "protocol_version",
  "hostname",
  "system_time_zone",
  "have_ssl",
  "character_set_system",
  "lower_case_table_names",
  "license",
  "warning_count",
  "error_count"
])

const aliases: ReadonlyMap<string, string> = new Map([
  ["tx_isolation", "transaction_isolation"],
  ["tx_read_only", "transaction_read_only"]
])

export const canonicalName = (name: string): string => aliases.get(name) ?? name

/** Normalises a value for a boolean-ish variable: ON/OFF/1/0/TRUE/FALSE → 1n/0n, else undefined. */
export const toSwitch = (v: SysValue): bigint | undefined => {
  if (v === null) return undefined
  const s = String(v).toUpperCase()
  if (s === "1" || s === "ON" || s === "TRUE") return 1n
  if (s === "0" || s === "OFF" || s === "FALSE") return 0n
  return undefined
}

export const switchVariables: ReadonlySet<string> = new Set([
  "autocommit",
  "foreign_key_checks",
  "unique_checks",
  "sql_safe_updates",
  "sql_auto_is_null",
  "transaction_read_only"
])
