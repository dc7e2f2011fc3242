import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "./options.js";
import { clusterBrokers, judgeFlatness, type SoakRun } from "./soak.js";
import { renderSoakReport, soakPassed } from "./soak-report.js";

const minutes = (count: number, rss: (minute: number) => number) =>
  Array.from({ length: count }, (_, index) => rss(index + 1));

describe("judgeFlatness", () => {
  it("compares the largest RSS of the last ten minutes with that of minutes 5–10", () => {
    // Start-up growth in minutes 1–4 does not count; the reference is the max of minutes 5–10 (200).
    const rss = minutes(30, (minute) => (minute < 5 ? 100 + minute * 20 : minute === 7 ? 200 : 190));
    expect(judgeFlatness(rss)).toEqual({
      referenceMiB: 200,
      lastTenMiB: 190,
      growth: 190 / 200 - 1,
      flat: true,
    });
  });

  it("calls more than 5 % growth not flat, and exactly 5 % flat", () => {
    expect(judgeFlatness(minutes(30, (minute) => (minute > 20 ? 211 : 200))).flat).toBe(false);
    expect(judgeFlatness(minutes(30, (minute) => (minute > 20 ? 210 : 200))).flat).toBe(true);
  });

  it("does not judge a run under 20 minutes, whose two windows would overlap", () => {
    expect(judgeFlatness(minutes(19, () => 100))).toEqual({ flat: undefined });
    expect(judgeFlatness(minutes(20, () => 100)).flat).toBe(true);
  });
});

describe("--soak", () => {
  const soak = (argv: string[], env: Record<string, string | undefined> = {}) => {
    const parsed = parseBenchArgs(["--soak", ...argv], env);
    if (parsed.kind !== "soak") throw new Error("expected a soak");
    return parsed.options;
  };

  it("defaults to 30 minutes at 2,000 events/s with 100,000 customers on the cluster's three ports", () => {
    expect(soak([])).toMatchObject({
      minutes: 30,
      rate: 2000,
      customers: 100_000,
      partitions: 2,
      brokers: ["127.0.0.1:9092", "127.0.0.1:9102", "127.0.0.1:9112"],
    });
    expect(soak([], { KAFKA_PORT: "19092" }).brokers).toEqual(clusterBrokers(19092));
    expect(soak([], { KAFKA_BROKERS: "h:1,h:2" }).brokers).toEqual(["h:1", "h:2"]);
  });

  it("takes duration, rate and table size as options", () => {
    expect(soak(["--soak-minutes", "5", "--soak-rate", "500", "--customers", "1000"])).toMatchObject({
      minutes: 5,
      rate: 500,
      customers: 1000,
    });
    expect(() => soak(["--soak-minutes", "0"])).toThrow(/--soak-minutes must be a positive whole number/);
    expect(() => parseBenchArgs(["--soak-rate", "10"], {})).toThrow(/go with --soak/);
  });
});

describe("renderSoakReport and soakPassed", () => {
  const latency = { count: 1, p50: 10, p95: 12, p99: 20, p999: 25, max: 30, mean: 11 };
  const run = (change: Partial<SoakRun> = {}): SoakRun => ({
    customers: 1000,
    rate: 500,
    partitions: 2,
    brokers: 3,
    minutes: [{ minute: 1, offered: 30_000, received: 30_000, latency, maxRssMiB: 120.4 }],
    peakRssMiB: 125,
    flatness: { flat: undefined },
    probe: { duplicates: 0, missing: 0 },
    check: {
      expected: 30_010,
      actual: 30_010,
      lost: 0,
      duplicated: 0,
      misrouted: 0,
      badInputs: 0,
      deadLetters: 0,
      missingDeadLetters: 0,
      examples: [],
    },
    joinExitCode: 0,
    ...change,
  });

  it("prints every minute, the flatness and the checker", () => {
    const text = renderSoakReport(run());
    expect(text).toMatch(/soak: 500 events\/s, 1,000 customers, 2 partitions, 3 brokers/);
    expect(text).toMatch(/│ 1 +│ 30,000 +│ 30,000 +│ 10 +│ 20 +│ 30 +│ 120\.4 +│/);
    expect(text).toMatch(/not judged \(needs at least 20 minutes\)/);
    expect(text).toMatch(/checker: expected 30,010, output 30,010, lost 0, duplicated 0, misrouted 0/);
  });

  it("passes only when nothing was lost or repeated, no dead letter is missing and RSS did not grow", () => {
    expect(soakPassed(run())).toBe(true);
    const check = run().check as NonNullable<SoakRun["check"]>;
    expect(soakPassed(run({ check: { ...check, duplicated: 1 } }))).toBe(false);
    expect(soakPassed(run({ check: { ...check, missingDeadLetters: 1 } }))).toBe(false);
    expect(soakPassed(run({ flatness: { flat: false } }))).toBe(false);
    expect(soakPassed(run({ error: "stedi join exited" }))).toBe(false);
    const { check: _, ...unchecked } = run();
    expect(soakPassed(unchecked)).toBe(false);
  });
});
