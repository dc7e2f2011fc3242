import { describe, expect, it } from "vitest";
import { createLatencyHistogram, percentileOf, recordMicros, summarizeMicros } from "./histogram.js";
import { createRandom } from "./workload.js";

/** Nearest-rank percentile of a sorted array, the definition the histogram follows. */
const exactPercentile = (sorted: number[], p: number) =>
  sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

/** 50,000 log-uniform values from 100 µs to 10 s, so every bucket width is exercised. */
const longTailed = (seed: number): number[] => {
  const random = createRandom(seed);
  return Array.from({ length: 50_000 }, () => Math.round(100 * 10 ** (random() * 5)));
};

describe("latency histogram", () => {
  it("counts small values exactly", () => {
    const histogram = createLatencyHistogram();
    for (const value of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) recordMicros(histogram, value);
    expect(histogram.totalCount).toBe(10);
    expect(histogram.maxValue).toBe(10);
    expect([50, 90, 99, 100].map((p) => percentileOf(histogram, p))).toEqual([5, 9, 10, 10]);
  });

  it("is empty-safe", () => {
    const histogram = createLatencyHistogram();
    expect(percentileOf(histogram, 99)).toBe(0);
    expect(summarizeMicros(histogram)).toEqual({
      count: 0,
      p50: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
      mean: 0,
    });
  });

  it.each([50, 90, 95, 99, 99.9])("agrees with the exact p%s within 0.1 %% on a long-tailed sample", (p) => {
    const values = longTailed(42);
    const histogram = createLatencyHistogram();
    for (const value of values) recordMicros(histogram, value);
    values.sort((a, b) => a - b);
    const exact = exactPercentile(values, p);
    const approx = percentileOf(histogram, p);
    expect(approx).toBeGreaterThanOrEqual(exact);
    expect((approx - exact) / exact).toBeLessThanOrEqual(0.001);
  });

  it("reports the exact maximum, and no percentile above it", () => {
    const values = longTailed(7);
    const histogram = createLatencyHistogram();
    for (const value of values) recordMicros(histogram, value);
    const max = Math.max(...values);
    expect(histogram.maxValue).toBe(max);
    expect(percentileOf(histogram, 99.999)).toBeLessThanOrEqual(max);
    expect(percentileOf(histogram, 100)).toBe(max);
  });

  it("rounds fractions and records negatives as 0", () => {
    const histogram = createLatencyHistogram();
    recordMicros(histogram, -5);
    recordMicros(histogram, 2.6);
    expect(histogram.totalCount).toBe(2);
    expect(percentileOf(histogram, 50)).toBe(0);
    expect(histogram.maxValue).toBe(3);
  });

  it("grows to record values far above the first ones", () => {
    const histogram = createLatencyHistogram();
    recordMicros(histogram, 10);
    recordMicros(histogram, 3_600_000_000); // an hour
    expect(histogram.maxValue).toBe(3_600_000_000);
  });

  it("summarizes microseconds as milliseconds", () => {
    const histogram = createLatencyHistogram();
    for (let i = 1; i <= 1000; i += 1) recordMicros(histogram, i * 1000);
    const summary = summarizeMicros(histogram);
    expect(summary.count).toBe(1000);
    expect(summary.p50).toBeCloseTo(500, 0);
    expect(summary.p95).toBeCloseTo(950, 0);
    expect(summary.p99).toBeCloseTo(990, 0);
    expect(summary.p999).toBeCloseTo(999, 0);
    expect(summary.max).toBe(1000);
    expect(summary.mean).toBeCloseTo(500.5, 0);
  });
});
