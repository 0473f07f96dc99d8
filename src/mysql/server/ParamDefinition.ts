import { Charset, ColumnType } from "../protocol/Constants.ts"
import type { ColumnDef } from "../protocol/Encode.ts"

/** What COM_STMT_PREPARE announces for each `?`: MySQL sends an untyped placeholder definition. */
export const paramDefinition: ColumnDef = {
  schema: "",
  table: "",
  orgTable: "",
  name: "?",
  orgName: "",
  charset: Charset.BINARY,
  length: 0,
  type: ColumnType.VAR_STRING,
  flags: 0,
  decimals: 0
}
