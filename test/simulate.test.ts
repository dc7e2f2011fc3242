import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClient, type RedisClient } from "../src/adapters/redis.js";
import { parseRedisUrl } from "../src/config/redis-url.js";
import { runStedi, startStedi } from "./support/cli.js";
import { brokers, freshTopic, port } from "./support/kafka.js";

const redisUrl = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? "6379"}`;

type Customer = { customerName: string; email: string; phone: string; birthDay: string };
type StepTest = {
  startTime: number;
  stopTime: number;
  testTime: number;
  totalSteps: number;
  customer: Customer;
};

const steadySenior =
  '{"customerName":"Steady Senior","email":"steady@stedi.fit","phone":"8015551212","birthDay":"1901-01-01"}';
const customerPattern =
  /^\{"customerName":"([A-Z][a-z]+) ([A-Z][a-z]+)","email":"\1\.\2@test\.com","phone":"8015551212","birthDay":"(19\d\d)-01-01"\}$/;
const testPattern =
  /^\{"startTime":(\d+),"stopTime":(\d+),"testTime":(\d+)000,"totalSteps":30,"customer":(\{[^{}]*\})\}$/;
const eventPattern =
  /^\{"customer":"[A-Z][a-z]+\.[A-Z][a-z]+@test\.com","score":-?\d+\.\d\d?,"riskDate":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\}$/;

let redis: RedisClient;
const usedKeys: string[] = [];

beforeAll(async () => {
  redis = await createRedisClient(parseRedisUrl(redisUrl));
});

afterAll(async () => {
  if (usedKeys.length > 0) await redis.command(["DEL", ...usedKeys]);
  await redis.close();
});

/** Sorted-set names no one else uses, deleted after the file's tests. */
function uniqueKeys(label: string) {
  const prefix = `test-simulate-${label}-${randomUUID().slice(0, 8)}`;
  const keys = { customer: `${prefix}:Customer`, test: `${prefix}:RapidStepTest` };
  usedKeys.push(keys.customer, keys.test);
  return keys;
}

async function members(key: string): Promise<string[]> {
  const reply = await redis.command(["ZRANGE", key, 0, -1]);
  if (reply.type !== "array") throw new Error(`ZRANGE ${key} answered ${reply.type}`);
  return (reply.value ?? []).map((item) =>
    item.type === "bulk" ? (item.value?.toString("utf8") ?? "") : "",
  );
}

/** Every record of a topic with its raw key bytes, read until `count` arrived. */
async function readRaw(topic: string, count: number): Promise<{ key: Buffer | null; value: string }[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    // By position, so that a record fetched twice is counted once.
    const records = new Map<string, { key: Buffer | null; value: string }>();
    await port.readToEnd(topic, (batch) => {
      for (const record of batch.records)
        records.set(`${batch.partition}:${record.offset}`, {
          key: record.key,
          value: record.value?.toString("utf8") ?? "",
        });
    });
    if (records.size >= count) return [...records.values()];
    if (Date.now() > deadline) throw new Error(`${topic}: ${records.size} of ${count} records`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const flags = (keys: { customer: string; test: string }, topic: string) => [
  "--brokers",
  brokers.join(","),
  "--redis",
  redisUrl,
  "--events-topic",
  topic,
  "--customer-key",
  keys.customer,
  "--test-key",
  keys.test,
];

/**
 * The events the stored tests call for, recomputed here independently of the core: tests in the
 * order they were taken (stopTime), and from each customer's 4th test on the original formula over
 * that customer's tests so far sorted by startTime, rounded half-up to hundredths.
 */
function expectedEvents(tests: StepTest[]): string[] {
  const history = new Map<string, StepTest[]>();
  const events: string[] = [];
  for (const test of [...tests].sort((a, b) => a.stopTime - b.stopTime)) {
    const mine = [...(history.get(test.customer.email) ?? []), test];
    history.set(test.customer.email, mine);
    if (mine.length < 4) continue;
    const [a, b, c, d] = [...mine].sort((x, y) => x.startTime - y.startTime).slice(-4) as StepTest[] &
      [StepTest, StepTest, StepTest, StepTest];
    const span = (t: StepTest) => t.stopTime - t.startTime;
    const twiceDifferenceMs = span(a) + span(b) - span(c) - span(d);
    const hundredths = Math.sign(twiceDifferenceMs) * Math.floor((Math.abs(twiceDifferenceMs) + 10) / 20);
    const score = hundredths === 0 ? "0.0" : (hundredths / 100).toFixed(2).replace(/(\.\d)0$/, "$1");
    events.push(
      `{"customer":"${test.customer.email}","score":${score},"riskDate":"${new Date(d.stopTime).toISOString()}"}`,
    );
  }
  return events;
}

/** Parses stored tests, checking each is exactly in the original's format. */
function parseTests(stored: string[], customerMembers: string[]): StepTest[] {
  return stored.map((member) => {
    const match = testPattern.exec(member);
    expect(match, member).not.toBeNull();
    const [, start = "", stop = "", seconds = "", customer = ""] = match ?? [];
    expect(Number(stop) - Number(start)).toBe(Number(seconds) * 1000);
    expect(customerMembers).toContain(customer);
    return JSON.parse(member) as StepTest;
  });
}

describe("stedi simulate", () => {
  it("writes customers and tests to Redis and publishes the formula's scores, within seconds", async () => {
    const keys = uniqueKeys("run");
    const topic = await freshTopic("simulate");
    const before = Date.now();
    const result = await runStedi(
      [
        "simulate",
        ...flags(keys, topic),
        "--customers",
        "5",
        "--rounds",
        "5",
        "--speed",
        "600",
        "--seed",
        "42",
        "--json",
      ],
      { timeoutMs: 30_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.ms).toBeLessThan(15_000);
    expect(result.stderr).toContain("simulate: 25 tests and 10 scores for 5 customers in 5 full rounds");

    const customers = await members(keys.customer);
    expect(customers).toHaveLength(6);
    expect(customers).toContain(steadySenior);
    const simulated = customers.filter((member) => member !== steadySenior);
    for (const member of simulated) expect(member).toMatch(customerPattern);
    expect(simulated.map((member) => customerPattern.exec(member)?.[3]).sort()).toEqual([
      "1961",
      "1962",
      "1963",
      "1964",
      "1965",
    ]);

    const tests = parseTests(await members(keys.test), simulated);
    expect(tests).toHaveLength(25);
    for (const member of simulated) {
      expect(tests.filter((test) => JSON.stringify(test.customer) === member)).toHaveLength(5);
    }
    // The records' clock starts now and advances 2 s per test: 25 tests span 48 s.
    const stops = tests.map((test) => test.stopTime).sort((a, b) => a - b);
    expect(stops[0]).toBeGreaterThanOrEqual(before - 1000);
    expect((stops.at(-1) ?? 0) - (stops[0] ?? 0)).toBe(24 * 2000);

    const records = await readRaw(topic, 10);
    const values = records.map((record) => record.value);
    expect(values).toHaveLength(10);
    for (const value of values) expect(value).toMatch(eventPattern);
    expect(values).toEqual(expectedEvents(tests));
    expect(result.stdout.trim().split("\n")).toEqual(values);
    for (const { key } of records) {
      expect(key).toHaveLength(8);
      const sentAt = Number(key?.readBigInt64BE() ?? 0n);
      expect(sentAt).toBeGreaterThanOrEqual(before);
      expect(sentAt).toBeLessThanOrEqual(Date.now());
    }
  });

  it("repeats a run from its seed, and never reuses the emails already in the customer set", async () => {
    const runOnce = async (keys: { customer: string; test: string }) => {
      const topic = await freshTopic("simulate-seed");
      const result = await runStedi([
        "simulate",
        ...flags(keys, topic),
        "--customers",
        "3",
        "--rounds",
        "4",
        "--speed",
        "1000",
        "--seed",
        "demo",
        "--json",
      ]);
      expect(result.code, result.stderr).toBe(0);
      const customers = await members(keys.customer);
      const tests = (await members(keys.test))
        .map((member) => JSON.parse(member) as StepTest)
        .sort((a, b) => a.stopTime - b.stopTime);
      const origin = tests[0]?.stopTime ?? 0;
      return {
        customers,
        // Names and durations, and the times relative to the run's start.
        tests: tests.map((test) => [test.customer.email, test.testTime, test.stopTime - origin]),
        scores: result.stdout
          .trim()
          .split("\n")
          .map((line) => (JSON.parse(line) as { customer: string; score: number }).score),
      };
    };
    const keys = uniqueKeys("seed-a");
    const first = await runOnce(keys);
    const second = await runOnce(uniqueKeys("seed-b"));
    expect(first.scores).toHaveLength(3);
    expect(second).toEqual(first);

    // A second activation on the same customer set: three more customers, all new emails.
    const third = await runOnce(keys);
    expect(third.customers).toHaveLength(7);
    expect(new Set(third.customers.map((member) => (JSON.parse(member) as Customer).email)).size).toBe(7);
  });

  it("stops on SIGTERM with exit 0 after finishing the step: every stored test has its score", async () => {
    const keys = uniqueKeys("sigterm");
    const topic = await freshTopic("simulate-sigterm");
    const running = startStedi(["simulate", ...flags(keys, topic), "--customers", "3", "--speed", "20"]);
    await running.waitFor("simulate: 3 customers", 20_000);
    // 100 ms per test: about 6 rounds, so scores have started.
    await new Promise((resolve) => setTimeout(resolve, 1800));
    const signalledAt = Date.now();
    running.child.kill("SIGTERM");
    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(result.stderr).toContain("(stopped by SIGTERM)");
    expect(result.stderr).not.toMatch(/\n\s+at /);

    const customers = (await members(keys.customer)).filter((member) => member !== steadySenior);
    const tests = parseTests(await members(keys.test), customers);
    expect(tests.length).toBeGreaterThanOrEqual(12);
    const expected = expectedEvents(tests);
    expect(expected.length).toBeGreaterThan(0);
    expect((await readRaw(topic, expected.length)).map((record) => record.value)).toEqual(expected);
    expect(result.stderr).toContain(`simulate: ${tests.length} tests and ${expected.length} scores`);
  });

  it("fails with one line and exit 3 when Redis or Kafka cannot be reached, writing nothing", async () => {
    const keys = uniqueKeys("down");
    const topic = `test-simulate-down-${randomUUID().slice(0, 8)}`;
    const noRedis = await runStedi(["simulate", ...flags(keys, topic), "--redis", "redis://127.0.0.1:9"]);
    expect(noRedis.code).toBe(3);
    expect(noRedis.stderr.trim().split("\n"), noRedis.stderr).toHaveLength(1);
    expect(noRedis.stderr).toContain("cannot reach Redis at redis://127.0.0.1:9");

    const noKafka = await runStedi([
      "simulate",
      ...flags(keys, topic),
      "--brokers",
      "127.0.0.1:9",
      "--connect-timeout",
      "1500",
    ]);
    expect(noKafka.code).toBe(3);
    expect(noKafka.stderr.trim().split("\n"), noKafka.stderr).toHaveLength(1);
    expect(noKafka.stderr).toContain("cannot reach Kafka at 127.0.0.1:9 within 1.5 s");
    expect(noKafka.ms).toBeLessThan(10_000);
    expect(await members(keys.customer)).toEqual([]);
  });

  it("rejects invalid options with exit 2 and names them", async () => {
    for (const [option, value] of [
      ["--speed", "0"],
      ["--customers", "two"],
      ["--rounds", "1.5"],
      ["--redis", "http://127.0.0.1:6379"],
    ] as const) {
      const result = await runStedi(["simulate", option, value]);
      expect(result.code, `${option} ${value}: ${result.stderr}`).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(option === "--redis" ? /Redis URL/ : option);
    }
  });
});
