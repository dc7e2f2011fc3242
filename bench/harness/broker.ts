// The bench's side of the broker, through stedi's Kafka port: fresh topics (all deleted at the end),
// bulk loading, and consumers that read what the join wrote.

import { randomUUID } from "node:crypto";
import type {
  ConsumedRecord,
  GroupConsumer,
  KafkaPort,
  OutgoingRecord,
  Producer,
} from "../../src/adapters/kafka/index.js";
import { createKafkaPort } from "../../src/adapters/kafka/index.js";
import { deleteRunResources } from "./kafka-tools.js";

export type BenchBroker = {
  brokers: string[];
  port: KafkaPort;
  /** A unique name for this run: bench-<what>-<run id>-<n>. Everything named so is deleted at the end. */
  name(what: string): string;
  /** Creates topics and waits for their leaders. Throws once cleanUp has begun. */
  createTopics(topics: { topic: string; partitions: number }[]): Promise<void>;
  /** Throws once cleanUp has begun, so an interrupted run starts nothing new. */
  assertOpen(): void;
  /** Registers a consumer for cleanUp to close first, so that it cannot bring a deleted topic back. */
  track(consumer: GroupConsumer): () => void;
  /**
   * Deletes every topic and consumer group whose name carries this run's id — the bench's own, and
   * those the join derives from them (its changelog, its state consumer's group). Best effort.
   */
  cleanUp(): Promise<void>;
  disconnect(): Promise<void>;
};

const connectTimeoutMs = 10_000;

export async function createBenchBroker(brokers: string[]): Promise<BenchBroker> {
  const port = createKafkaPort({ brokers, connectTimeoutMs }, "stedi-bench");
  const runId = randomUUID().slice(0, 8);
  // The port connects on first use: ask something now, so that an unreachable broker stops the bench at once.
  await port.groupState(`bench-connect-${runId}-0`);
  const consumers = new Set<GroupConsumer>();
  let counter = 0;
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new Error("the bench is stopping");
  };
  return {
    brokers,
    port,
    name(what) {
      counter += 1;
      return `bench-${what}-${runId}-${counter}`;
    },
    assertOpen,
    track(consumer) {
      consumers.add(consumer);
      return () => consumers.delete(consumer);
    },
    async createTopics(specs) {
      assertOpen();
      await port.ensureTopics(specs.map((spec) => ({ topic: spec.topic, numPartitions: spec.partitions })));
    },
    async cleanUp() {
      closed = true;
      // A consumer still running would recreate its topic after deletion (the broker auto-creates).
      await Promise.all([...consumers].map((consumer) => consumer.close().catch(() => undefined)));
      consumers.clear();
      await deleteRunResources(brokers, runId);
    },
    async disconnect() {
      await port.close().catch(() => undefined);
    },
  };
}

/**
 * Fresh topics for one run of a join: risk events and output with `partitions` partitions, a
 * dead-letter topic, and the name of its consumer group.
 */
export async function createJoinTopics(broker: BenchBroker, what: string, partitions: number) {
  const topics = {
    events: broker.name(`${what}-events`),
    output: broker.name(`${what}-out`),
    dlq: broker.name(`${what}-dlq`),
    group: broker.name(`${what}-group`),
  };
  await broker.createTopics([
    { topic: topics.events, partitions },
    { topic: topics.output, partitions },
    { topic: topics.dlq, partitions: 1 },
  ]);
  return topics;
}

/** A producer's send goes out one request at a time: this many producers keep as many in flight. */
const loaders = 8;

/**
 * Produces `count` records made by `make(index)` as fast as the broker takes them: requests of
 * `chunk` records (sized to stay under the broker's 1 MiB batch limit), one per producer, `loaders`
 * producers at once. Records are made in index order, so a seeded `make` gives the same workload;
 * chunks of different producers may land out of order, which no measurement depends on (customers
 * are distinct, and the joins keep no event-time order).
 */
export async function produceAll(
  broker: BenchBroker,
  topic: string,
  count: number,
  make: (index: number) => OutgoingRecord,
  chunk = 2000,
): Promise<void> {
  const parallel = Math.min(loaders, Math.ceil(count / chunk));
  const created = await Promise.allSettled(
    Array.from({ length: parallel }, () => broker.port.createProducer()),
  );
  const ready = created.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
  try {
    const refused = created.find((outcome) => outcome.status === "rejected");
    if (refused) throw refused.reason;
    const idle = [...ready];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    for (let start = 0; start < count && failure === undefined; start += chunk) {
      while (idle.length === 0) await Promise.race(inFlight);
      const producer = idle.pop() as Producer;
      const records: OutgoingRecord[] = [];
      for (let index = start; index < Math.min(count, start + chunk); index += 1) records.push(make(index));
      const sending = producer.send([{ topic, records }]).then(
        () => {
          idle.push(producer);
        },
        (error: unknown) => {
          failure ??= error;
          idle.push(producer);
        },
      );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
  } finally {
    await Promise.all(ready.map((producer) => producer.close().catch(() => undefined)));
  }
}

/**
 * A read_committed consumer of a whole topic from its start, in a group of its own that commits
 * nothing, handing each fetched batch to `onBatch` with the time it arrived (performance.now()).
 * Closed by the caller, or by cleanUp.
 */
export async function consumeFromStart(
  broker: BenchBroker,
  topic: string,
  onBatch: (records: ConsumedRecord[], arrivedAt: number) => void,
  onFailure: (error: Error) => void,
): Promise<GroupConsumer> {
  broker.assertOpen();
  const consumer = await broker.port.consume({
    groupId: broker.name("probe"),
    topics: [topic],
    fromBeginning: true,
    autoCommit: false,
    concurrency: 4,
    eachBatch: async (batch) => {
      onBatch(batch.records, performance.now());
      return batch.records.at(-1)?.offset;
    },
    onFailure,
  });
  const untrack = broker.track(consumer);
  return {
    async close() {
      untrack();
      await consumer.close();
    },
  };
}

/**
 * Reads a finished output topic whole: how many records, and the first and last record timestamps
 * (epoch ms, set by the producer that wrote them). Stops at `expected` records or when nothing new
 * arrived for `quietMs` once the topic's end was reached. `inspect` sees every record counted.
 */
export async function readOutputTimes(
  broker: BenchBroker,
  topic: string,
  expected: number,
  { quietMs = 5000, inspect }: { quietMs?: number; inspect?: (record: ConsumedRecord) => void } = {},
): Promise<{ count: number; first: number; last: number }> {
  let count = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let lastArrival = performance.now();
  let failure: Error | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const consumer = await consumeFromStart(
    broker,
    topic,
    (records, arrivedAt) => {
      for (const record of records) {
        const time = Number(record.timestamp);
        if (time < first) first = time;
        if (time > last) last = time;
        inspect?.(record);
      }
      count += records.length;
      if (records.length > 0) lastArrival = arrivedAt;
      if (count >= expected) finish();
    },
    (error) => {
      failure = error;
      finish();
    },
  );
  const quiet = setInterval(() => {
    // Joining the group takes a few seconds: before the first record, wait longer.
    if (performance.now() - lastArrival > (count === 0 ? Math.max(quietMs, 30_000) : quietMs)) finish();
  }, 250);
  await done;
  clearInterval(quiet);
  await consumer.close().catch(() => undefined);
  if (failure) throw failure;
  return { count, first, last };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every `everyMs` until it holds (true) or `timeoutMs` passes (false). */
export async function waitFor(condition: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}
