// stedi simulate: the STEDI app's simulated seniors, writing customers and rapid step tests to
// Redis and publishing their risk scores to stedi-events, on a clock that may run faster than real.

import type { Producer } from "../adapters/kafka/index.js";
import { createKafkaPort } from "../adapters/kafka/index.js";
import { createMetricsRegistry } from "../adapters/metrics-server.js";
import { createRedisClient, type RedisClient } from "../adapters/redis.js";
import type { Reporter } from "../adapters/terminal.js";
import type { CommonConfig, MetricsConfig } from "../config/config.js";
import { describeEndpoint, parseRedisUrl } from "../config/redis-url.js";
import type { SimulateConfig } from "../config/simulate.js";
import type { RespValue } from "../core/redis/resp.js";
import {
  emailOfMember,
  encodeCustomer,
  encodeRiskEvent,
  encodeStepTest,
  Simulation,
  steadySenior,
} from "../core/simulation/simulation.js";
import { configError, StediError } from "../errors.js";
import type { Lifecycle } from "./lifecycle.js";
import { createStdout } from "./output.js";
import { serveMetrics } from "./serve-metrics.js";
import { createSimulateMetrics } from "./simulate-metrics.js";

export type SimulateCounts = { customers: number; tests: number; scores: number; rounds: number };

/** Between recording a test and publishing its score the original slept 2 s: at --speed 1, so do we. */
export const scoreDelayMs = 2000;

/** The original keyed each event with the current time in ms as an 8-byte big-endian long. */
export function eventKey(nowMs: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigInt64BE(BigInt(Math.floor(nowMs)));
  return key;
}

/**
 * The simulated clock: it starts at the real time and advances exactly 2 s per test, as the
 * original's sleep did, whatever --speed. So a seed repeats the same scores (only shifted in time),
 * and at speed 1 the records carry the real time, as the original's System.currentTimeMillis().
 */
export const simulatedTime = (origin: number, step: number): number => origin + step * scoreDelayMs;

/**
 * Every email already in the customer sorted set, read with ZSCAN so a big set never blocks Redis.
 * Throws a config error when the key holds something other than a sorted set.
 */
async function readTakenEmails(redis: RedisClient, key: string): Promise<Set<string>> {
  const emails = new Set<string>();
  let cursor = "0";
  do {
    const reply = await redis.command(["ZSCAN", key, cursor, "COUNT", 1000]).catch((error: unknown) => {
      if (error instanceof StediError && error.message.includes("WRONGTYPE")) {
        throw configError(`Redis key ${JSON.stringify(key)} is not a sorted set`, "see --customer-key");
      }
      throw error;
    });
    const [next, entries] = arrayOf(reply);
    cursor = bulkText(next) || "0";
    // Entries alternate member, score.
    const items = entries ? arrayOf(entries) : [];
    for (let index = 0; index < items.length; index += 2) {
      const email = emailOfMember(bulkText(items[index]));
      if (email !== undefined) emails.add(email);
    }
  } while (cursor !== "0");
  return emails;
}

const arrayOf = (value: RespValue): RespValue[] => (value.type === "array" ? (value.value ?? []) : []);
const bulkText = (value: RespValue | undefined): string =>
  value?.type === "bulk" ? (value.value?.toString("utf8") ?? "") : "";

/**
 * A pause that ends after `ms` or at once when the lifecycle stops. One listener on the lifecycle
 * serves every pause, so a run of millions of steps holds no growing chain of callbacks.
 */
function createPause(lifecycle: Lifecycle): (ms: number) => Promise<void> {
  let wake: (() => void) | undefined;
  void lifecycle.stopped.then(() => wake?.());
  return (ms) => {
    if (lifecycle.isStopping || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      wake = end;
    });
  };
}

/**
 * Runs the simulation until `rounds` are done or the lifecycle stops (a signal, a closed stdout).
 * A stop lets the current step finish: a test already written to Redis still gets its score
 * published (at once, without the rest of the wait). Throws an `unavailable` StediError when Redis
 * or Kafka cannot be reached or fail during the run (`rejected` when Kafka refuses the scores), a
 * config error when the customer key is not a sorted set; connections are closed either way.
 */
export async function runSimulate(options: {
  common: CommonConfig;
  simulate: SimulateConfig;
  reporter: Reporter;
  lifecycle: Lifecycle;
  realNow?: () => number;
  /** --metrics-port and --metrics-host; no server without them. */
  metrics?: MetricsConfig;
}): Promise<SimulateCounts> {
  const { common, simulate: config, reporter, lifecycle } = options;
  const realNow = options.realNow ?? Date.now;
  const endpoint = parseRedisUrl(config.redisUrl);
  const counts: SimulateCounts = { customers: 0, tests: 0, scores: 0, rounds: 0 };

  const registry = createMetricsRegistry();
  const metrics = createSimulateMetrics(registry);
  let producer: Producer | undefined;
  // Ready once Redis holds the customers and the score producer is connected.
  let ready = false;
  const metricsServer = await serveMetrics({
    name: "simulate",
    config: options.metrics,
    registry,
    status: () => ({ ready: ready && !lifecycle.isStopping, details: { ...counts } }),
    reporter,
  });

  // Nothing connects before it is used: Redis is still the first to be reached.
  const port = createKafkaPort(common, "stedi-simulate");
  const redis = await createRedisClient(endpoint, common.connectTimeoutMs).catch(async (error: unknown) => {
    await metricsServer?.close();
    throw error;
  });
  try {
    const taken = await readTakenEmails(redis, config.customerKey);
    await port.ensureTopics([common.eventsTopic]);
    const scores = await port.createProducer();
    producer = scores;
    const publish = (value: string) =>
      scores.send([{ topic: common.eventsTopic, records: [{ key: eventKey(realNow()), value }] }]);

    const simulation = new Simulation({
      seed: config.seed,
      customers: config.customers,
      taken,
    });
    // One ZADD per customer, as the original: each becomes its own record on redis-server.
    await redis.pipeline(
      [steadySenior, ...simulation.customers].map((customer) => [
        "ZADD",
        config.customerKey,
        0,
        encodeCustomer(customer),
      ]),
    );
    counts.customers = simulation.customers.length;
    metrics.customers.inc(simulation.customers.length + 1);
    ready = true;
    reporter.info(
      `simulate: ${counts.customers} customers (seed ${config.seed}) and Steady Senior in ${describeEndpoint(endpoint)} ${config.customerKey}; ` +
        `tests → ${config.testKey}, scores → ${common.eventsTopic}; speed ×${config.speed}, ` +
        (config.rounds === undefined ? "until stopped" : `${config.rounds} rounds`),
    );

    const stdout = createStdout(lifecycle);
    const pause = createPause(lifecycle);
    const done = () => config.rounds !== undefined && simulation.round > config.rounds;
    // Steps are paced on a fixed real-time schedule (2 s / speed each), so time spent writing does
    // not add up into drift: a slow write shortens the following wait.
    const startedAt = realNow();
    const origin = Math.floor(startedAt);
    const stepMs = scoreDelayMs / config.speed;

    while (!lifecycle.isStopping && !done()) {
      const { test, round, index } = simulation.recordTest(simulatedTime(origin, counts.tests));
      await redis.command(["ZADD", config.testKey, 0, encodeStepTest(test)]);
      counts.tests += 1;
      metrics.tests.inc();
      await pause(startedAt + counts.tests * stepMs - realNow());
      const event = simulation.riskEventFor(test.customer.email);
      if (event) {
        const value = encodeRiskEvent(event);
        await publish(value);
        counts.scores += 1;
        metrics.events.inc();
        if (common.json) stdout.write(`${value}\n`);
      }
      if (index === simulation.customers.length - 1) counts.rounds = round;
      reporter.status(
        `simulate: round ${round}${config.rounds === undefined ? "" : `/${config.rounds}`}, ` +
          `customer ${index + 1}/${simulation.customers.length}, ${counts.tests} tests, ${counts.scores} scores`,
      );
    }
  } finally {
    reporter.close();
    await producer?.close();
    await port.close();
    await redis.close();
    await metricsServer?.close();
  }

  const reason = lifecycle.isStopping ? await lifecycle.stopped : undefined;
  const why = reason?.kind === "signal" ? ` (stopped by ${reason.signal})` : "";
  reporter.info(
    `simulate: ${counts.tests} tests and ${counts.scores} scores for ${counts.customers} customers in ${counts.rounds} full rounds${why}`,
    { tests: counts.tests, scores: counts.scores, customers: counts.customers, rounds: counts.rounds },
  );
  return counts;
}
