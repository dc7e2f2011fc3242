// The soak (`npm run bench -- --soak`): the join on the three-node cluster with risk events offered at a
// fixed rate for many minutes, open loop. Every minute: the join's largest VmRSS and the latency of the
// events due in that minute. Afterwards the independent checker (test/support/output-check.ts, which
// shares no code with the join) reads every input and output record: nothing lost, nothing twice.

import type { ConsumedBatch } from "../../src/adapters/kafka/index.js";
import { createJoinOutputChecker, type RawRecord } from "../../test/support/output-check.js";
import type { BenchBroker } from "./broker.js";
import { consumeFromStart, createJoinTopics, waitFor } from "./broker.js";
import { createCustomerTopics } from "./context.js";
import { createLatencyHistogram, type LatencySummary, summarizeMicros } from "./histogram.js";
import { type Generator, Ledger, offer, trickleUntilFirstOutput } from "./latency.js";
import { isRunning, MemorySampler, spawnJoin, stop } from "./processes.js";
import { createRandom } from "./workload.js";

export type SoakOptions = {
  brokers: string[];
  minutes: number;
  /** Offered events/s. */
  rate: number;
  customers: number;
  partitions: number;
  seed: number;
  nodeArgs: string[];
  outDir: string;
  keepStack: boolean;
};

export type SoakMinute = {
  /** 1-based: minute 1 is the first minute of the offer. */
  minute: number;
  offered: number;
  received: number;
  /** Arrival at a read_committed probe − intended send time, of the events due in this minute. */
  latency: LatencySummary;
  /** The join's largest VmRSS sampled (every 100 ms) during this minute. */
  maxRssMiB: number;
};

export type Flatness = {
  /** Largest RSS of minutes 5–10. */
  referenceMiB?: number;
  /** Largest RSS of the last ten minutes. */
  lastTenMiB?: number;
  /** lastTen / reference − 1. */
  growth?: number;
  /** Undefined when the run is too short to judge (under 20 minutes). */
  flat: boolean | undefined;
};

export type SoakCheck = {
  expected: number;
  actual: number;
  lost: number;
  duplicated: number;
  misrouted: number;
  badInputs: number;
  deadLetters: number;
  /** Bad inputs with no dead letter. */
  missingDeadLetters: number;
  examples: string[];
};

export type SoakRun = {
  customers: number;
  rate: number;
  partitions: number;
  brokers: number;
  minutes: SoakMinute[];
  /** The join's VmHWM over the whole run. */
  peakRssMiB: number;
  flatness: Flatness;
  /**
   * What the probe saw: outputs of a sequence number it had seen before (its consumer commits nothing,
   * so a rejoin of its group reads the topic again from the start), and offered events never seen.
   */
  probe: { duplicates: number; missing: number };
  check?: SoakCheck;
  /** Exit code of the join after SIGTERM at the end (0: a clean stop). */
  joinExitCode?: number | null;
  error?: string;
};

/** The RSS growth the soak accepts between minutes 5–10 and the last ten minutes. */
export const flatLimit = 0.05;

/** Flat: the largest RSS of the last ten minutes within 5 % of that of minutes 5–10 (needs ≥ 20 minutes). */
export function judgeFlatness(maxRssPerMinute: number[]): Flatness {
  if (maxRssPerMinute.length < 20) return { flat: undefined };
  const referenceMiB = Math.max(...maxRssPerMinute.slice(4, 10));
  const lastTenMiB = Math.max(...maxRssPerMinute.slice(-10));
  const growth = lastTenMiB / referenceMiB - 1;
  return { referenceMiB, lastTenMiB, growth, flat: lastTenMiB <= referenceMiB * (1 + flatLimit) };
}

/** The default brokers of a soak: the three nodes of `KAFKA_NODES=3 scripts/stack.sh up` on `kafkaPort`. */
export const clusterBrokers = (kafkaPort: number): string[] =>
  [0, 10, 20].map((offset) => `127.0.0.1:${kafkaPort + offset}`);

const headerText = (value: unknown): string =>
  Array.isArray(value)
    ? headerText(value[0])
    : Buffer.isBuffer(value)
      ? value.toString("utf8")
      : String(value);

const rawRecords = (batch: ConsumedBatch): RawRecord[] =>
  batch.records.map((record) => ({
    topic: batch.topic,
    partition: batch.partition,
    offset: record.offset,
    key: record.key?.toString("utf8") ?? null,
    value: record.value?.toString("utf8") ?? "",
  }));

/** The independent checker over every record of the run, read from the topics batch by batch. */
async function checkTopics(
  broker: BenchBroker,
  topics: { redis: string; events: string; output: string; dlq: string },
): Promise<SoakCheck> {
  const checker = createJoinOutputChecker();
  await broker.port.readToEnd(topics.redis, (batch) => checker.addCustomers(rawRecords(batch)));
  await broker.port.readToEnd(topics.events, (batch) => checker.addEvents(rawRecords(batch)));
  await broker.port.readToEnd(topics.output, (batch) => checker.addOutputs(rawRecords(batch)));
  const deadLettered = new Set<string>();
  let deadLetters = 0;
  await broker.port.readToEnd(topics.dlq, (batch) => {
    for (const record of batch.records) {
      const h = record.headers;
      deadLettered.add(
        `${headerText(h["stedi.dlq.topic"])}[${headerText(h["stedi.dlq.partition"])}]@${headerText(h["stedi.dlq.offset"])}`,
      );
      deadLetters += 1;
    }
  });
  const report = checker.report();
  return {
    expected: report.expected,
    actual: report.actual,
    lost: report.lost,
    duplicated: report.duplicated,
    misrouted: report.misrouted,
    badInputs: report.bad.length,
    deadLetters,
    missingDeadLetters: report.bad.filter((where) => !deadLettered.has(where)).length,
    examples: report.examples,
  };
}

/** Runs the soak; a failure part way is reported in `error` with the minutes measured so far. */
export async function runSoak(
  broker: BenchBroker,
  options: SoakOptions,
  projectRoot: string,
  log: (line: string) => void,
): Promise<SoakRun> {
  const redis = await createCustomerTopics(broker, log)(options.customers);
  const topics = { redis, ...(await createJoinTopics(broker, "soak", options.partitions)) };
  const ledger = new Ledger();
  let probeFailure: Error | undefined;
  const probe = await consumeFromStart(
    broker,
    topics.output,
    (records, arrivedAt) => ledger.arrive(records, arrivedAt),
    (error) => {
      probeFailure = error;
    },
  );
  const generator: Generator = {
    // Not idempotent, so that sends are pipelined: the generator must never wait for the broker.
    producer: await broker.port.createProducer({ idempotent: false }),
    topic: topics.events,
    partitions: options.partitions,
    customers: options.customers,
    random: createRandom(options.seed + 3),
    nextSeq: 0,
  };
  const join = spawnJoin({
    projectRoot,
    brokers: options.brokers,
    redisTopic: topics.redis,
    eventsTopic: topics.events,
    outputTopic: topics.output,
    dlqTopic: topics.dlq,
    group: topics.group,
    nodeArgs: options.nodeArgs,
  });
  const memory = new MemorySampler(join.pid);
  const maxRss: number[] = [];
  const run: SoakRun = {
    customers: options.customers,
    rate: options.rate,
    partitions: options.partitions,
    brokers: options.brokers.length,
    minutes: [],
    peakRssMiB: 0,
    flatness: { flat: undefined },
    probe: { duplicates: 0, missing: 0 },
  };
  const assertHealthy = () => {
    if (probeFailure) throw new Error(`the probe consumer failed: ${probeFailure.message}`);
    if (!isRunning(join.child))
      throw new Error(`stedi join exited with ${join.child.exitCode} during the soak`);
  };
  try {
    await trickleUntilFirstOutput(
      generator,
      ledger,
      () => probeFailure !== undefined || !isRunning(join.child),
    );
    assertHealthy();
    if (ledger.anyArrived === 0) throw new Error("stedi join produced nothing within 5 minutes");
    log(
      `soak: stedi join is up; offering ${options.rate.toLocaleString("en-US")} events/s for ${options.minutes} minutes`,
    );
    memory.takeMaxSinceMark();
    for (let minute = 0; minute < options.minutes; minute += 1) {
      const phase = ledger.addPhase();
      await offer(generator, ledger, options.rate, options.rate * 60, 0, phase);
      maxRss.push(memory.takeMaxSinceMark());
      assertHealthy();
      const previous = minute > 0 ? ledger.arrival[phase - 1] : undefined;
      log(
        `soak: minute ${minute + 1}/${options.minutes}: join RSS ≤ ${maxRss.at(-1)?.toFixed(0)} MiB${previous ? `; minute ${minute} p99 ${summarizeMicros(previous).p99} ms` : ""}`,
      );
    }
    const offered = generator.nextSeq;
    const drained = await waitFor(
      () => ledger.anyArrived >= offered || probeFailure !== undefined,
      120_000,
      100,
    );
    assertHealthy();
    if (!drained) log(`soak: ${offered - ledger.anyArrived} outputs still missing after 2 minutes`);
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
    log(`soak: ${run.error}`);
  } finally {
    memory.stop();
    run.peakRssMiB = Number(memory.peakMiB.toFixed(1));
    await generator.producer.close().catch(() => undefined);
    await probe.close().catch(() => undefined);
    run.joinExitCode = await stop(join);
  }
  run.minutes = maxRss.map((rssMiB, index) => ({
    minute: index + 1,
    offered: options.rate * 60,
    received: ledger.received[index] ?? 0,
    latency: summarizeMicros(ledger.arrival[index] ?? createLatencyHistogram()),
    maxRssMiB: Number(rssMiB.toFixed(1)),
  }));
  run.flatness = judgeFlatness(maxRss);
  run.probe = { duplicates: ledger.duplicates, missing: generator.nextSeq - ledger.anyArrived };
  log("soak: checking every input and output record (independent checker)");
  try {
    run.check = await checkTopics(broker, topics);
  } catch (error) {
    // The minutes measured are reported whatever happens to the check.
    const message = error instanceof Error ? error.message : String(error);
    run.error =
      run.error === undefined ? `the check failed: ${message}` : `${run.error}; the check failed: ${message}`;
    log(`soak: the check failed: ${message}`);
  }
  return run;
}
