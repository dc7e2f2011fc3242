// redis-source's durable position: a compacted Kafka topic, read once at start (read_committed).

import { randomUUID } from "node:crypto";
import type { Admin } from "kafkajs";
import {
  createConsumer,
  ensureTopics,
  fetchEndOffsets,
  type KafkaConnection,
  kafkaFailure,
  withTimeout,
} from "../adapters/kafka.js";
import { decodePosition, type StoredPosition } from "../core/connector/source-position.js";
import { unavailableError } from "../errors.js";

/**
 * Creates the records topic (one partition: the stream is one ordered log) and the offsets topic
 * (compacted: only the latest position per key matters) when they do not exist.
 */
export async function ensureSourceTopics(
  connection: KafkaConnection,
  admin: Admin,
  topics: { records: string; offsets: string },
): Promise<void> {
  await ensureTopics(connection, admin, [topics.records]);
  try {
    const existing = new Set(await admin.listTopics());
    if (existing.has(topics.offsets)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: topics.offsets,
          numPartitions: 1,
          configEntries: [{ name: "cleanup.policy", value: "compact" }],
        },
      ],
    });
  } catch (error) {
    if ((error as { type?: string }).type === "TOPIC_ALREADY_EXISTS") return;
    throw kafkaFailure(connection, `creating the offsets topic ${topics.offsets}`, error);
  }
}

/**
 * The last committed position stored under `key`, or undefined when there is none. Reads the
 * whole topic up to its last stable offset, so call it after fencing earlier producers of the same
 * transactional id (their open transaction is aborted then, and the end is stable). A value that
 * cannot be decoded is reported through `onBad` and ignored.
 */
export async function readStoredPosition(
  connection: KafkaConnection,
  admin: Admin,
  options: { topic: string; key: string; onBad: (reason: string) => void },
): Promise<StoredPosition | undefined> {
  const ends = await fetchEndOffsets(connection, admin, options.topic);
  const remaining = new Map(
    [...ends].filter(([, end]) => end.high > end.low).map(([partition, end]) => [partition, end.high]),
  );
  if (remaining.size === 0) return undefined;
  const consumer = await createConsumer(connection, {
    groupId: `stedi-redis-source-offsets-${randomUUID()}`,
  });
  let latest: string | undefined;
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const high = remaining.get(payload.partition);
        if (high !== undefined && Number(payload.lastOffset) >= high - 1) remaining.delete(payload.partition);
        if (remaining.size === 0) resolve();
      });
    });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.key?.toString("utf8") === options.key) latest = message.value?.toString("utf8");
      },
    });
    await withTimeout(done, Math.max(connection.connectTimeoutMs, 10_000), () =>
      unavailableError(`reading the stored position from ${options.topic} took too long`),
    );
  } catch (error) {
    throw kafkaFailure(connection, `reading the stored position from ${options.topic}`, error);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  if (latest === undefined) return undefined;
  const decoded = decodePosition(latest);
  if (decoded.ok) return decoded.value;
  options.onBad(decoded.reason);
  return undefined;
}
