import { describe, expect, it } from "vitest";
import type { LatencySummary } from "./histogram.js";
import {
  type BenchResult,
  evaluateTargets,
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
      ["≥ 50 % of the pipe limit", true],
      ["p99 ≤ 10 ms at 5k events/s", false],
      ["≤ 150 MB RSS with 1M customers", false],
      ["flat RSS as events grow (≤ +10 %)", false],
      ["first output ≤ 1 s after start", true],
      ["first output ≤ 1 s on a restart with 1M customers", true],
    ]);
    expect(rows[7]?.measured).toBe("900 ms from the checkpoint (6,000 ms without), median of 3");
    expect(rows[1]?.measured).toMatch(/^4\.00×/);
    expect(rows[4]?.measured).toBe("peak 170 MiB = 178 MB; copy-only pipe, no customers: 100 MiB");
    expect(rows[5]?.measured).toBe(
      "step max 150 → 170 MiB (+13 %), 1,000 → 2,000 events; 140 MiB idle after load",
    );
  });

  it("lists targets of parts that did not run as not measured", () => {
    const rows = evaluateTargets(base);
    expect(rows).toHaveLength(8);
    expect(rows.every((row) => row.pass === undefined)).toBe(true);
  });
});
