import { describe, expect, it } from "vitest";
import { seeded } from "../../../test/support/random.js";
import { encodeGraphRecord, encodeGraphRecords, type GraphRecord } from "./graph-record.js";

describe("encodeGraphRecords", () => {
  it("writes for each record exactly the bytes of encodeGraphRecord", () => {
    const random = seeded(11);
    const pieces = [
      "a",
      "Z",
      "0",
      ".",
      "@",
      "-",
      " ",
      '"',
      "\\",
      "\u0001",
      "\u007f",
      "é",
      "€",
      "\u2028",
      "😀",
      "~",
    ];
    const text = (length: number) =>
      Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)] as string).join("");
    const records: GraphRecord[] = [];
    for (let index = 0; index < 2000; index += 1) {
      const email = random() < 0.5 ? `Customer${index}@test.com` : text(Math.floor(random() * 12));
      records.push({
        customer: random() < 0.8 ? email : text(5),
        score: random() < 0.9 ? String(index / 8) : text(3),
        email,
        birthYear: random() < 0.9 ? String(1930 + (index % 70)) : text(2),
      });
    }
    const values = encodeGraphRecords(records);
    expect(values).toHaveLength(records.length);
    values.forEach((value, index) => {
      expect(value.toString("utf8")).toBe(encodeGraphRecord(records[index] as GraphRecord));
    });
  });

  it("gives nothing for nothing", () => {
    expect(encodeGraphRecords([])).toEqual([]);
  });
});
