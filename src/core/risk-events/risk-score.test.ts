import { describe, expect, it } from "vitest";
import { computeRiskScore, roundHalfUpHundredths, type TimedTest } from "./risk-score.js";

const start = Date.UTC(2021, 3, 2, 21, 36, 0);

/** Tests one minute apart, oldest first, with these durations in ms. */
const testsOf = (durationsMs: number[]): TimedTest[] =>
  durationsMs.map((duration, index) => {
    const stopTime = start + index * 60_000;
    return { startTime: stopTime - duration, stopTime };
  });

const seconds = (values: number[]) => values.map((value) => value * 1000);

describe("computeRiskScore", () => {
  it.each([
    // durations oldest → newest; score = (avg of 3rd+4th newest − avg of 2 newest) / 1000
    ["equal durations", seconds([100, 100, 100, 100]), 0],
    ["improvement (faster)", seconds([120, 110, 100, 90]), 20],
    ["steady decline of a 1950–1960 senior", seconds([100, 101, 103, 106]), -4],
    ["half seconds, as whole-second tests give", seconds([100, 101, 100, 100]), 0.5],
    ["negative half", seconds([100, 100, 100, 101]), -0.5],
    ["largest swing of fresh tests", seconds([120, 120, 61, 61]), 59],
    ["only the 4 newest count", seconds([10, 500, 100, 100, 100, 100]), 0],
  ])("%s", (_label, durations, score) => {
    expect(computeRiskScore(testsOf(durations))?.score).toBe(score);
  });

  it.each([
    // twice the difference of the averages is 2000 × score, so ±10 ms is exactly a tie at ±0.005
    ["0.005 rounds up", [1010, 1000, 1000, 1000], 0.01],
    ["-0.005 rounds away from zero (BigDecimal ROUND_HALF_UP)", [1000, 1000, 1000, 1010], -0.01],
    ["0.0045 rounds down", [1009, 1000, 1000, 1000], 0],
    ["0.0055 rounds up", [1011, 1000, 1000, 1000], 0.01],
    ["-0.0045 rounds to zero, not -0", [1000, 1000, 1000, 1009], 0],
    ["0.015 (just below the tie as a double) rounds up", [1030, 1000, 1000, 1000], 0.02],
    ["1.005 (just below the tie as a double) rounds up", [3010, 1000, 1000, 1000], 1.01],
    ["-1.005 rounds away from zero", [1000, 1000, 1000, 3010], -1.01],
    ["2.675 rounds up", [6350, 1000, 1000, 1000], 2.68],
    ["real step-test durations (ms)", [6958, 6789, 6901, 10627], -1.89],
  ])("%s", (_label, durations, score) => {
    const result = computeRiskScore(testsOf(durations));
    expect(Object.is(result?.score, score), `${result?.score} ≠ ${score}`).toBe(true);
  });

  it("needs at least 4 tests", () => {
    expect(computeRiskScore([])).toBeUndefined();
    expect(computeRiskScore(testsOf(seconds([100, 90, 80])))).toBeUndefined();
    expect(computeRiskScore(testsOf(seconds([100, 90, 80, 70])))).toBeDefined();
  });

  it("sorts by startTime, whatever the input order, and dates the risk by the newest test's stop", () => {
    const tests = testsOf(seconds([120, 110, 100, 90]));
    const shuffled = [tests[2], tests[0], tests[3], tests[1]] as TimedTest[];
    expect(computeRiskScore(shuffled)).toEqual({ score: 20, riskDate: "2021-04-02T21:39:00.000Z" });
  });

  it("orders by startTime, not by stopTime, as the original", () => {
    // The last test recorded took so long that it started before the one recorded just before it.
    const tests: TimedTest[] = [
      { startTime: start, stopTime: start + 100_000 },
      { startTime: start + 10_000, stopTime: start + 110_000 },
      { startTime: start + 30_000, stopTime: start + 90_000 },
      { startTime: start + 20_000, stopTime: start + 140_000 },
    ];
    // by start: 100 s, 100 s, 120 s, 60 s → (100 + 100) / 2 − (120 + 60) / 2 = 10
    expect(computeRiskScore(tests)).toEqual({
      score: 10,
      riskDate: new Date(start + 90_000).toISOString(),
    });
  });

  it("keeps the input order of tests that started at the same time (a stable sort)", () => {
    const tests: TimedTest[] = [
      { startTime: start, stopTime: start + 100_000 },
      { startTime: start + 1, stopTime: start + 100_001 },
      { startTime: start + 2, stopTime: start + 100_002 },
      { startTime: start + 2, stopTime: start + 100_502 },
    ];
    expect(computeRiskScore(tests)?.riskDate).toBe(new Date(start + 100_502).toISOString());
  });

  it("writes riskDate as ISO-8601 UTC with milliseconds", () => {
    const stopTime = 1617399568650;
    const tests = [3, 2, 1, 0].map((back) => ({
      startTime: stopTime - back * 60_000 - 90_000,
      stopTime: stopTime - back * 60_000,
    }));
    expect(computeRiskScore(tests)?.riskDate).toBe("2021-04-02T21:39:28.650Z");
  });

  it("refuses fractional milliseconds rather than rounding them silently", () => {
    expect(() => computeRiskScore(testsOf([1000.5, 1000, 1000, 1000]))).toThrow(RangeError);
  });
});

describe("roundHalfUpHundredths", () => {
  it.each([
    [1, 200, 0.01],
    [-1, 200, -0.01],
    [1, 201, 0],
    [-1, 201, 0],
    [0, 7, 0],
    [2, 3, 0.67],
    [-2, 3, -0.67],
    [1, 3, 0.33],
    [123456789, 1000, 123456.79],
  ])("%s / %s → %s", (numerator, denominator, expected) => {
    expect(Object.is(roundHalfUpHundredths(numerator, denominator), expected)).toBe(true);
  });

  it("rejects what it cannot do exactly", () => {
    expect(() => roundHalfUpHundredths(1, 0)).toThrow(RangeError);
    expect(() => roundHalfUpHundredths(0.5, 2)).toThrow(RangeError);
  });
});
