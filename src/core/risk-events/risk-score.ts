// The STEDI risk score (contracts §4): a senior's two newest rapid step tests against the two before.

/** The part of a rapid step test the formula reads: epoch milliseconds, whole numbers. */
export type TimedTest = { readonly startTime: number; readonly stopTime: number };

export type RiskScore = {
  /** Seconds, rounded half-up to 2 decimals: > 0 improved (faster), < 0 declined. Never -0. */
  score: number;
  /** The newest test's stopTime as ISO-8601 UTC with milliseconds, e.g. 2021-04-02T21:39:28.650Z. */
  riskDate: string;
};

/** The original refuses to score a customer with fewer tests than this. */
export const minimumTests = 4;

/**
 * Rounds numerator / denominator to 2 decimals, ties away from zero (Java's BigDecimal
 * ROUND_HALF_UP: 0.005 → 0.01, -0.005 → -0.01). Exact: the division happens on integers, so
 * 1.005 or 0.015 are not first turned into a binary double that sits just below the tie.
 * Throws a RangeError unless both are safe integers and the denominator is positive.
 */
export function roundHalfUpHundredths(numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator <= 0) {
    throw new RangeError(`cannot round ${numerator}/${denominator}: whole numbers needed`);
  }
  const magnitude = BigInt(Math.abs(numerator));
  const divisor = BigInt(denominator);
  // round(m·100/d) with ties up  ==  floor((200·m + d) / 2d)
  const hundredths = Number((200n * magnitude + divisor) / (2n * divisor));
  if (hundredths === 0) return 0;
  // An integer divided by 100 is the double nearest that decimal, so it prints as the decimal.
  return (numerator < 0 ? -hundredths : hundredths) / 100;
}

/**
 * The original formula: sort the tests by startTime (stable: equal starts keep their order), take
 * durations d = stopTime − startTime, and score ((d[n-3] + d[n-4]) / 2 − (d[n-1] + d[n-2]) / 2) / 1000
 * rounded half-up to 2 decimals; riskDate is the stopTime of the newest test by startTime.
 * Returns undefined with fewer than 4 tests (the original logs and publishes nothing then).
 * Throws a RangeError for times that are not whole milliseconds.
 */
export function computeRiskScore(tests: readonly TimedTest[]): RiskScore | undefined {
  if (tests.length < minimumTests) return undefined;
  const sorted = [...tests].sort((a, b) => a.startTime - b.startTime);
  const [fourth, third, second, newest] = sorted.slice(-4) as [TimedTest, TimedTest, TimedTest, TimedTest];
  const duration = (test: TimedTest) => test.stopTime - test.startTime;
  // Twice the difference of the two averages, in ms: the score is this / 2000, still exact.
  const twiceDifference = duration(third) + duration(fourth) - (duration(newest) + duration(second));
  return {
    score: roundHalfUpHundredths(twiceDifference, 2000),
    riskDate: new Date(newest.stopTime).toISOString(),
  };
}
