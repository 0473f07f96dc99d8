/** Value formatting and coercion, and binary-row encoding against parameter decoding. */
import { describe, expect, it } from "vitest"
import { ColumnFlag, ColumnType } from "../../../src/mysql/protocol/Constants.ts"
import { decodeExecuteParams } from "../../../src/mysql/protocol/Decode.ts"
import { type ColumnDef, writeBinaryRow, writeTextRow } from "../../../src/mysql/protocol/Encode.ts"
import { ProtocolError } from "../../../src/mysql/protocol/ProtocolError.ts"
import { ResponseBuffer } from "../../../src/mysql/protocol/ResponseBuffer.ts"
import { formatDouble, parseDateTime, parseNumericPrefix, parseTime, textOf } from "../../../src/mysql/protocol/Values.ts"
import { doubleFormats } from "./fixtures/goldens.ts"

describe("formatDouble matches MariaDB's DOUBLE text", () => {
  it(`for all ${doubleFormats.length} captured values`, () => {
    const wrong = doubleFormats.filter(([js, maria]) => formatDouble(Number(js)) !== maria)
    expect(wrong).toEqual([])
  })

  it("edge cases", () => {
    expect(formatDouble(0)).toBe("0")
    expect(formatDouble(-0)).toBe("0")
    expect(formatDouble(1e15)).toBe("1e15")
    expect(formatDouble(999999999999999)).toBe("999999999999999")
    expect(formatDouble(1e-15)).toBe("0.000000000000001")
    expect(formatDouble(1.5e-16)).toBe("1.5e-16")
    expect(formatDouble(Number.NaN)).toBe("nan")
    expect(formatDouble(-Infinity)).toBe("-inf")
  })
})

describe("textOf", () => {
  it("prints integers as digits up to 2^63 and doubles the MariaDB way", () => {
    expect(textOf(42)).toBe("42")
    expect(textOf(-0)).toBe("0")
    expect(textOf(1e15)).toBe("1000000000000000")
    expect(textOf(2 ** 62)).toBe("4611686018427387904")
    expect(textOf(2 ** 63)).toBe("9.223372036854776e18")
    expect(textOf(0.5)).toBe("0.5")
    expect(textOf(1e-7)).toBe("0.0000001")
    expect(textOf(12345678901234567890n)).toBe("12345678901234567890")
    expect(textOf(true)).toBe("1")
  })

  it("writeTextRow encodes each kind of value", () => {
    const out = new ResponseBuffer()
    writeTextRow(out, [null, undefined, "é", Buffer.from([0xff]), new Uint8Array([1]), 7n, 1.5, false])
    expect(out.take().subarray(4).toString("hex")).toBe("fbfb" + "02c3a9" + "01ff" + "0101" + "0137" + "03312e35" + "0130")
  })
})

describe("parseNumericPrefix (MySQL string → number)", () => {
  it.each([
    ["12abc", 12],
    ["  -3.5e2x", -350],
    ["abc", 0],
    ["", 0],
    [".5", 0.5],
    ["-.5", -0.5],
    ["1e", 1],
    ["1e+", 1],
    ["0x1A", 0],
    ["+7", 7],
    ["-", 0],
    ["18446744073709551615", 18446744073709551615n],
    ["-9007199254740993 rows", -9007199254740993n]
  ])("%s", (s, n) => {
    expect(parseNumericPrefix(s)).toBe(n)
  })
})

describe("temporal parsing", () => {
  it("DATETIME forms", () => {
    expect(parseDateTime("2024-01-02 03:04:05.5")).toMatchObject({ year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, micro: 500000 })
    expect(parseDateTime("2024-01-02T03:04:05.1234567Z")).toMatchObject({ second: 5, micro: 123456 })
    expect(parseDateTime("2024/1/2")).toMatchObject({ year: 2024, month: 1, day: 2, hour: 0 })
    expect(parseDateTime("20240102030405")).toMatchObject({ year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5 })
    expect(parseDateTime("yesterday")).toBeUndefined()
  })

  it("TIME forms", () => {
    expect(parseTime("-838:59:59")).toMatchObject({ negative: true, day: 34, hour: 22, minute: 59, second: 59 })
    expect(parseTime("1 02:03:04.000005")).toMatchObject({ day: 1, hour: 2, minute: 3, second: 4, micro: 5 })
    expect(parseTime("12:30")).toMatchObject({ day: 0, hour: 12, minute: 30, second: 0 })
    expect(parseTime("123456")).toMatchObject({ hour: 12, minute: 34, second: 56 })
    expect(parseTime("noon")).toBeUndefined()
  })
})

const column = (type: number, flags = 0): ColumnDef => ({
  schema: "",
  table: "",
  orgTable: "",
  name: "c",
  orgName: "c",
  charset: 63,
  length: 0,
  type,
  flags,
  decimals: 0
})

/**
 * Binary rows and COM_STMT_EXECUTE parameters share the value encoding, so a value written by
 * writeBinaryRow and handed to decodeExecuteParams as a parameter of the same type must come
 * back in its canonical form.
 */
const roundTrip = (type: number, unsigned: boolean, value: unknown) => {
  const out = new ResponseBuffer()
  writeBinaryRow(out, [column(type, unsigned ? ColumnFlag.UNSIGNED : 0)], [value])
  const row = out.take().subarray(4)
  const valueBytes = row.subarray(2) // 0x00 header + 1 bitmap byte
  const body = Buffer.concat([Buffer.from([0, 1, type, unsigned ? 0x80 : 0]), valueBytes])
  const r = decodeExecuteParams(body, 1, undefined, undefined)
  if (r instanceof ProtocolError) throw r
  return r.values[0]
}

describe("binary row values ↔ execute parameters", () => {
  const T = ColumnType
  it.each([
    [T.TINY, false, -5, -5],
    [T.TINY, true, 200, 200],
    [T.TINY, false, 300, 127],
    [T.SHORT, false, -300, -300],
    [T.SHORT, true, 65535, 65535],
    [T.YEAR, false, 2024, 2024],
    [T.INT24, false, -70000, -70000],
    [T.LONG, false, -2147483648, -2147483648],
    [T.LONG, true, 4294967295, 4294967295],
    [T.LONGLONG, false, 12345, 12345],
    [T.LONGLONG, false, -(2n ** 63n), -(2n ** 63n)],
    [T.LONGLONG, false, 2n ** 63n - 1n, 2n ** 63n - 1n],
    [T.LONGLONG, true, 2n ** 64n - 1n, 2n ** 64n - 1n],
    [T.LONGLONG, true, -1, 0],
    [T.LONGLONG, false, 2 ** 53 - 1, 2 ** 53 - 1],
    [T.LONGLONG, false, -(2 ** 53) + 1, -(2 ** 53) + 1],
    [T.LONGLONG, false, 2 ** 53, 2n ** 53n],
    [T.LONGLONG, false, -(2n ** 53n), -(2n ** 53n)],
    [T.LONGLONG, false, 1e30, 2n ** 63n - 1n],
    [T.FLOAT, false, 0.1, Math.fround(0.1)],
    [T.DOUBLE, false, 0.1, 0.1],
    [T.DOUBLE, false, "abc", 0],
    [T.NEWDECIMAL, false, "12.34", "12.34"],
    [T.DECIMAL, false, 12.5, "12.5"],
    [T.DATE, false, "2024-01-02", "2024-01-02"],
    [T.DATE, false, "2024-01-02 10:11:12", "2024-01-02"],
    [T.DATE, false, "0000-00-00", "0000-00-00"],
    [T.DATETIME, false, "2024-01-02 03:04:05.000001", "2024-01-02 03:04:05.000001"],
    [T.DATETIME, false, "2024-01-02", "2024-01-02 00:00:00"],
    [T.TIMESTAMP, false, "2024-01-02 03:04:05", "2024-01-02 03:04:05"],
    [T.DATETIME, false, "0000-00-00 00:00:00", "0000-00-00 00:00:00"],
    [T.DATETIME, false, "not a date", "0000-00-00 00:00:00"],
    [T.TIME, false, "-838:59:59", "-838:59:59"],
    [T.TIME, false, "12:00:00.5", "12:00:00.500000"],
    [T.TIME, false, "1 02:03:04", "26:03:04"],
    [T.TIME, false, "00:00:00", "00:00:00"],
    [T.VAR_STRING, false, "héllo", "héllo"],
    [T.VAR_STRING, false, 1.5, "1.5"],
    [T.VAR_STRING, false, Buffer.from([0xff, 0xfe]), Buffer.from([0xff, 0xfe])],
    [T.STRING, false, 10n, "10"],
    [T.JSON, false, '{"a":1}', '{"a":1}'],
    [T.BLOB, false, Buffer.from("abc"), Buffer.from("abc")],
    [T.BLOB, false, "text", Buffer.from("text")],
    [T.GEOMETRY, false, Buffer.from([1, 2]), Buffer.from([1, 2])]
  ])("type %i unsigned=%s: %s", (type, unsigned, value, expected) => {
    expect(roundTrip(type, unsigned, value)).toEqual(expected)
  })

  it("the NULL bitmap of a binary row starts at bit 2", () => {
    const out = new ResponseBuffer()
    const cols = Array.from({ length: 9 }, () => column(ColumnType.TINY))
    writeBinaryRow(out, cols, [null, 1, null, 2, 3, 4, null, 5, undefined])
    // bits 2, 4, 8, 10 → 0b0001_0100, 0b0000_0101
    expect(out.take().subarray(4).toString("hex")).toBe("00" + "1405" + "0102030405")
  })
})
