import { describe, expect, it } from "vitest";
import { Histogram, summarizeMicros } from "./histogram.js";
import { createRandom } from "./workload.js";

/** Nearest-rank percentile of a sorted array, the definition the histogram follows. */
const exactPercentile = (sorted: number[], p: number) =>
  sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

describe("Histogram", () => {
  it("counts small values exactly", () => {
    const histogram = new Histogram();
    for (const value of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) histogram.record(value);
    expect(histogram.count).toBe(10);
    expect(histogram.min).toBe(1);
    expect(histogram.max).toBe(10);
    expect(histogram.mean).toBe(5.5);
    expect(histogram.percentile(50)).toBe(5);
    expect(histogram.percentile(90)).toBe(9);
    expect(histogram.percentile(99)).toBe(10);
    expect(histogram.percentile(100)).toBe(10);
    expect(histogram.percentile(0)).toBe(1);
  });

  it("is empty-safe", () => {
    const histogram = new Histogram();
    expect([histogram.count, histogram.min, histogram.max, histogram.mean, histogram.percentile(99)]).toEqual(
      [0, 0, 0, 0, 0],
    );
  });

  it("maps every value to a bucket whose highest value is within the relative error", () => {
    const histogram = new Histogram(8);
    let previous = -1;
    for (const value of [0, 1, 127, 255, 256, 257, 511, 512, 1000, 65_535, 1_000_000, 0xffff_ffff]) {
      const index = histogram.indexOf(value);
      expect(index).toBeGreaterThanOrEqual(previous);
      previous = index;
      const highest = histogram.highestOf(index);
      expect(highest).toBeGreaterThanOrEqual(value);
      expect((highest - value) / Math.max(1, value)).toBeLessThanOrEqual(1 / 128);
    }
  });

  it("has contiguous buckets: each index's highest value + 1 starts the next index", () => {
    const histogram = new Histogram(4);
    for (let index = 0; index < 200; index += 1) {
      expect(histogram.indexOf(histogram.highestOf(index))).toBe(index);
      expect(histogram.indexOf(histogram.highestOf(index) + 1)).toBe(index + 1);
    }
  });

  it.each([50, 90, 95, 99, 99.9])("agrees with the exact p%s within 0.1 %% on a long-tailed sample", (p) => {
    const random = createRandom(42);
    const histogram = new Histogram();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i += 1) {
      // Log-uniform from 100 µs to 10 s: every bucket size gets exercised.
      const value = Math.round(100 * 10 ** (random() * 5));
      values.push(value);
      histogram.record(value);
    }
    values.sort((a, b) => a - b);
    const exact = exactPercentile(values, p);
    const approx = histogram.percentile(p);
    expect(approx).toBeGreaterThanOrEqual(exact);
    expect((approx - exact) / exact).toBeLessThanOrEqual(0.001);
  });

  it("clamps negatives to 0 and huge values to 2^32-1", () => {
    const histogram = new Histogram();
    histogram.record(-5);
    histogram.record(1e12);
    expect(histogram.min).toBe(0);
    expect(histogram.max).toBe(0xffff_ffff);
  });

  it("adds histograms", () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(10, 3);
    b.record(5000);
    a.add(b);
    expect(a.count).toBe(4);
    expect(a.min).toBe(10);
    expect(a.max).toBe(5000);
    expect(a.percentile(100)).toBe(5000);
    expect(() => a.add(new Histogram(5))).toThrow(RangeError);
  });

  it("summarizes microseconds as milliseconds", () => {
    const histogram = new Histogram();
    for (let i = 1; i <= 1000; i += 1) histogram.record(i * 1000);
    const summary = summarizeMicros(histogram);
    expect(summary.count).toBe(1000);
    expect(summary.p50).toBeCloseTo(500, 0);
    expect(summary.p99).toBeCloseTo(990, 0);
    expect(summary.max).toBe(1000);
  });
});
