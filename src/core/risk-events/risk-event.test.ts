import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { meaningOf, numberEdgeRows, randomNumberText } from "../../../test/support/number-texts.js";
import { mutate, seeded } from "../../../test/support/random.js";
import { describeIssues, parseJson } from "../customers/customer.js";
import { accept, type Decoded, reject } from "../result.js";
import { encodeRiskEvent } from "../simulation/simulation.js";
import {
  decodeRiskEvent,
  decodeRiskScore,
  type RiskScore,
  riskEventSchema,
  scanRiskScore,
} from "./risk-event.js";

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
    ["a score too large for a double", `{"customer":"a@b.c","score":1${"0".repeat(400)}}`, "Infinity"],
    ["a score too small for a double", '{"customer":"a@b.c","score":-1e999999}', "-Infinity"],
  ])("rejects %s", (_name, text, reason) => {
    const decoded = decodeRiskEvent(text);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toContain(reason);
  });
});

/** The schema's verdict on an event, reason included: what every decoding must agree with. */
function schemaDecoding(text: string): Decoded<RiskScore> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const parsed = riskEventSchema.safeParse(json.value);
  if (!parsed.success) return reject(`risk event ${describeIssues(parsed.error)}`);
  return accept({ customer: parsed.data.customer, score: parsed.data.score });
}

/** decodeRiskEvent's verdict in the fast path's terms. */
function generalDecoding(text: string): Decoded<RiskScore> {
  const decoded = decodeRiskEvent(text);
  return decoded.ok ? accept({ customer: decoded.value.customer, score: decoded.value.score }) : decoded;
}

const sameDecoding = (a: Decoded<RiskScore>, b: Decoded<RiskScore>) =>
  a.ok && b.ok
    ? a.value.customer === b.value.customer && Object.is(a.value.score, b.value.score)
    : !a.ok && !b.ok && a.reason === b.reason;

/** Fails, showing both, unless `actual` is `expected` (a score's sign included). Cheap when they agree. */
function expectSame(actual: Decoded<RiskScore>, expected: Decoded<RiskScore>, text: string) {
  if (sameDecoding(actual, expected)) return;
  expect(actual, text).toEqual(expected);
  expect.fail(`${text}: ${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`);
}

/**
 * Checks the scan, the general decoder and the join's decode path against the schema on one event;
 * returns whether the scan read it.
 */
function checkAgreement(text: string): boolean {
  const expected = schemaDecoding(text);
  expectSame(generalDecoding(text), expected, text);
  expectSame(decodeRiskScore(Buffer.from(text)), expected, text);
  const scanned = scanRiskScore(Buffer.from(text));
  if (scanned === undefined) return false;
  expectSame(accept(scanned), expected, text);
  return true;
}

/** `event` with its score's text replaced by `score`. */
const withScore = (event: string, score: string) => event.replace(/"score":[^,}]*/, `"score":${score}`);

/** What the general decoder makes of an event, in the fast path's terms. */
function general(text: string) {
  const decoded = decodeRiskEvent(text);
  return decoded.ok ? { customer: decoded.value.customer, score: decoded.value.score } : undefined;
}

describe("scanRiskScore (the join's fast path)", () => {
  const events = readFileSync(dataPath("real-data", "stedi-events.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

  it.each([
    ["real-data", "stedi-events.jsonl"],
    ["real-data", "runs/glorian-2021-04-02/stedi-events.jsonl"],
  ])("reads every real STEDI app event in %s/%s as the general decoder does", (...parts) => {
    const lines = readLines(...parts);
    let recognised = 0;
    for (const line of lines) if (checkAgreement(line)) recognised += 1;
    expect(recognised).toBe(lines.length);
  });

  it("reads every score the simulator writes, as the STEDI app prints it", () => {
    // Scores are hundredths of a second; the app prints magnitudes up to 10^7 without an exponent.
    let recognised = 0;
    let events = 0;
    for (let hundredths = -999_999_999; hundredths <= 999_999_999; hundredths += 3_331_333) {
      for (const offset of [0, 1, 10, 50, 99]) {
        const score = (hundredths + offset) / 100;
        const text = encodeRiskEvent({ customer: "a@test.com", score, riskDate: "2021-04-02T21:39:28.650Z" });
        events += 1;
        if (checkAgreement(text)) recognised += 1;
      }
    }
    expect(recognised).toBe(events);
  });

  it("dead-letters a score too large for a double instead of publishing Infinity", () => {
    const text = `{"customer":"a@test.com","score":${"4".repeat(400)},"riskDate":"2020-09-14T07:54:06.417Z"}`;
    expect(scanRiskScore(Buffer.from(text))).toBeUndefined();
    expect(decodeRiskScore(Buffer.from(text))).toEqual({
      ok: false,
      reason: "risk event score: Invalid input: expected number, received Infinity",
    });
    expect(decodeRiskEvent(text).ok).toBe(false);
  });

  it.each(numberEdgeRows)("agrees with the general decoder on the score %s", (_label, score, meaning) => {
    for (const event of [events[0] as string, '{"customer":"a@test.com","score":1}']) {
      const text = withScore(event, score);
      checkAgreement(text);
      const decoded = decodeRiskScore(Buffer.from(text));
      if (typeof meaning === "object") {
        expect(decoded.ok && Object.is(decoded.value.score, meaning.value), text).toBe(true);
      } else {
        expect(decoded.ok, text).toBe(false);
        expect(!decoded.ok && decoded.reason, text).toMatch(
          meaning === "infinite" ? /^risk event score: .*Infinity$/ : /^not JSON/,
        );
      }
    }
  });

  it("agrees with the general decoder on random scores in real events", () => {
    const random = seeded(77);
    const lines = [...events, ...readLines("real-data", "runs/glorian-2021-04-02/stedi-events.jsonl")];
    const seen = { scanned: 0, decoded: 0, infinite: 0, invalid: 0 };
    for (let round = 0; round < 10_000; round += 1) {
      const score = randomNumberText(random);
      const line = lines[Math.floor(random() * lines.length)] as string;
      const text = withScore(random() < 0.2 ? line.replace(/,"riskDate":"[^"]*"/, "") : line, score);
      const meaning = meaningOf(score);
      if (checkAgreement(text)) seen.scanned += 1;
      else if (typeof meaning === "object") seen.decoded += 1;
      else seen[meaning] += 1;
    }
    // Each way an event can go turns up often: read by the scan, read by the general decoder
    // only, rejected for an infinite score, rejected as not JSON.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(500);
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
