import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { encodeBase64 } from "../formats/base64.js";
import { decodeRedisRecord } from "./record.js";

const readLines = (...parts: string[]) =>
  readFileSync(dataPath(...parts), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

/** A connector ZADD record as the original writes it, for the given key and members. */
const zadd = (key: string, members: string[]) => {
  const entries = members.map((member) => ({ element: encodeBase64(member), score: 0 }));
  return JSON.stringify({
    key: encodeBase64(key),
    existType: "NONE",
    ch: false,
    incr: false,
    zSetEntries: entries,
    zsetEntries: entries,
  });
};

const sam =
  '{"customerName":"Sam Test","email":"sam.test@test.com","phone":"8015551212","birthDay":"2001-01-03"}';

describe("decodeRedisRecord", () => {
  it("decodes the reference fixture to Sam Test, born 2001", () => {
    const text = readFileSync(dataPath("fixtures", "redis-server", "zadd-customer-sam-test.json"), "utf8");
    expect(decodeRedisRecord(text)).toEqual({
      ok: true,
      value: {
        kind: "customers",
        rejected: [],
        customers: [
          {
            customerName: "Sam Test",
            email: "sam.test@test.com",
            phone: "8015551212",
            birthDay: "2001-01-03",
            birthYear: "2001",
          },
        ],
      },
    });
  });

  it("skips the real captures that are not customers (testkey)", () => {
    const [samLine, testkeyLine] = readLines("real-data", "redis-server.jsonl");
    expect(decodeRedisRecord(samLine ?? "")).toMatchObject({ ok: true, value: { kind: "customers" } });
    expect(decodeRedisRecord(testkeyLine ?? "")).toEqual({
      ok: true,
      value: { kind: "skipped", reason: "key testkey" },
    });
  });

  it("decodes every real Redis member the way the seed's job would, and skips other keys", () => {
    const members = readLines("real-data", "redis-dump-members.jsonl").map(
      (line) => JSON.parse(line) as { key: string; type: string; member?: string },
    );
    const zsets = members.filter((member) => member.type === "zset");
    expect(zsets.length).toBeGreaterThan(90);
    for (const { key, member } of zsets) {
      const decoded = decodeRedisRecord(zadd(key, [member ?? ""]));
      if (key !== "Customer") {
        expect(decoded).toEqual({ ok: true, value: { kind: "skipped", reason: `key ${key}` } });
        continue;
      }
      const customer = JSON.parse(member ?? "") as { email: string; birthDay: string };
      expect(decoded).toMatchObject({
        ok: true,
        value: {
          kind: "customers",
          customers: [{ email: customer.email, birthYear: customer.birthDay.slice(0, 4) }],
        },
      });
    }
  });

  it("decodes the customers of the complete 2021 run", () => {
    const lines = readLines("real-data", "runs", "glorian-2021-04-02", "customer-members.jsonl");
    const decoded = lines.map((member) => decodeRedisRecord(zadd("Customer", [member])));
    expect(decoded.every((result) => result.ok && result.value.kind === "customers")).toBe(true);
    expect(decoded).toHaveLength(30);
  });

  it("takes every entry of a ZADD, not only the first", () => {
    const other = sam.replace("sam.test", "other").replace("2001", "1950");
    const decoded = decodeRedisRecord(zadd("Customer", [sam, other]));
    expect(
      decoded.ok && decoded.value.kind === "customers" && decoded.value.customers.map((c) => c.email),
    ).toEqual(["sam.test@test.com", "other@test.com"]);
  });

  it("keeps the good entries of a record and lists the bad ones", () => {
    const decoded = decodeRedisRecord(zadd("Customer", [sam, '{"email":"x@y.z","birthDay":"2021-02-30"}']));
    expect(decoded).toMatchObject({
      ok: true,
      value: {
        customers: [{ email: "sam.test@test.com" }],
        rejected: [expect.stringContaining("2021-02-30")],
      },
    });
  });

  it.each([
    ["not JSON", "{nope", "not JSON"],
    ["a JSON array", "[1,2]", "not a JSON object"],
    ["a key that is not base64", '{"key":"Q3VzdG9tZXI","zSetEntries":[]}', "key is not valid base64"],
    ["a numeric key", '{"key":5}', "key is not a base64 string"],
    [
      "an element that is not base64",
      '{"key":"Q3VzdG9tZXI=","zSetEntries":[{"element":"%%%","score":0.0}]}',
      "not valid base64",
    ],
    ["a member that is not JSON", zadd("Customer", ["Sam Test"]), "not JSON"],
    ["a member without email", zadd("Customer", ['{"customerName":"x","birthDay":"1950-01-01"}']), "email"],
    [
      "a member with an empty email",
      zadd("Customer", ['{"email":"","birthDay":"1950-01-01"}']),
      "email is empty",
    ],
    ["a member without birthDay", zadd("Customer", ['{"email":"a@b.c"}']), "birthDay"],
    [
      "an impossible date",
      zadd("Customer", ['{"email":"a@b.c","birthDay":"1950-13-01"}']),
      "not a yyyy-MM-dd date",
    ],
    [
      "29 February of a common year",
      zadd("Customer", ['{"email":"a@b.c","birthDay":"1900-02-29"}']),
      "1900-02-29",
    ],
    ["zSetEntries that is not an array", '{"key":"Q3VzdG9tZXI=","zSetEntries":{}}', "not an array"],
  ])("rejects %s", (_name, text, reason) => {
    const decoded = decodeRedisRecord(text);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toContain(reason);
  });

  it.each([
    ["a SELECT", '{"index":0}', "no key"],
    ["a DEL", `{"keys":["${encodeBase64("Customer")}"]}`, "no key"],
    [
      "a SET of another key",
      `{"key":"${encodeBase64("myKey")}","value":"bXlWYWx1ZQ==","expiredType":"NONE"}`,
      "key myKey",
    ],
    [
      "a snapshot of a Customer key that is not a sorted set",
      `{"db":{"dbNumber":0,"dbsize":1,"expires":0},"valueRdbType":0,"key":"${encodeBase64("Customer")}","value":"eA=="}`,
      "without zSetEntries",
    ],
  ])("skips %s", (_name, text, reason) => {
    expect(decodeRedisRecord(text)).toMatchObject({
      ok: true,
      value: { kind: "skipped", reason: expect.stringContaining(reason) },
    });
  });

  it("reads the customers of a snapshot of the Customer sorted set", () => {
    const element = encodeBase64(sam);
    const snapshot = `{"db":{"dbNumber":0,"dbsize":4,"expires":0},"valueRdbType":5,"expiredType":"NONE","expiredValue":null,"evictType":"NONE","evictValue":null,"key":"${encodeBase64("Customer")}","value":[{"element":"${element}","score":0.0}],"expiredSeconds":null,"expiredMs":null}`;
    expect(decodeRedisRecord(snapshot)).toMatchObject({
      ok: true,
      value: { kind: "customers", customers: [{ email: "sam.test@test.com", birthYear: "2001" }] },
    });
  });

  it("accepts a 29 February of a leap year and ancient years as written", () => {
    const decoded = decodeRedisRecord(
      zadd("Customer", [
        '{"email":"a@b.c","birthDay":"2000-02-29"}',
        '{"email":"iambark","birthDay":"0007-07-07"}',
      ]),
    );
    expect(
      decoded.ok && decoded.value.kind === "customers" && decoded.value.customers.map((c) => c.birthYear),
    ).toEqual(["2000", "0007"]);
  });
});
