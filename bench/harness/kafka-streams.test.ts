import { describe, expect, it } from "vitest";
import {
  describeOutputDifference,
  eventsProcessed,
  explainKafkaStreamsOutputs,
  kafkaStreamsThreads,
  parseKafkaStreamsReport,
  parseSetupJar,
} from "./kafka-streams.js";
import { benchEmail, customerBirthYear } from "./workload.js";

describe("parseSetupJar", () => {
  it("takes the last jar= line", () => {
    expect(parseSetupJar("jar=/old.jar\nnoise\njar=/c/target/stedi-kafka-streams.jar\n")).toBe(
      "/c/target/stedi-kafka-streams.jar",
    );
  });
  it("fails clearly without one", () => {
    expect(() => parseSetupJar("built in 12 s\n")).toThrow(/no jar= line/);
  });
});

describe("parseKafkaStreamsReport", () => {
  it("reads the JVM's timed events", () => {
    expect(parseKafkaStreamsReport("stedi-kstreams started 1700000000123")).toEqual({
      event: "started",
      time: 1_700_000_000_123,
    });
    expect(parseKafkaStreamsReport("stedi-kstreams customers-loaded 17\n")).toEqual({
      event: "customers-loaded",
      time: 17,
    });
    expect(parseKafkaStreamsReport("stedi-kstreams loading-customers 5")).toEqual({
      event: "loading-customers",
      time: 5,
    });
  });

  it("reads the counts as numbers by name", () => {
    const line =
      "stedi-kstreams counts joined=998 without-customer=2 rejected-events=0 customers=100 rejected-customers=0 rejected-records=0 skipped-records=1";
    const report = parseKafkaStreamsReport(line);
    expect(report).toEqual({
      event: "counts",
      counts: {
        joined: 998,
        "without-customer": 2,
        "rejected-events": 0,
        customers: 100,
        "rejected-customers": 0,
        "rejected-records": 0,
        "skipped-records": 1,
      },
    });
    expect(eventsProcessed(report?.event === "counts" ? report.counts : undefined)).toBe(1000);
  });

  it.each([
    "[main] WARN org.apache.kafka.clients.NetworkClient - something",
    "stedi-kstreams counts",
    "stedi-kstreams started soon",
  ])("ignores %j", (line) => {
    expect(parseKafkaStreamsReport(line)).toBeUndefined();
  });

  it("counts nothing processed before the first counts line", () => {
    expect(eventsProcessed(undefined)).toBe(0);
  });
});

describe("kafkaStreamsThreads", () => {
  it.each([
    [2, 2, 2],
    [4, 2, 2],
    [1, 8, 1],
    [2, 1, 1],
  ])("%i partitions on %i cores → %i", (partitions, cores, threads) => {
    expect(kafkaStreamsThreads(partitions, cores)).toBe(threads);
  });
});

describe("describeOutputDifference", () => {
  const email = benchEmail(42);
  const year = customerBirthYear(42);
  const output = (score: string, birthYear: number | string = year) =>
    Buffer.from(`{"customer":"${email}","score":"${score}","email":"${email}","birthYear":"${birthYear}"}`);

  it("accepts stedi's exact bytes and key", () => {
    for (const score of ["7.0", "-12.5", "0.0", "1.0E7", "1.0E-4"]) {
      expect(describeOutputDifference(Buffer.from(email), output(score))).toBeUndefined();
    }
  });

  it.each([
    [
      "a score stedi writes otherwise",
      Buffer.from(email),
      output("7"),
      /"score":"7",.*where stedi writes .*"score":"7\.0"/,
    ],
    ["a wrong birth year", Buffer.from(email), output("7.0", 1900), /where stedi writes/],
    ["another key", null, output("7.0"), /^key null where stedi writes/],
    ["no value", Buffer.from(email), null, /without a value/],
    [
      "another customer",
      Buffer.from("x"),
      Buffer.from('{"customer":"x","score":"1.0","email":"x","birthYear":"1"}'),
      /not a bench customer/,
    ],
  ])("describes %s", (_case, key, value, expected) => {
    expect(describeOutputDifference(key, value)).toMatch(expected);
  });
});

describe("explainKafkaStreamsOutputs", () => {
  const counts = { stedi: 1000, guarantee: "exactly_once_v2" as const, withoutCustomer: 0, timedOut: false };
  it.each([
    [{ ...counts, kafkaStreams: 1000 }, /^same count/],
    [
      { ...counts, kafkaStreams: 990, withoutCustomer: 10 },
      /10 fewer: 10 events found no customer .*stedi holds/,
    ],
    [{ ...counts, kafkaStreams: 900, timedOut: true }, /100 fewer: the timeout stopped it$/],
    [{ ...counts, kafkaStreams: 900, withoutCustomer: undefined }, /100 fewer: see its log/],
    [{ ...counts, kafkaStreams: 1005, guarantee: "at_least_once" as const }, /5 more: under at_least_once/],
    [{ ...counts, kafkaStreams: 1005 }, /5 more, which exactly_once_v2 should rule out/],
  ])("%o", (input, expected) => {
    expect(explainKafkaStreamsOutputs(input)).toMatch(expected);
  });
});
