import { describe, expect, it } from "vitest";
import {
  compareOffsets,
  containsControlRecord,
  decodeRecordBatchHeader,
  decodeRecords,
  indexOfFirstAtOrAfter,
  type RecordBatchContext,
  type RecordBatchHeader,
} from "./record-batch-decoding.js";

/** Zigzag varint bytes of a value, as Kafka writes record fields. */
function varInt(value: number): number[] {
  let raw = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (raw >= 0x80) {
    bytes.push((raw % 0x80) | 0x80);
    raw = Math.floor(raw / 0x80);
  }
  bytes.push(raw);
  return bytes;
}

const bytesField = (value: Buffer | null) =>
  value === null ? varInt(-1) : [...varInt(value.length), ...value];

/** One uncompressed batch of records with the given headers (keys and values as given), at offset 0. */
function batchWithHeaders(headerLists: [Buffer | null, Buffer | null][][]): Buffer {
  const records = headerLists.flatMap((headers, index) => {
    const body = [
      0,
      ...varInt(0),
      ...varInt(index),
      ...bytesField(null),
      ...bytesField(Buffer.from("v")),
      ...varInt(headers.length),
      ...headers.flatMap(([key, value]) => [...bytesField(key), ...bytesField(value)]),
    ];
    return [...varInt(body.length), ...body];
  });
  const header = Buffer.alloc(61);
  header.writeInt32BE(49 + records.length, 8);
  header.writeInt8(2, 16);
  header.writeInt32BE(headerLists.length - 1, 23);
  header.writeInt32BE(headerLists.length, 57);
  return Buffer.concat([header, Buffer.from(records)]);
}

function decodeAll(bytes: Buffer) {
  const header = decodeRecordBatchHeader(bytes, 0) as RecordBatchHeader;
  expect(header.partial).toBe(false);
  return decodeRecords(bytes, header.recordsStart, header.end, header.recordCount, header);
}

describe("decoding a record batch's header", () => {
  it("reports a batch the bytes end within as partial, with where it would end", () => {
    const batch = batchWithHeaders([[], []]);
    expect(decodeRecordBatchHeader(batch, 0)).toMatchObject({ partial: false, end: batch.length });
    expect(decodeRecordBatchHeader(batch.subarray(0, 40), 0)).toEqual({
      partial: true,
      end: batch.length,
      length: batch.length - 12,
      available: 28,
    });
  });
});

describe("decoding headers", () => {
  const key = (name: string) => Buffer.from(name);
  const value = (text: string) => Buffer.from(text);

  it("collects a repeated key's values in order, null values included", () => {
    const [record] = decodeAll(
      batchWithHeaders([
        [
          [key("a"), value("1")],
          [key("b"), null],
          [key("a"), value("2")],
          [key("b"), value("3")],
          [key("a"), null],
        ],
      ]),
    );
    expect(record?.headers).toEqual({ a: [value("1"), value("2"), null], b: [null, value("3")] });
  });

  it("gives records without headers an empty object that cannot be written to", () => {
    const [first, second] = decodeAll(batchWithHeaders([[], []]));
    expect(first?.headers).toEqual({});
    expect(Object.isFrozen(first?.headers)).toBe(true);
    expect(second?.headers).toBe(first?.headers);
  });

  // kafkajs looks a key up on a plain object, so "toString" finds Object.prototype's and "__proto__"
  // sets the prototype; here every key is the record's own.
  it("takes keys that name Object.prototype's members as plain keys", () => {
    const [record] = decodeAll(
      batchWithHeaders([
        [
          [key("toString"), value("1")],
          [key("__proto__"), value("2")],
          [key("constructor"), value("3")],
          [key("constructor"), value("4")],
        ],
      ]),
    );
    const headers = record?.headers as Record<string, unknown>;
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.keys(headers)).toEqual(["toString", "__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(headers, "__proto__")?.value).toEqual(value("2"));
    expect(headers.constructor).toEqual([value("3"), value("4")]);
  });

  it("names a null key 'null', as kafkajs does", () => {
    const [record] = decodeAll(batchWithHeaders([[[null, value("x")]]]));
    expect(record?.headers).toEqual({ null: value("x") });
  });
});

describe("comparing offsets given as decimal text", () => {
  it.each([
    ["0", "0", 0],
    ["1", "2", -1],
    ["10", "9", 1],
    ["-1", "0", -1],
    ["9007199254740993", "9007199254740992", 1],
    ["9007199254740992", "9007199254740993", -1],
    ["9223372036854775807", "9223372036854775807", 0],
    ["9007199254740991", "9007199254740992", -1],
  ])("%s against %s", (a, b, sign) => {
    expect(Math.sign(compareOffsets(a, b))).toBe(sign);
  });

  it("finds the first record at or after an offset", () => {
    const records = ["9007199254740991", "9007199254740992", "9007199254740993", "9007199254740995"].map(
      (offset) => ({ offset }),
    );
    expect(indexOfFirstAtOrAfter(records, "0")).toBe(0);
    expect(indexOfFirstAtOrAfter(records, "9007199254740993")).toBe(2);
    expect(indexOfFirstAtOrAfter(records, "9007199254740994")).toBe(3);
    expect(indexOfFirstAtOrAfter(records, "9007199254740996")).toBe(4);
    expect(indexOfFirstAtOrAfter([], "5")).toBe(0);
  });
});

describe("looking for control records", () => {
  /** Records of consecutive batches: "count:lastOffsetDelta" each, "marker" a control batch of one. */
  const fetched = (batches: string) =>
    batches.split(" ").flatMap((batch) => {
      const isControlBatch = batch === "marker";
      const [count, lastOffsetDelta] = isControlBatch ? [1, 0] : batch.split(":").map(Number);
      const batchContext = { lastOffsetDelta, isControlBatch } as RecordBatchContext;
      return Array.from({ length: count ?? 0 }, () => ({ isControlRecord: isControlBatch, batchContext }));
    });

  it.each([
    ["whole batches, no marker", "3:2 1:0 4:3", false],
    ["a marker after whole batches", "3:2 4:3 marker 2:1", true],
    ["a marker after a compacted batch", "2:5 marker", true],
    ["a marker after a batch cut at the fetched offset", "2:3 3:2 marker", true],
    ["a compacted batch, no marker", "2:9 3:2", false],
    ["a marker first", "marker 3:2", true],
  ])("%s", (_name, batches, expected) => {
    expect(containsControlRecord(fetched(batches))).toBe(expected);
  });

  it("reads records without a batch context one by one", () => {
    expect(containsControlRecord([])).toBe(false);
    expect(containsControlRecord([{ isControlRecord: false }, { isControlRecord: true }] as never)).toBe(
      true,
    );
    expect(containsControlRecord([{ isControlRecord: false }, { isControlRecord: false }] as never)).toBe(
      false,
    );
  });
});
