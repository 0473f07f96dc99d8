import { describe, expect, it } from "vitest"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import { CommittedTransaction } from "../../proto-schemas/src/Transaction.ts"
import { encodeBody } from "../../src/replication/CommitLogBody.ts"

const schemaBody = (txn: CommittedTransaction) => JSON.parse(JSON.stringify(Schema.encodeSync(CommittedTransaction)(txn)))
const decode = Schema.decodeUnknownSync(CommittedTransaction)

describe("CommitLogBody", () => {
  it("writes exactly the Schema's encoded form, which decodes back to the same transaction", () => {
    fc.assert(
      fc.property(Arbitrary.make(CommittedTransaction), (txn) => {
        const body = JSON.parse(encodeBody(txn))
        expect(body).toStrictEqual(schemaBody(txn))
        expect(schemaBody(decode(body))).toStrictEqual(schemaBody(txn))
      }),
      { numRuns: 200 }
    )
  })
})
