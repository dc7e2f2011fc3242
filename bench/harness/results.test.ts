import { describe, expect, it } from "vitest";
import type { LatencySummary } from "./histogram.js";
import {
  type BenchResult,
  evaluateTargets,
  type KafkaStreamsRun,
  median,
  stepGrowth,
  summarizeSaturation,
  type ThroughputRun,
} from "./results.js";

const run = (kind: "join" | "copy", eventsPerSecond: number, firstOutputMs = 900): ThroughputRun => ({
  kind,
  events: 1000,
  outputs: 1000,
  secondsToLastOutput: 1000 / eventsPerSecond,
  firstOutputMs,
  eventsPerSecond,
  steadyEventsPerSecond: eventsPerSecond * 1.5,
  peakRssMiB: 100,
});

const latency = (p99: number): LatencySummary => ({
  count: 1,
  p50: 1,
  p95: 2,
  p99,
  p999: p99,
  max: p99,
  mean: 1,
});

const kafkaStreams = (
  guarantee: KafkaStreamsRun["guarantee"],
  eventsPerSecond: number,
  outputs = 1000,
): KafkaStreamsRun => ({
  guarantee,
  threads: 2,
  seconds: outputs / eventsPerSecond,
  firstOutputMs: 3000,
  outputs,
  peakRssMiB: 400,
  startupMs: 2500,
  eventsPerSecond,
  steadyEventsPerSecond: eventsPerSecond * 1.2,
  withoutCustomer: 0,
  malformedOutputs: 0,
  timedOut: false,
  outputsCompared: "same count",
});

const base: Omit<BenchResult, "targets"> = {
  date: "2026-01-01T00:00:00.000Z",
  node: "v20",
  cpus: 2,
  loadAverage: { start: [], end: [] },
  options: {},
};

describe("median", () => {
  it.each([
    [[], Number.NaN],
    [[3], 3],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
  ])("median(%j) = %s", (values, expected) => {
    expect(median(values)).toBe(expected);
  });
});

describe("summarizeSaturation", () => {
  it("takes medians and pairs runs by index", () => {
    const summary = summarizeSaturation({
      customers: 100,
      events: 1000,
      partitions: 2,
      join: [run("join", 30_000, 800), run("join", 20_000, 1200), run("join", 40_000, 1000)],
      copy: [run("copy", 60_000), run("copy", 50_000), run("copy", 80_000)],
    });
    expect(summary.joinEventsPerSecond).toBe(30_000);
    expect(summary.copyEventsPerSecond).toBe(60_000);
    expect(summary.fractionOfPipe).toBe(0.5);
    expect(summary.pairFractions).toEqual([0.5, 0.4, 0.5]);
    expect(summary.firstOutputMs).toBe(1000);
    expect(summary.sparkRatio).toBeUndefined();
    expect(summary.kafkaStreamsEosRatio).toBeUndefined();
  });

  it("divides the join's median by each Kafka Streams run, and skips a failed one", () => {
    const summary = summarizeSaturation({
      customers: 100,
      events: 1000,
      partitions: 2,
      join: [run("join", 120_000)],
      copy: [run("copy", 200_000)],
      kafkaStreams: [
        { guarantee: "exactly_once_v2", error: "no java" },
        kafkaStreams("at_least_once", 60_000),
      ],
    });
    expect(summary.kafkaStreamsEos).toBeUndefined();
    expect(summary.kafkaStreamsEosRatio).toBeUndefined();
    expect(summary.kafkaStreamsAtLeastOnce?.eventsPerSecond).toBe(60_000);
    expect(summary.kafkaStreamsAtLeastOnceRatio).toBe(2);
  });
});

describe("stepGrowth", () => {
  it("compares the largest RSS of the last step with that of the first", () => {
    const run = (maxima: number[]) => ({
      customers: 1,
      firstOutputMs: 0,
      loadedMiB: 100,
      steps: maxima.map((maxRssMiB, i) => ({ events: i, rssMiB: 0, maxRssMiB })),
      peakMiB: 0,
      growthMiB: 0,
    });
    expect(stepGrowth(run([200, 300, 210]))).toBeCloseTo(0.05);
    expect(stepGrowth(run([]))).toBeNaN();
  });
});

describe("evaluateTargets", () => {
  it("judges every target honestly, marking what was not measured", () => {
    const rows = evaluateTargets({
      ...base,
      saturation: {
        customers: 100_000,
        events: 1000,
        partitions: 2,
        join: [run("join", 120_000, 700)],
        copy: [run("copy", 200_000)],
        spark: {
          seconds: 1,
          firstOutputMs: 1,
          outputs: 1000,
          peakRssMiB: 1,
          startupMs: 1,
          eventsPerSecond: 30_000,
          steadyEventsPerSecond: 40_000,
          timedOut: false,
          outputsCompared: "same count",
        },
      },
      latency: {
        customers: 100_000,
        partitions: 2,
        method: "",
        rates: [
          {
            rate: 5000,
            seconds: 10,
            offered: 50_000,
            received: 50_000,
            missing: 0,
            achievedRate: 5000,
            arrival: latency(12.5),
            outputTimestamp: latency(3),
            sendLag: latency(1),
          },
        ],
        copyRates: [
          {
            rate: 5000,
            seconds: 10,
            offered: 50_000,
            received: 50_000,
            missing: 0,
            achievedRate: 5000,
            arrival: latency(11),
            outputTimestamp: latency(3),
            sendLag: latency(1),
          },
        ],
      },
      rss: [
        {
          customers: 1_000_000,
          firstOutputMs: 5000,
          loadedMiB: 140,
          steps: [
            { events: 1000, rssMiB: 160, maxRssMiB: 150 },
            { events: 2000, rssMiB: 160, maxRssMiB: 170 },
          ],
          peakMiB: 170,
          growthMiB: 20,
        },
      ],
      restart: {
        customers: 1_000_000,
        firstRunMs: 6000,
        checkpointBytes: 44e6,
        withoutMs: [5000, 7000, 6000],
        withMs: [900, 1200, 700],
      },
    });
    expect(rows.map((row) => [row.target, row.pass])).toEqual([
      ["saturation ≥ 100k events/s", true],
      ["≥ 5× Spark", false],
      ["saturation ≥ 2.5× Kafka Streams EOS v2", undefined],
      ["≥ 60 % of the pipe limit", true],
      ["p99 ≤ 10 ms at 5k events/s", false],
      ["p99 at 5k events/s ≤ 1.2× the copy-only pipe's", true],
      ["≤ 150 MB RSS with 1M customers", false],
      ["flat RSS as events grow (≤ +10 %)", false],
      ["first output ≤ 0.5 s after start", false],
      ["first output ≤ 1 s on a restart with 1M customers", true],
    ]);
    expect(rows[9]?.measured).toBe("900 ms from the checkpoint (6,000 ms without), median of 3");
    expect(rows[1]?.measured).toMatch(/^4\.00×/);
    expect(rows[2]?.measured).toBe("not run (--vs kafka-streams)");
    expect(rows[5]?.measured).toBe("1.14× (12.5 ÷ 11 ms)");
    expect(rows[6]?.measured).toBe("peak 170 MiB = 178 MB; copy-only pipe, no customers: 100 MiB");
    expect(rows[7]?.measured).toBe(
      "step max 150 → 170 MiB (+13 %), 1,000 → 2,000 events; 140 MiB idle after load",
    );
  });

  it("lists targets of parts that did not run as not measured", () => {
    const rows = evaluateTargets(base);
    expect(rows).toHaveLength(10);
    expect(rows.every((row) => row.pass === undefined)).toBe(true);
  });
});

describe("the Kafka Streams target", () => {
  const target = (kafkaStreamsRuns: NonNullable<BenchResult["saturation"]>["kafkaStreams"]) =>
    evaluateTargets({
      ...base,
      saturation: {
        customers: 100_000,
        events: 1000,
        partitions: 2,
        join: [run("join", 150_000)],
        copy: [run("copy", 300_000)],
        ...(kafkaStreamsRuns ? { kafkaStreams: kafkaStreamsRuns } : {}),
      },
    }).find((row) => row.target === "saturation ≥ 2.5× Kafka Streams EOS v2");

  it.each([
    [[kafkaStreams("exactly_once_v2", 50_000)], true, /^3\.00× \(Kafka Streams EOS v2 50,000 events\/s\)$/],
    [[kafkaStreams("exactly_once_v2", 75_000)], false, /^2\.00×/],
    // Judged on exactly_once_v2 alone: a faster at_least_once run does not change the verdict.
    [[kafkaStreams("exactly_once_v2", 50_000), kafkaStreams("at_least_once", 100_000)], true, /^3\.00×/],
  ])("judges the join against exactly_once_v2 (%#)", (runs, pass, measured) => {
    const row = target(runs);
    expect(row?.pass).toBe(pass);
    expect(row?.measured).toMatch(measured);
  });

  it("gives no verdict when Kafka Streams wrote fewer outputs or other bytes than stedi", () => {
    const short = target([kafkaStreams("exactly_once_v2", 10_000, 900)]);
    expect(short?.pass).toBeUndefined();
    expect(short?.measured).toContain("not comparable: 900 outputs of 1,000 events");
    const unlike = target([{ ...kafkaStreams("exactly_once_v2", 10_000), malformedOutputs: 3 }]);
    expect(unlike?.pass).toBeUndefined();
    expect(unlike?.measured).toContain("3 unlike stedi's");
  });

  it("says why it was not measured", () => {
    expect(target(undefined)?.measured).toBe("not run (--vs kafka-streams)");
    expect(target([{ guarantee: "exactly_once_v2", error: "mvn not found" }])).toEqual({
      target: "saturation ≥ 2.5× Kafka Streams EOS v2",
      measured: "Kafka Streams EOS v2 failed: mvn not found",
      pass: undefined,
    });
  });
});
