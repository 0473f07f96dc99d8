import { describe, expect, it } from "vitest"
import { defaultFormat, parseRows } from "../../src/sql/LoadData.ts"
import { translate } from "../../src/sql/Translator.ts"

const csv = { ...defaultFormat, fieldsTerminatedBy: ",", enclosedBy: "\"" }

describe("LOAD DATA statement", () => {
  it("parses every clause", () => {
    const s = translate(
      "LOAD DATA LOW_PRIORITY LOCAL INFILE '/tmp/a.csv' REPLACE INTO TABLE db.t CHARACTER SET latin1 " +
        "COLUMNS TERMINATED BY ';' OPTIONALLY ENCLOSED BY '\\'' ESCAPED BY '' LINES STARTING BY 'x:' TERMINATED BY X'0d0a' " +
        "IGNORE 2 ROWS (a, @b, `c d`) SET e = @b + 1, f = DEFAULT, g = CONCAT(@b, ',', a)"
    )
    expect(s).toEqual({
      kind: "load_data",
      load: {
        local: true,
        file: "/tmp/a.csv",
        duplicates: "replace",
        table: { database: "db", table: "t" },
        charset: "latin1",
        format: { fieldsTerminatedBy: ";", enclosedBy: "'", escapedBy: "", linesTerminatedBy: "\r\n", linesStartingBy: "x:" },
        ignoreLines: 2,
        columns: [{ name: "a", variable: false }, { name: "b", variable: true }, { name: "c d", variable: false }],
        set: [{ column: "e", expr: "@b + 1" }, { column: "g", expr: "CONCAT(@b, ',', a)" }]
      }
    })
  })

  it("defaults: LOCAL ignores duplicates, server-side errors on them; tab/newline/backslash", () => {
    const local = translate("LOAD DATA LOCAL INFILE 'f' INTO TABLE t") as { load: { duplicates: string; format: unknown } }
    expect(local.load.duplicates).toBe("ignore")
    expect(local.load.format).toEqual(defaultFormat)
    expect((translate("LOAD DATA INFILE 'f' INTO TABLE t") as { load: { duplicates: string } }).load.duplicates).toBe("error")
  })

  it("rejects bad syntax with 1064 and fixed-width rows with 1235", () => {
    expect(translate("LOAD DATA LOCAL INFILE 'f' INTO t")).toMatchObject({ code: 1064 })
    expect(translate("LOAD DATA LOCAL INFILE 'f' INTO TABLE t FIELDS")).toMatchObject({ code: 1064 })
    expect(translate("LOAD DATA LOCAL INFILE 'f' INTO TABLE t IGNORE x LINES")).toMatchObject({ code: 1064 })
    expect(translate("LOAD DATA LOCAL INFILE 'f' INTO TABLE t FIELDS TERMINATED BY ''")).toMatchObject({ code: 1235 })
  })
})

describe("LOAD DATA file rules", () => {
  it("tab-separated: \\N, escapes, escaped terminators, no trailing empty row", () => {
    expect(parseRows("1\t\\N\ta\\tb\\nc\\\\\n2\tx\\\ty\t\\0\\Z\n", defaultFormat)).toEqual([
      ["1", null, "a\tb\nc\\"],
      ["2", "x\ty", "\0\x1a"]
    ])
    expect(parseRows("a\n\nb", defaultFormat)).toEqual([["a"], [""], ["b"]])
    expect(parseRows("\\NN\t\\\\N\n", defaultFormat)).toEqual([["NN", "\\N"]])
  })

  it("enclosed fields: doubled and escaped quotes, terminators inside, NULL unquoted only, stray quotes kept", () => {
    expect(parseRows('"a,b","say ""hi""","x\\"y"\nNULL,"NULL",\\N\n"multi\nline",ab"c,"d"e"\n', csv)).toEqual([
      ["a,b", 'say "hi"', 'x"y'],
      [null, "NULL", null],
      ["multi\nline", 'ab"c', 'd"e']
    ])
  })

  it("LINES STARTING BY skips lines without the prefix and text before it", () => {
    const f = { ...defaultFormat, fieldsTerminatedBy: ",", linesStartingBy: "xxx" }
    expect(parseRows('xxx"abc",1\nsomething xxx"def",2\n"ghi",3\n', f)).toEqual([['"abc"', "1"], ['"def"', "2"]])
  })

  it("without an escape character backslashes are data", () => {
    expect(parseRows("a\\tb\t\\N\n", { ...defaultFormat, escapedBy: "" })).toEqual([["a\\tb", "\\N"]])
  })
})

describe("LOAD DATA file rules, edge cases", () => {
  it("an escape character equal to the quote acts as doubling only", () => {
    expect(parseRows('"a""b","c"\n', { ...csv, escapedBy: "\"" })).toEqual([['a"b', "c"]])
  })
})
