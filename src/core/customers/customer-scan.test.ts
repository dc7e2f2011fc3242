import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { connectorZadd, customerJson } from "../../../test/fixtures.js";
import { meaningOf, numberEdgeRows, randomNumberText } from "../../../test/support/number-texts.js";
import { mutate, seeded } from "../../../test/support/random.js";
import { decodeRedisRecord } from "../connector/record.js";
import { encodeBase64 } from "../formats/base64.js";
import { scanCustomerZadd } from "./customer-scan.js";

const readLines = (...parts: string[]) =>
  readFileSync(dataPath(...parts), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

const zadd = (members: string[], options: { score?: string; existType?: string } = {}) => {
  const entries = `[${members.map((member) => `{"element":"${encodeBase64(member)}","score":${options.score ?? "0.0"}}`).join(",")}]`;
  return `{"key":"Q3VzdG9tZXI=","existType":"${options.existType ?? "NONE"}","ch":false,"incr":true,"zSetEntries":${entries},"zsetEntries":${entries}}`;
};

const customer = (email: string, birthDay = "1950-06-30", name = "Ann Example") =>
  `{"customerName":"${name}","email":"${email}","phone":"8015551212","birthDay":"${birthDay}"}`;

type CustomerKey = { email: string; birthYear: string };

/** What the scan makes of a record: its customers, or undefined when it leaves the record to the general decoder. */
function scan(text: string): CustomerKey[] | undefined {
  const found: CustomerKey[] = [];
  const recognised = scanCustomerZadd(Buffer.from(text, "utf8"), (email, birthYear) =>
    found.push({
      email: Buffer.from(email).toString("latin1"),
      birthYear: String(birthYear).padStart(4, "0"),
    }),
  );
  if (!recognised) expect(found).toEqual([]);
  return recognised ? found : undefined;
}

/** What the general decoder makes of a record, in the scan's terms; undefined unless it is clean customers. */
function generalDecoding(text: string): CustomerKey[] | undefined {
  const decoded = decodeRedisRecord(text);
  if (!decoded.ok || decoded.value.kind !== "customers" || decoded.value.rejected.length > 0)
    return undefined;
  return decoded.value.customers.map(({ email, birthYear }) => ({ email, birthYear }));
}

describe("scanCustomerZadd", () => {
  it("reads the reference fixture and the real connector's Customer records as the general decoder does", () => {
    const records = [
      readFileSync(dataPath("fixtures", "redis-server", "zadd-customer-sam-test.json"), "utf8").trim(),
      ...readLines("real-data", "redis-server.jsonl"),
    ];
    let recognised = 0;
    for (const record of records) {
      const scanned = scan(record);
      if (scanned === undefined) continue;
      recognised += 1;
      expect(scanned).toEqual(generalDecoding(record));
    }
    expect(recognised).toBeGreaterThan(0);
    expect(scan(records[0] as string)).toEqual([{ email: "sam.test@test.com", birthYear: "2001" }]);
  });

  it("reads several entries, every existType and score form", () => {
    const members = [
      customer("a@test.com", "1937-01-01"),
      customer("b@test.com", "2000-02-29"),
      customer("c@test.com", "0007-03-01"),
    ];
    for (const existType of ["NONE", "NX", "XX"]) {
      for (const score of ["0.0", "-1", "2.5e3", "1E-2"]) {
        const record = zadd(members, { existType, score });
        expect(scan(record)).toEqual([
          { email: "a@test.com", birthYear: "1937" },
          { email: "b@test.com", birthYear: "2000" },
          { email: "c@test.com", birthYear: "0007" },
        ]);
        expect(scan(record)).toEqual(generalDecoding(record));
      }
    }
    const connectorRecord = connectorZadd("Customer", [
      customerJson("C Seven", "C.Seven@test.com", "1944-01-01"),
    ]);
    expect(scan(connectorRecord)).toEqual(generalDecoding(connectorRecord));
  });

  // The general decoder ignores a ZADD's scores, and JSON.parse reads any JSON number (overflowing
  // to ±Infinity, underflowing to 0); so the scan must take exactly the grammar's numbers, any size.
  it.each(numberEdgeRows)(
    "agrees with the general decoder on the ZADD score %s",
    (_label, score, meaning) => {
      const records = [
        zadd([customer("a@test.com"), customer("b@test.com", "1999-12-31")], { score }),
        readLines("real-data", "redis-server.jsonl")
          .find((record) => scan(record) !== undefined)
          ?.replaceAll(/"score":[^,}]*/g, `"score":${score}`) as string,
      ];
      for (const record of records) {
        const scanned = scan(record);
        expect(scanned, record).toEqual(generalDecoding(record));
        expect(scanned === undefined, record).toBe(meaning === "invalid");
      }
    },
  );

  it("agrees with the general decoder on random ZADD scores", () => {
    const random = seeded(99);
    const members = [customer("a@test.com"), customer("b@test.com", "1999-12-31")];
    let recognised = 0;
    let declined = 0;
    for (let round = 0; round < 10_000; round += 1) {
      const score = randomNumberText(random);
      const record = zadd(members.slice(0, 1 + (round % 2)), { score });
      const scanned = scan(record);
      const general = generalDecoding(record);
      // expect is slow in a loop this long, so only a disagreement reaches it
      if (JSON.stringify(scanned) !== JSON.stringify(general)) expect(scanned, record).toEqual(general);
      if ((scanned === undefined) !== (meaningOf(score) === "invalid")) expect.fail(`${score}: ${scanned}`);
      if (scanned === undefined) declined += 1;
      else recognised += 1;
    }
    expect(recognised).toBeGreaterThan(2000);
    expect(declined).toBeGreaterThan(2000);
  });

  it("leaves everything outside its layout to the general decoder", () => {
    const good = customer("a@test.com");
    const others = [
      zadd([good]).replace('"zsetEntries":[', '"zsetEntries":[ '),
      zadd([good]).replace("Q3VzdG9tZXI=", "VXNlcg=="),
      zadd([good], { existType: "MAYBE" }),
      zadd([]),
      zadd([customer("", "1950-01-01")]),
      zadd([customer("a@test.com", "1950-02-30")]),
      zadd([customer('a\\"b@test.com')]),
      zadd([customer("ä@test.com")]),
      zadd([`{"email":"a@test.com","birthDay":"1950-01-01"}`]),
      zadd([good]).slice(0, -1),
      `${zadd([good])} `,
      zadd([`${good} `]),
      zadd([good]).replace(/"zsetEntries":\[.*\]}$/, `"zsetEntries":[]}`),
    ];
    for (const record of others) expect(scan(record), record).toBeUndefined();
  });

  it("never disagrees with the general decoder on mutated records and mutated customers", () => {
    const random = seeded(5);
    const alphabet = '{}[]":,.-0123456789eE+/=AQaqxz\\ ';
    const records = [
      zadd([customer("a@test.com")]),
      zadd([customer("a@test.com"), customer("b@test.com", "1999-12-31")], { score: "-2.5" }),
      connectorZadd("Customer", [customerJson("C Forty-Two", "C.FortyTwo@test.com", "1942-01-01")]),
    ];
    const members = [customer("a@test.com"), customer("b.c@test.com", "2000-02-29", "B C")];
    let recognised = 0;
    for (let round = 0; round < 20_000; round += 1) {
      const mutated =
        round % 2 === 0
          ? mutate(records[round % records.length] as string, random, alphabet)
          : zadd([mutate(members[round % members.length] as string, random, alphabet)]);
      const scanned = scan(mutated);
      if (scanned === undefined) continue;
      recognised += 1;
      expect(scanned, mutated).toEqual(generalDecoding(mutated));
    }
    // Many mutations keep the layout (a digit of a score, a letter of a name or email): those must
    // agree with the general decoder, not merely be refused.
    expect(recognised).toBeGreaterThan(2000);
  });
});
