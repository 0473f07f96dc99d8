/**
 * The only place node-sql-parser is used: MySQL text → AST. Statements reaching it have been
 * normalized (see Normalize.ts); everything after it is our own emitter.
 */
import pkg from "node-sql-parser/build/mysql.js"
import { SyntaxErr } from "./Out.ts"

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ast = any

const parser = new pkg.Parser()
const OPTIONS = { database: "MySQL" } as const

/** A parse failure at `offset` of the parsed text. */
export class ParseFail {
  constructor(readonly offset: number) {}
}

/** Parses exactly one statement; throws ParseFail. */
export const parseOne = (text: string): Ast => {
  let ast: Ast
  try {
    ast = parser.astify(text, OPTIONS)
  } catch (e) {
    const off = (e as { location?: { start?: { offset?: number } } })?.location?.start?.offset
    throw new ParseFail(typeof off === "number" ? off : 0)
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) throw new SyntaxErr("")
    ast = ast[0]
  }
  if (ast === null || typeof ast !== "object") throw new SyntaxErr("")
  return ast
}
