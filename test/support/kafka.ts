// Test helpers on the real broker: fresh topics, producing inputs, reading a topic back whole.

import { randomUUID } from "node:crypto";
import { type Admin, type IHeaders, Kafka, logLevel, type Message, type Producer } from "kafkajs";
import { afterAll } from "vitest";

export const brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? "9092"}`).split(
  ",",
);

export const kafka = new Kafka({ clientId: "stedi-tests", brokers, logLevel: logLevel.NOTHING });

let admin: Admin | undefined;
let producer: Producer | undefined;

async function getAdmin(): Promise<Admin> {
  if (!admin) {
    admin = kafka.admin();
    await admin.connect();
  }
  return admin;
}

async function getProducer(): Promise<Producer> {
  if (!producer) {
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }
  return producer;
}

afterAll(async () => {
  await admin?.disconnect();
  await producer?.disconnect();
  admin = undefined;
  producer = undefined;
});

/** Creates a topic no other test uses. */
export async function freshTopic(label: string, partitions = 1): Promise<string> {
  const topic = `test-${label}-${randomUUID().slice(0, 8)}`;
  await (await getAdmin()).createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions }],
  });
  return topic;
}

export async function produce(topic: string, messages: (Message | string)[]): Promise<void> {
  await (await getProducer()).send({
    topic,
    acks: -1,
    messages: messages.map((message) => (typeof message === "string" ? { value: message } : message)),
  });
}

export type ReadRecord = {
  key: string | null;
  value: string;
  partition: number;
  offset: string;
  headers: Record<string, string>;
};

const headerText = (headers: IHeaders | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));

/** Reads a topic from the beginning up to its current end (read_committed). */
export async function readAll(topic: string): Promise<ReadRecord[]> {
  const offsets = await (await getAdmin()).fetchTopicOffsets(topic);
  const remaining = new Map(
    offsets
      .filter((entry) => Number(entry.high) > Number(entry.low))
      .map((entry) => [entry.partition, Number(entry.high)]),
  );
  if (remaining.size === 0) return [];
  const consumer = kafka.consumer({ groupId: `stedi-tests-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  const records: ReadRecord[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out reading ${topic}`)), 20_000);
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const high = remaining.get(payload.partition);
        if (high !== undefined && Number(payload.lastOffset) >= high - 1) remaining.delete(payload.partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          records.push({
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? "",
            partition,
            offset: message.offset,
            headers: headerText(message.headers),
          });
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The committed offsets of a group on a topic, by partition. */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
  const [entry] = await (await getAdmin()).fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((partition) => [partition.partition, partition.offset]));
}

/** Polls a topic until it holds at least `count` records; returns them. */
export async function waitForRecords(
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await readAll(topic);
    if (records.length >= count) return records;
    if (Date.now() > deadline) throw new Error(`${topic} has ${records.length} records, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until a consumer group has members with assignments (the command is consuming). */
export async function waitForGroupStable(groupId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { groups } = await (await getAdmin()).describeGroups([groupId]);
    if (groups[0]?.state === "Stable") return;
    if (Date.now() > deadline) throw new Error(`group ${groupId} did not become stable`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
