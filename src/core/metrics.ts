// Metrics as plain data, rendered in the Prometheus text exposition format (version 0.0.4).

export type Labels = Record<string, string>;

type Sample = { labels: Labels; value: number };

const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  const escaped = entries.map(
    ([name, value]) => `${name}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return `{${escaped.join(",")}}`;
};

const numberText = (value: number) =>
  Number.isNaN(value)
    ? "NaN"
    : value === Number.POSITIVE_INFINITY
      ? "+Inf"
      : value === Number.NEGATIVE_INFINITY
        ? "-Inf"
        : String(value);

/** A monotonically increasing count, optionally split by labels. */
export class Counter {
  private readonly values = new Map<string, Sample>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(amount = 1, labels: Labels = {}): void {
    const key = labelText(labels);
    const sample = this.values.get(key);
    if (sample) sample.value += amount;
    else this.values.set(key, { labels, value: amount });
  }

  render(): string {
    const samples = this.values.size === 0 ? [{ labels: {}, value: 0 }] : [...this.values.values()];
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...samples.map((sample) => `${this.name}${labelText(sample.labels)} ${numberText(sample.value)}`),
    ].join("\n");
  }
}

/** A value that goes up and down; `set` replaces it. */
export class Gauge {
  private readonly values = new Map<string, Sample>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(value: number, labels: Labels = {}): void {
    this.values.set(labelText(labels), { labels, value });
  }

  /** Removes a labelled series (e.g. a partition this instance no longer owns). */
  remove(labels: Labels): void {
    this.values.delete(labelText(labels));
  }

  render(): string {
    const samples = this.values.size === 0 ? [{ labels: {}, value: 0 }] : [...this.values.values()];
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      ...samples.map((sample) => `${this.name}${labelText(sample.labels)} ${numberText(sample.value)}`),
    ].join("\n");
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index >= 0) this.counts[index] = (this.counts[index] ?? 0) + 1;
  }

  render(): string {
    let cumulative = 0;
    const lines = this.buckets.map((bound, index) => {
      cumulative += this.counts[index] ?? 0;
      return `${this.name}_bucket{le="${numberText(bound)}"} ${cumulative}`;
    });
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
      ...lines,
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${numberText(this.sum)}`,
      `${this.name}_count ${this.count}`,
    ].join("\n");
  }
}

export const renderMetrics = (metrics: { render(): string }[]): string =>
  `${metrics.map((metric) => metric.render()).join("\n")}\n`;
