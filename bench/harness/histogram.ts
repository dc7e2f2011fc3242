// A log-linear (HDR-style) latency histogram: fixed memory, bounded relative error, exact min/max/count.
//
// Written here rather than taken from hdr-histogram-js: the bench needs only record / percentile / merge
// on integer microseconds, which is ~80 lines that can be tested against exact sorted percentiles, and
// this keeps package.json's dependencies (shared with other engineers) untouched.

/**
 * Values are integers (the bench records microseconds). Values below 2^subBucketBits are counted
 * exactly; above, each power-of-two range is split into 2^(subBucketBits-1) equal buckets, so a
 * bucket's width is at most 1/2^(subBucketBits-1) of its values (0.1 % with the default 11 bits,
 * i.e. three significant digits). Values above 2^32-1 are clamped (71 minutes in µs).
 */
export class Histogram {
  readonly subBucketBits: number;
  private readonly subBucketCount: number;
  private readonly halfCount: number;
  private readonly counts: Float64Array;
  private total = 0;
  private minimum = Number.POSITIVE_INFINITY;
  private maximum = 0;
  private sum = 0;

  constructor(subBucketBits = 11) {
    if (!Number.isInteger(subBucketBits) || subBucketBits < 2 || subBucketBits > 20) {
      throw new RangeError("subBucketBits must be an integer from 2 to 20");
    }
    this.subBucketBits = subBucketBits;
    this.subBucketCount = 2 ** subBucketBits;
    this.halfCount = this.subBucketCount / 2;
    this.counts = new Float64Array(this.indexOf(0xffff_ffff) + 1);
  }

  /** The bucket of a value: exact below subBucketCount, then halfCount buckets per power of two. */
  indexOf(value: number): number {
    if (value < this.subBucketCount) return value;
    const magnitude = 31 - Math.clz32(value);
    const shift = magnitude - (this.subBucketBits - 1);
    const sub = value >>> shift;
    return this.subBucketCount + (shift - 1) * this.halfCount + (sub - this.halfCount);
  }

  /** The largest value that falls into the same bucket as the given index (HDR's "highest equivalent"). */
  highestOf(index: number): number {
    if (index < this.subBucketCount) return index;
    const above = index - this.subBucketCount;
    const shift = Math.floor(above / this.halfCount) + 1;
    const sub = (above % this.halfCount) + this.halfCount;
    return (sub + 1) * 2 ** shift - 1;
  }

  /** Records `count` occurrences of a value; negatives count as 0, fractions are rounded. */
  record(value: number, count = 1): void {
    const clamped = Math.min(0xffff_ffff, Math.max(0, Math.round(value)));
    const index = this.indexOf(clamped);
    this.counts[index] = (this.counts[index] ?? 0) + count;
    this.total += count;
    this.sum += clamped * count;
    if (clamped < this.minimum) this.minimum = clamped;
    if (clamped > this.maximum) this.maximum = clamped;
  }

  get count(): number {
    return this.total;
  }

  /** Exact smallest recorded value; 0 when empty. */
  get min(): number {
    return this.total === 0 ? 0 : this.minimum;
  }

  /** Exact largest recorded value; 0 when empty. */
  get max(): number {
    return this.maximum;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * The value at a percentile (0–100) by nearest rank: the smallest value v such that at least
   * ceil(p/100 · count) values are ≤ v, reported as its bucket's highest value but never above the
   * exact maximum. 0 when empty; p = 100 gives the exact maximum.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    if (p >= 100) return this.maximum;
    const rank = Math.max(1, Math.ceil((Math.max(0, p) / 100) * this.total));
    let seen = 0;
    for (let index = 0; index < this.counts.length; index += 1) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(this.maximum, Math.max(this.minimum, this.highestOf(index)));
    }
    return this.maximum;
  }

  /** Adds another histogram's counts (same subBucketBits) into this one. */
  add(other: Histogram): void {
    if (other.subBucketBits !== this.subBucketBits) throw new RangeError("histograms differ in precision");
    for (let index = 0; index < other.counts.length; index += 1) {
      const count = other.counts[index] ?? 0;
      if (count > 0) this.counts[index] = (this.counts[index] ?? 0) + count;
    }
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.minimum = Math.min(this.minimum, other.minimum);
      this.maximum = Math.max(this.maximum, other.maximum);
    }
  }
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

/** Percentiles of a histogram of microseconds, in milliseconds with 3 decimals. */
export function summarizeMicros(histogram: Histogram): LatencySummary {
  const ms = (micros: number) => Math.round(micros) / 1000;
  return {
    count: histogram.count,
    p50: ms(histogram.percentile(50)),
    p95: ms(histogram.percentile(95)),
    p99: ms(histogram.percentile(99)),
    p999: ms(histogram.percentile(99.9)),
    max: ms(histogram.max),
    mean: ms(histogram.mean),
  };
}
