import { describe, expect, it } from "vitest";
import { encodeSnapshotRecord, encodeSnapshotRecords } from "../connector/snapshot-record.js";
import { decodeRdb, type RdbEntry } from "./rdb.js";

// SAVE of a Redis 7.0.15 with small encoding limits (zset/hash-max-listpack-entries 2,
// set-max-intset-entries 2), holding one key of every type and encoding, a TTL, a stream with a
// consumer group, a key in db 1, and the reference customer.
const redis7 = Buffer.from(
  "UkVESVMwMDEw+glyZWRpcy12ZXIGNy4wLjE1+gpyZWRpcy1iaXRzwED6BWN0aW1lwlT+A2v6CHVzZWQtbWVtwhjZEQD6CGFvZi1iYXNlwAD+APsPAQICc2gDAXoBeQF4BQJ6cwQBYwAAAAAAAAhAAWIAAAAAAAAAQAFhAAAAAAAA8D8BZAAAAAAAAPD/EQJ6bBQUAAAABACBYQIAAYFiAoMxLjUE//wYWY8NogEAAAADdHRsAXYABHNiaWcKMzAwMDAwMDAwMBICbDEBAhcXAAAABQCBYQKBYgIBAd7UAvJwEQEE/wAEc2ludME5MAACczEFaGVsbG8ABXNsb25nwxJAZAphYmNkZWZnaGlqYeBOCQFpagsCc2kMAgAAAAIAAAABAAIAEwJzdAEQAAABogeZeC8AAAAAAAAAAB0dAAAACgABAQABAQGBZgIAAQIBAAEAAYF2AgQB/wGBAAABogeZeC8AgQAAAaIHmXgvAAAAAQEBZ4EAAAGiB5l4LwCB//////////8AABACaGwNDQAAAAIAgWYCgXYC/wUIQ3VzdG9tZXIBQGR7ImN1c3RvbWVyTmFtZSI6IlNhbSBUZXN0IiwiZW1haWwiOiJzYW0udGVzdEB0ZXN0LmNvbSIsInBob25lIjoiODAxNTU1MTIxMiIsImJpcnRoRGF5IjoiMjAwMS0wMS0wMyJ9AAAAAAAAAAAABHNuZWfA+QQCaGgDAWLAAgFjwAMBYcAB/gH7AQAABW90aGVyAXj/A9hd+kyALZk=",
  "base64",
);

const text = (entry: RdbEntry | undefined) => entry?.key.toString("latin1");
const byKey = (entries: RdbEntry[], key: string) => entries.find((entry) => text(entry) === key);
const strings = (items: Buffer[]) => items.map((item) => item.toString("latin1"));

/** A minimal RDB around hand-written objects (for encodings Redis 7 no longer writes). */
const rdbOf = (...objects: number[][]) =>
  Buffer.concat([
    Buffer.from("REDIS0009"),
    Buffer.from(objects.flat()),
    Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
  ]);
const str = (value: string) => [value.length, ...Buffer.from(value, "latin1")];
const blob = (bytes: number[]) => [bytes.length, ...bytes];

describe("decodeRdb", () => {
  const contents = decodeRdb(redis7);

  it("reads every key of a Redis 7 RDB, in file order, to the end", () => {
    expect(contents.error).toBeUndefined();
    expect(contents.version).toBe(10);
    expect(contents.entries.map((entry) => [text(entry), entry.valueRdbType, entry.value.type])).toEqual([
      ["sh", 2, "set"],
      ["zs", 5, "zset"],
      ["zl", 17, "zset"],
      ["ttl", 0, "string"],
      ["sbig", 0, "string"],
      ["l1", 18, "list"],
      ["sint", 0, "string"],
      ["s1", 0, "string"],
      ["slong", 0, "string"],
      ["si", 11, "set"],
      ["st", 19, "unsupported"],
      ["hl", 16, "hash"],
      ["Customer", 5, "zset"],
      ["sneg", 0, "string"],
      ["hh", 4, "hash"],
      ["other", 0, "string"],
    ]);
  });

  it("decodes values of every encoding", () => {
    const { entries } = contents;
    expect(byKey(entries, "slong")?.value).toEqual({
      type: "string",
      value: Buffer.from("abcdefghij".repeat(10)),
    });
    expect(byKey(entries, "sint")?.value).toEqual({ type: "string", value: Buffer.from("12345") });
    expect(byKey(entries, "sneg")?.value).toEqual({ type: "string", value: Buffer.from("-7") });
    expect(byKey(entries, "sbig")?.value).toEqual({ type: "string", value: Buffer.from("3000000000") });
    const list = byKey(entries, "l1")?.value;
    expect(list?.type === "list" && strings(list.value)).toEqual(["a", "b", "1", "-300", "70000"]);
    const intset = byKey(entries, "si")?.value;
    expect(intset?.type === "set" && strings(intset.value)).toEqual(["1", "2"]);
    const zset = byKey(entries, "zs")?.value;
    expect(
      zset?.type === "zset" && zset.value.map(({ element, score }) => [element.toString(), score]),
    ).toEqual([
      ["c", 3],
      ["b", 2],
      ["a", 1],
      ["d", Number.NEGATIVE_INFINITY],
    ]);
    const packed = byKey(entries, "zl")?.value;
    expect(
      packed?.type === "zset" && packed.value.map(({ element, score }) => [element.toString(), score]),
    ).toEqual([
      ["a", 0],
      ["b", 1.5],
    ]);
    const hash = byKey(entries, "hh")?.value;
    expect(hash?.type === "hash" && hash.value.map((pair) => strings(pair)).sort()).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "3"],
    ]);
    expect(byKey(entries, "ttl")?.expiry).toEqual({ type: "MS", value: 1795523827992n });
    expect(byKey(entries, "other")?.db).toEqual({ dbNumber: 1, dbsize: 1n, expires: 0n });
    expect(byKey(entries, "s1")?.db).toEqual({ dbNumber: 0, dbsize: 15n, expires: 1n });
  });

  it("reads the ziplist encodings of Redis 6 and older", () => {
    // A list as one ziplist: "ab", 12 (immediate), -300 (int16), 100 (int8), 70000 (int24),
    // -5 (int32), 2^40 (int64), one entry after a long-form previous length.
    const ziplist = [
      ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      ...[0, 0x02, 0x61, 0x62],
      ...[4, 0xfd],
      ...[2, 0xc0, 0xd4, 0xfe],
      ...[3, 0xfe, 100],
      ...[3, 0xf0, 0x70, 0x11, 0x01],
      ...[4, 0xd0, 0xfb, 0xff, 0xff, 0xff],
      ...[5, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0],
      ...[0xfe, 9, 0, 0, 0, 0x01, 0x7a],
      0xff,
    ];
    const { entries, error } = decodeRdb(rdbOf([10, ...str("zl"), ...blob(ziplist)]));
    expect(error).toBeUndefined();
    const value = entries[0]?.value;
    expect(value?.type === "list" && strings(value.value)).toEqual([
      "ab",
      "12",
      "-300",
      "100",
      "70000",
      "-5",
      String(2 ** 40),
      "z",
    ]);
  });

  it("reads the old text-scored sorted set, seconds expiry and LRU/LFU hints", () => {
    const { entries, error } = decodeRdb(
      rdbOf(
        [0xfd, 0x00, 0x94, 0x35, 0x77, 0xf8, 0x05],
        [3, ...str("z"), 2, ...str("a"), ...str("1.5"), ...str("b"), 254],
        [0xf9, 7, 0, ...str("k"), ...str("v")],
      ),
    );
    expect(error).toBeUndefined();
    expect(entries[0]?.expiry).toEqual({ type: "SECOND", value: 2000000000n });
    expect(entries[0]?.evict).toEqual({ type: "LRU", value: 5n });
    const zset = entries[0]?.value;
    expect(zset?.type === "zset" && zset.value.map(({ score }) => score)).toEqual([
      1.5,
      Number.POSITIVE_INFINITY,
    ]);
    expect(entries[1]?.evict).toEqual({ type: "LFU", value: 7n });
    expect(entries[1]?.expiry).toBeUndefined();
  });

  it("stops at a type it cannot read, keeping the keys before it", () => {
    const { entries, error } = decodeRdb(rdbOf([0, ...str("k"), ...str("v")], [99, ...str("x")]));
    expect(entries.map(text)).toEqual(["k"]);
    expect(error).toMatch(/cannot read RDB value type 99/);
  });

  it("reports a truncated file and a missing header", () => {
    expect(decodeRdb(redis7.subarray(0, 200)).error).toMatch(/ends early/);
    expect(decodeRdb(Buffer.from("HELLO")).error).toMatch(/ends early|no REDIS header/);
  });
});

describe("encodeSnapshotRecord", () => {
  const { entries } = decodeRdb(redis7);
  const datatype = (name: string) => `com.moilioncircle.redis.replicator.rdb.datatype.${name}`;

  it("writes a sorted set in the contract's KeyStringValueZSet shape", () => {
    const customer = byKey(entries, "Customer") as RdbEntry;
    expect(encodeSnapshotRecord({ ...customer, db: { dbNumber: 0, dbsize: 1n, expires: 0n } })).toEqual({
      key: datatype("KeyStringValueZSet"),
      value:
        '{"db":{"dbNumber":0,"dbsize":1,"expires":0},"valueRdbType":5,"expiredType":"NONE","expiredValue":null,"evictType":"NONE","evictValue":null,"key":"Q3VzdG9tZXI=","value":[{"element":"eyJjdXN0b21lck5hbWUiOiJTYW0gVGVzdCIsImVtYWlsIjoic2FtLnRlc3RAdGVzdC5jb20iLCJwaG9uZSI6IjgwMTU1NTEyMTIiLCJiaXJ0aERheSI6IjIwMDEtMDEtMDMifQ==","score":0.0}],"expiredSeconds":null,"expiredMs":null}',
    });
  });

  it.each([
    [
      "ttl",
      "KeyStringValueString",
      '{"db":{"dbNumber":0,"dbsize":15,"expires":1},"valueRdbType":0,"expiredType":"MS","expiredValue":1795523827992,"evictType":"NONE","evictValue":null,"key":"dHRs","value":"dg==","expiredSeconds":227498264,"expiredMs":1795523827992}',
    ],
    [
      "l1",
      "KeyStringValueList",
      '{"db":{"dbNumber":0,"dbsize":15,"expires":1},"valueRdbType":18,"expiredType":"NONE","expiredValue":null,"evictType":"NONE","evictValue":null,"key":"bDE=","value":["YQ==","Yg==","MQ==","LTMwMA==","NzAwMDA="],"expiredSeconds":null,"expiredMs":null}',
    ],
    [
      "si",
      "KeyStringValueSet",
      '{"db":{"dbNumber":0,"dbsize":15,"expires":1},"valueRdbType":11,"expiredType":"NONE","expiredValue":null,"evictType":"NONE","evictValue":null,"key":"c2k=","value":["MQ==","Mg=="],"expiredSeconds":null,"expiredMs":null}',
    ],
    [
      "hl",
      "KeyStringValueHash",
      '{"db":{"dbNumber":0,"dbsize":15,"expires":1},"valueRdbType":16,"expiredType":"NONE","expiredValue":null,"evictType":"NONE","evictValue":null,"key":"aGw=","value":{"Zg==":"dg=="},"expiredSeconds":null,"expiredMs":null}',
    ],
    [
      "zs",
      "KeyStringValueZSet",
      '{"db":{"dbNumber":0,"dbsize":15,"expires":1},"valueRdbType":5,"expiredType":"NONE","expiredValue":null,"evictType":"NONE","evictValue":null,"key":"enM=","value":[{"element":"Yw==","score":3.0},{"element":"Yg==","score":2.0},{"element":"YQ==","score":1.0},{"element":"ZA==","score":"-Infinity"}],"expiredSeconds":null,"expiredMs":null}',
    ],
  ])("writes %s as %s", (key, className, value) => {
    expect(encodeSnapshotRecord(byKey(entries, key) as RdbEntry)).toEqual({
      key: datatype(className),
      value,
    });
  });

  it("has no record for a stream", () => {
    expect(encodeSnapshotRecord(byKey(entries, "st") as RdbEntry)).toBeUndefined();
  });
});

describe("encodeSnapshotRecords", () => {
  const db = { dbNumber: 0, dbsize: 1n, expires: 0n };
  const zset = (count: number, size = 40): RdbEntry => ({
    db,
    valueRdbType: 5,
    key: Buffer.from("Customer"),
    value: {
      type: "zset",
      value: Array.from({ length: count }, (_, index) => ({
        element: Buffer.from(`member-${index}-`.padEnd(size, "x")),
        score: index,
      })),
    },
    expiry: undefined,
    evict: undefined,
  });
  const elementsOf = (records: { value: string }[]) =>
    records.flatMap((record) =>
      (JSON.parse(record.value).value as { element: string }[]).map((entry) =>
        Buffer.from(entry.element, "base64").toString(),
      ),
    );

  it("writes one record, exactly encodeSnapshotRecord's, while it fits", () => {
    const entry = zset(10);
    expect(encodeSnapshotRecords(entry)).toEqual({ records: [encodeSnapshotRecord(entry)], leftOut: 0 });
  });

  it("splits a collection over the limit into records under it, every item once and in order", () => {
    const entry = zset(1000);
    const whole = encodeSnapshotRecord(entry) as { key: string; value: string };
    const limit = 10_000;
    const { records, leftOut } = encodeSnapshotRecords(entry, limit);
    expect(leftOut).toBe(0);
    expect(records.length).toBeGreaterThan(whole.value.length / limit);
    for (const record of records) {
      expect(Buffer.byteLength(record.key) + Buffer.byteLength(record.value)).toBeLessThanOrEqual(limit);
      expect(record.key).toBe(whole.key);
    }
    expect(elementsOf(records)).toEqual(elementsOf([whole]));
  });

  it("leaves out, and counts, what cannot be split: a long string, or one item over the limit", () => {
    const text: RdbEntry = {
      ...zset(0),
      valueRdbType: 0,
      value: { type: "string", value: Buffer.alloc(5000, 97) },
    };
    expect(encodeSnapshotRecords(text, 1000)).toEqual({ records: [], leftOut: 1 });
    const entry = zset(20);
    const items = (entry.value as { value: { element: Buffer; score: number }[] }).value;
    items[7] = { element: Buffer.alloc(5000, 98), score: 7 };
    const { records, leftOut } = encodeSnapshotRecords(entry, 1000);
    expect(leftOut).toBe(1);
    expect(elementsOf(records)).toHaveLength(19);
  });
});
