/** The MySQL function library lives in src/functions; this keeps the storage layer's import path. */
export { formatDateTime, registerFunctions } from "../functions/index.ts"
