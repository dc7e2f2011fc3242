import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { mutate, seeded } from "../../../test/support/random.js";
import { decodeRiskEvent, decodeRiskScore, scanRiskScore } from "./risk-event.js";

const readLines = (...parts: string[]) =>
  readFileSync(dataPath(...parts), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

describe("decodeRiskEvent", () => {
  it("decodes the fixture", () => {
    const text = readFileSync(dataPath("fixtures", "stedi-events", "example.json"), "utf8");
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

/** What the general decoder makes of an event, in the fast path's terms. */
function general(text: string) {
  const decoded = decodeRiskEvent(text);
  return decoded.ok ? { customer: decoded.value.customer, score: decoded.value.score } : undefined;
}

describe("scanRiskScore (the join's fast path)", () => {
  const events = readFileSync(dataPath("real-data", "stedi-events.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

  it("reads the real STEDI app's events as the general decoder does", () => {
    let recognised = 0;
    for (const line of events) {
      const scanned = scanRiskScore(Buffer.from(line));
      if (scanned === undefined) continue;
      recognised += 1;
      expect(scanned).toEqual(general(line));
    }
    expect(recognised).toBe(events.length);
  });

  it("leaves other layouts and bad events to the general decoder, which explains them", () => {
    const others = [
      '{"score":7.0,"customer":"a@test.com"}',
      '{"customer":"a@test.com", "score":7.0}',
      '{"customer":"a\\u0040test.com","score":7.0}',
      '{"customer":"é@test.com","score":7.0}',
      '{"customer":"a@test.com","score":7.0,"riskDate":"2020-02-30T10:00:00.000Z"}',
      '{"customer":"a@test.com","score":7.0,"riskDate":"2020-02-03T24:00:00.000Z"}',
      '{"customer":"a@test.com","score":7.0,"riskDate":"2020-02-03T10:00:00Z"}',
      '{"customer":"","score":7.0}',
      '{"customer":"a@test.com","score":"7.0"}',
      '{"customer":"a@test.com","score":07}',
    ];
    for (const text of others) expect(scanRiskScore(Buffer.from(text)), text).toBeUndefined();
    expect(decodeRiskScore(Buffer.from(others[0] as string))).toEqual({
      ok: true,
      value: { customer: "a@test.com", score: 7 },
    });
    expect(decodeRiskScore(Buffer.from('{"customer":"a@test.com","score":"7.0"}')).ok).toBe(false);
    expect(decodeRiskScore(null).ok).toBe(false);
  });

  it("never disagrees with the general decoder on mutated events", () => {
    const random = seeded(21);
    const alphabet = '{}":,.-+0123456789eETZ:a@\\ ';
    const originals = [
      '{"customer":"Jason.Mitra@test.com","score":7.0,"riskDate":"2020-09-14T07:54:06.417Z"}',
      '{"customer":"a@test.com","score":-0.5}',
      '{"customer":"b@test.com","score":1.25e2,"riskDate":"2000-02-29T23:59:59.999Z"}',
    ];
    let recognised = 0;
    for (let round = 0; round < 30_000; round += 1) {
      const mutated = mutate(originals[round % originals.length] as string, random, alphabet);
      const scanned = scanRiskScore(Buffer.from(mutated));
      if (scanned === undefined) continue;
      recognised += 1;
      expect(scanned, mutated).toEqual(general(mutated));
    }
    expect(recognised).toBeGreaterThan(5000);
  });
});
