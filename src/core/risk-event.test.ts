import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sharedPath } from "../../test/shared.js";
import { decodeRiskEvent } from "./risk-event.js";

const readLines = (...parts: string[]) =>
  readFileSync(sharedPath(...parts), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

describe("decodeRiskEvent", () => {
  it("decodes the fixture", () => {
    const text = readFileSync(sharedPath("fixtures", "stedi-events", "example.json"), "utf8");
    expect(decodeRiskEvent(text)).toEqual({
      ok: true,
      value: { customer: "Jason.Mitra@test.com", score: 7, riskDate: "2020-09-14T07:54:06.417Z" },
    });
  });

  it.each([
    ["real-data", "stedi-events.jsonl"],
    ["real-data", "runs/glorian-2021-04-02/stedi-events.jsonl"],
  ])("decodes every captured risk event in %s/%s", (...parts) => {
    const lines = readLines(...parts);
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) {
      const expected = JSON.parse(line) as { customer: string; score: number };
      expect(decodeRiskEvent(line)).toMatchObject({
        ok: true,
        value: { customer: expected.customer, score: expected.score },
      });
    }
  });

  it("accepts an event without riskDate (Gson omits nulls)", () => {
    expect(decodeRiskEvent('{"customer":"a@b.c","score":-1.5}')).toEqual({
      ok: true,
      value: { customer: "a@b.c", score: -1.5 },
    });
  });

  it.each([
    ["not JSON", "Jason", "not JSON"],
    ["no customer", '{"score":1.0}', "customer"],
    ["an empty customer", '{"customer":"","score":1.0}', "customer is empty"],
    ["a score that is a string", '{"customer":"a@b.c","score":"7.0"}', "score"],
    ["a missing score", '{"customer":"a@b.c"}', "score"],
    ["a bad riskDate", '{"customer":"a@b.c","score":1.0,"riskDate":"yesterday"}', "riskDate"],
    [
      "an impossible riskDate",
      '{"customer":"a@b.c","score":1.0,"riskDate":"2020-02-31T10:00:00.000Z"}',
      "riskDate",
    ],
    ["null", "null", "risk event"],
  ])("rejects %s", (_name, text, reason) => {
    const decoded = decodeRiskEvent(text);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toContain(reason);
  });
});
