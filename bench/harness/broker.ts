// The bench's side of the broker: fresh topics (all deleted at the end), bulk loading, and consumers
// that read what the join wrote.

// Must come first: kafkajs loads with the project's replacements of two of its steps.
import "../../src/adapters/kafka/kafkajs-patches.js";
import { randomUUID } from "node:crypto";
import {
  type Admin,
  type Consumer,
  Kafka,
  type KafkaMessage,
  logLevel,
  type Message,
  type Producer,
} from "kafkajs";

export type BenchBroker = {
  kafka: Kafka;
  admin: Admin;
  /** A unique name for this run: bench-<what>-<run id>-<n>. Everything named so is deleted at the end. */
  name(what: string): string;
  /** Creates topics and waits for their leaders. Throws once cleanUp has begun. */
  createTopics(topics: { topic: string; partitions: number }[]): Promise<void>;
  /** Throws once cleanUp has begun, so an interrupted run starts nothing new. */
  assertOpen(): void;
  /**
   * Deletes every topic and consumer group whose name carries this run's id — the bench's own, and
   * those the join derives from them (its changelog, its state consumer's group). Best effort.
   */
  cleanUp(): Promise<void>;
  disconnect(): Promise<void>;
};

export async function createBenchBroker(brokers: string[]): Promise<BenchBroker> {
  const kafka = new Kafka({
    clientId: "stedi-bench",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 8 },
  });
  const admin = kafka.admin();
  await admin.connect();
  const runId = randomUUID().slice(0, 8);
  const ours = (name: string) => name.startsWith("bench-") && name.includes(`-${runId}-`);
  let counter = 0;
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new Error("the bench is stopping");
  };
  return {
    kafka,
    admin,
    name(what) {
      counter += 1;
      return `bench-${what}-${runId}-${counter}`;
    },
    assertOpen,
    async createTopics(specs) {
      assertOpen();
      await admin.createTopics({
        waitForLeaders: true,
        topics: specs.map((spec) => ({ topic: spec.topic, numPartitions: spec.partitions })),
      });
    },
    async cleanUp() {
      closed = true;
      const groups = await admin.listGroups().catch(() => ({ groups: [] }));
      const doomedGroups = groups.groups.map((group) => group.groupId).filter(ours);
      if (doomedGroups.length > 0) await admin.deleteGroups(doomedGroups).catch(() => undefined);
      const topics = await admin.listTopics().catch((): string[] => []);
      const doomed = topics.filter(ours);
      if (doomed.length > 0)
        await admin.deleteTopics({ topics: doomed, timeout: 30_000 }).catch(() => undefined);
    },
    async disconnect() {
      await admin.disconnect().catch(() => undefined);
    },
  };
}

/**
 * Produces `count` records made by `make(index)` as fast as the broker takes them: requests of
 * `chunk` records (sized to stay under the broker's 1 MiB batch limit), 8 in flight.
 */
export async function produceAll(
  kafka: Kafka,
  topic: string,
  count: number,
  make: (index: number) => Message,
  chunk = 2000,
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const inFlight: Promise<unknown>[] = [];
    for (let start = 0; start < count; start += chunk) {
      const messages: Message[] = [];
      for (let index = start; index < Math.min(count, start + chunk); index += 1) messages.push(make(index));
      inFlight.push(producer.send({ topic, messages, acks: 1 }));
      if (inFlight.length >= 8) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

export async function connectProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/**
 * A read_committed consumer of a whole topic from its start, handing each fetched batch to
 * `onBatch` with the time it arrived (performance.now()).
 */
export async function consumeFromStart(
  broker: BenchBroker,
  topic: string,
  onBatch: (messages: KafkaMessage[], arrivedAt: number) => void,
  maxWaitTimeInMs = 100,
): Promise<Consumer> {
  broker.assertOpen();
  const groupId = broker.name("probe");
  // No auto-creation: a topic deleted under a late consumer must stay deleted.
  const consumer = broker.kafka.consumer({
    groupId,
    maxWaitTimeInMs,
    maxBytes: 16 * 1024 * 1024,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      onBatch(batch.messages, performance.now());
    },
  });
  return consumer;
}

/**
 * Reads a finished output topic whole: how many records, and the first and last record timestamps
 * (epoch ms, set by the producer that wrote them). Stops at `expected` records or when nothing new
 * arrived for `quietMs` once the topic's end was reached.
 */
export async function readOutputTimes(
  broker: BenchBroker,
  topic: string,
  expected: number,
  quietMs = 5000,
): Promise<{ count: number; first: number; last: number }> {
  let count = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let lastArrival = performance.now();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const consumer = await consumeFromStart(broker, topic, (messages, arrivedAt) => {
    for (const message of messages) {
      const time = Number(message.timestamp);
      if (time < first) first = time;
      if (time > last) last = time;
    }
    count += messages.length;
    if (messages.length > 0) lastArrival = arrivedAt;
    if (count >= expected) finish();
  });
  const quiet = setInterval(() => {
    // Joining the group takes a few seconds: before the first record, wait longer.
    if (performance.now() - lastArrival > (count === 0 ? Math.max(quietMs, 30_000) : quietMs)) finish();
  }, 250);
  await done;
  clearInterval(quiet);
  await consumer.disconnect().catch(() => undefined);
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
