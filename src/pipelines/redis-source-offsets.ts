// redis-source's durable position: a compacted Kafka topic, read once at start (read_committed).

import type { KafkaPort } from "../adapters/kafka/index.js";
import { decodePosition, type StoredPosition } from "../core/connector/source-position.js";

/**
 * Creates the records topic (one partition: the stream is one ordered log) and the offsets topic
 * (compacted: only the latest position per key matters) when they do not exist.
 */
export async function ensureSourceTopics(
  kafka: KafkaPort,
  topics: { records: string; offsets: string },
): Promise<void> {
  await kafka.ensureTopics([
    topics.records,
    { topic: topics.offsets, numPartitions: 1, configs: { "cleanup.policy": "compact" } },
  ]);
}

/**
 * The last committed position stored under `key`, or undefined when there is none. Reads the
 * whole topic up to its last stable offset, so call it after fencing earlier producers of the same
 * transactional id (their open transaction is aborted then, and the end is stable). A value that
 * cannot be decoded is reported through `onBad` and ignored.
 */
export async function readStoredPosition(
  kafka: KafkaPort,
  options: { topic: string; key: string; onBad: (reason: string) => void },
): Promise<StoredPosition | undefined> {
  let latest: string | undefined;
  await kafka.readToEnd(options.topic, (batch) => {
    for (const record of batch.records)
      if (record.key?.toString("utf8") === options.key) latest = record.value?.toString("utf8");
  });
  if (latest === undefined) return undefined;
  const decoded = decodePosition(latest);
  if (decoded.ok) return decoded.value;
  options.onBad(decoded.reason);
  return undefined;
}
