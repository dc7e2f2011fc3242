// Test helpers on a real broker: fresh topics, producing inputs, reading a topic back whole.
// `createKafkaHelpers` serves any broker (the fault tests start a private one); the named exports
// serve the shared local stack.

// Must come first: the tests read topics as stedi does, with aborted transactions hidden correctly.
import "../../src/adapters/kafka/kafkajs-patches.js";
import { randomUUID } from "node:crypto";
import { type Admin, type IHeaders, Kafka, logLevel, type Message, type Producer } from "kafkajs";
import { afterAll } from "vitest";

export type ReadRecord = {
  key: string | null;
  value: string;
  partition: number;
  offset: string;
  timestamp: string;
  headers: Record<string, string>;
};

const headerText = (headers: IHeaders | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Helpers for one broker. `idempotentProducer: false` suits a producer that must ride through a
 * broker restart: kafkajs's idempotent producer can fail with out-of-order sequence numbers there,
 * and a retried send may then duplicate input, which the fault checker counts as input.
 */
export function createKafkaHelpers(brokers: string[], options: { idempotentProducer?: boolean } = {}) {
  const idempotent = options.idempotentProducer ?? true;
  const kafka = new Kafka({
    clientId: "stedi-tests",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  let admin: Admin | undefined;
  let producer: Producer | undefined;

  const getAdmin = async (): Promise<Admin> => {
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    return admin;
  };
  const getProducer = async (): Promise<Producer> => {
    if (!producer) {
      producer = kafka.producer({ allowAutoTopicCreation: false, idempotent, maxInFlightRequests: 1 });
      await producer.connect();
    }
    return producer;
  };

  /** Creates a topic no other test uses. */
  const freshTopic = async (label: string, partitions = 1): Promise<string> => {
    const topic = `test-${label}-${randomUUID().slice(0, 8)}`;
    await (await getAdmin()).createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions }],
    });
    return topic;
  };

  const produce = async (topic: string, messages: (Message | string)[]): Promise<void> => {
    const sender = await getProducer();
    for (let start = 0; start < messages.length; start += 1000) {
      await sender.send({
        topic,
        acks: -1,
        messages: messages
          .slice(start, start + 1000)
          .map((message) => (typeof message === "string" ? { value: message } : message)),
      });
    }
  };

  /** Reads a topic from the beginning up to its current end (read_committed). */
  const readAll = async (topic: string): Promise<ReadRecord[]> => {
    const offsets = await (await getAdmin()).fetchTopicOffsets(topic);
    const remaining = new Map(
      offsets
        .filter((entry) => Number(entry.high) > Number(entry.low))
        .map((entry) => [entry.partition, Number(entry.high)]),
    );
    if (remaining.size === 0) return [];
    const consumer = kafka.consumer({ groupId: `stedi-tests-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    // By position: a consumer that rejoins its group reads again from its last commit (none here),
    // and a record read twice must not look like a record written twice.
    const records = new Map<string, ReadRecord>();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out reading ${topic}`)), 30_000);
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const high = remaining.get(payload.partition);
          if (high !== undefined && Number(payload.lastOffset) >= high - 1)
            remaining.delete(payload.partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        void consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              records.set(`${batch.partition}:${message.offset}`, {
                key: message.key?.toString() ?? null,
                value: message.value?.toString() ?? "",
                partition: batch.partition,
                offset: message.offset,
                timestamp: message.timestamp,
                headers: headerText(message.headers),
              });
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return [...records.values()];
  };

  /** The committed offsets of a group on a topic, by partition. */
  const committedOffsets = async (groupId: string, topic: string): Promise<Map<number, string>> => {
    const [entry] = await (await getAdmin()).fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((partition) => [partition.partition, partition.offset]));
  };

  /** The number of records of a topic (end minus start, over all partitions; markers included). */
  const recordCount = async (topic: string): Promise<number> => {
    const offsets = await (await getAdmin()).fetchTopicOffsets(topic);
    return offsets.reduce((sum, entry) => sum + Number(entry.high) - Number(entry.low), 0);
  };

  /** Polls a topic until it holds at least `count` records; returns them. */
  const waitForRecords = async (topic: string, count: number, timeoutMs = 30_000): Promise<ReadRecord[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const records = await readAll(topic);
      if (records.length >= count) return records;
      if (Date.now() > deadline) throw new Error(`${topic} has ${records.length} records, expected ${count}`);
      await sleep(250);
    }
  };

  /** Waits until a consumer group has members with assignments (the command is consuming). */
  const waitForGroupStable = async (groupId: string, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { groups } = await (await getAdmin()).describeGroups([groupId]);
      if (groups[0]?.state === "Stable") return;
      if (Date.now() > deadline) throw new Error(`group ${groupId} did not become stable`);
      await sleep(200);
    }
  };

  const close = async () => {
    await admin?.disconnect();
    await producer?.disconnect();
    admin = undefined;
    producer = undefined;
  };

  return {
    brokers,
    kafka,
    freshTopic,
    produce,
    readAll,
    committedOffsets,
    recordCount,
    waitForRecords,
    waitForGroupStable,
    close,
  };
}

export const brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? "9092"}`).split(
  ",",
);

const shared = createKafkaHelpers(brokers);
afterAll(() => shared.close());

export const {
  kafka,
  freshTopic,
  produce,
  readAll,
  committedOffsets,
  recordCount,
  waitForRecords,
  waitForGroupStable,
} = shared;
