// Latency histograms of the bench: hdr-histogram-js (its pure JavaScript mode) on integer microseconds,
// and the summary the results record in milliseconds.

import { build, type Histogram } from "hdr-histogram-js";

export type { Histogram } from "hdr-histogram-js";

/**
 * An empty histogram of microseconds: three significant digits (a value is reported at most 0.1 %
 * above what was recorded), exact count and maximum, growing as larger values arrive.
 */
export function createLatencyHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, autoResize: true });
}

/**
 * Records one latency in microseconds. Fractions are rounded; negatives count as 0 (an output's
 * timestamp is in whole milliseconds, so it can read slightly before the event's intended time).
 */
export function recordMicros(histogram: Histogram, micros: number): void {
  histogram.recordValue(Math.max(0, Math.round(micros)));
}

/**
 * The value at a percentile (0–100) by nearest rank: the smallest value v such that at least
 * ceil(p/100 · count) values are ≤ v, reported as the top of its bucket but never above the exact
 * maximum. 0 when empty.
 */
export function percentileOf(histogram: Histogram, p: number): number {
  if (histogram.totalCount === 0) return 0;
  return Math.min(histogram.getValueAtPercentile(Math.max(0, Math.min(100, p))), histogram.maxValue);
}

export type LatencySummary = {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
};

/** Percentiles of a histogram of microseconds, in milliseconds with 3 decimals; all 0 when empty. */
export function summarizeMicros(histogram: Histogram): LatencySummary {
  const ms = (micros: number) => Math.round(micros) / 1000;
  return {
    count: histogram.totalCount,
    p50: ms(percentileOf(histogram, 50)),
    p95: ms(percentileOf(histogram, 95)),
    p99: ms(percentileOf(histogram, 99)),
    p999: ms(percentileOf(histogram, 99.9)),
    max: ms(histogram.totalCount === 0 ? 0 : histogram.maxValue),
    mean: ms(histogram.mean),
  };
}
