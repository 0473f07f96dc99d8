/**
 * Regrouping of arithmetic/bitwise operator chains. node-sql-parser binds `| & << >> ^` at the
 * level of `*` (`a + b | c` parses as `a + (b | c)`; MySQL: `(a + b) | c`). An in-order walk of an
 * unparenthesized chain still yields the source sequence, so chains that contain a bitwise
 * operator are flattened and rebuilt with MySQL's precedence:
 * `^` > `* / DIV % MOD` > `+ -` > `<< >>` > `&` > `|`, all left-associative.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type N = any

const PREC: Record<string, number> = {
  "^": 7, "*": 6, "/": 6, "DIV": 6, "%": 6, "MOD": 6, "+": 5, "-": 5, "<<": 4, ">>": 4, "&": 3, "|": 2
}
const BITWISE = new Set(["^", "<<", ">>", "&", "|"])

const opOf = (e: N): string | undefined => {
  if (e?.type !== "binary_expr" || e.parentheses === true || e._grouped === true) return undefined
  const op = String(e.operator).toUpperCase()
  return op in PREC ? op : undefined
}

const flatten = (e: N, atoms: Array<N>, ops: Array<string>): void => {
  const op = opOf(e)
  if (op === undefined) { atoms.push(e); return }
  flatten(e.left, atoms, ops)
  ops.push(op)
  flatten(e.right, atoms, ops)
}

/** The chain rooted at `e` regrouped, or `e` itself when it has no bitwise operator. */
export const regroupArithmetic = (e: N): N => {
  const atoms: Array<N> = []
  const ops: Array<string> = []
  flatten(e.left, atoms, ops)
  ops.push(String(e.operator).toUpperCase())
  flatten(e.right, atoms, ops)
  if (!ops.some((o) => BITWISE.has(o))) return { ...e, _grouped: true }
  // precedence climbing over atoms[0] ops[0] atoms[1] ops[1] … (ops[k] follows atoms[k])
  let k = 0
  const climb = (min: number): N => {
    let left = atoms[k]
    while (k < ops.length && PREC[ops[k]!]! >= min) {
      const op = ops[k]!
      k++
      const right = climb(PREC[op]! + 1)
      left = { type: "binary_expr", operator: op, left, right, _grouped: true }
    }
    return left
  }
  const r = climb(0)
  return e.parentheses === true ? { ...r, parentheses: true } : r
}
