// Consuming through kafkajs: group consumers with the port's callbacks, reading a topic to its end,
// and reading single records.

import { randomUUID } from "node:crypto";
import type { Consumer, KafkaMessage } from "kafkajs";
import { offsetRanges } from "./kafkajs-admin.js";
import { connectWithin, type KafkajsContext, withTimeout } from "./kafkajs-client.js";
import type {
  ConsumedBatch,
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerOptions,
  OffsetRange,
} from "./port.js";

export async function consume(client: KafkajsContext, options: GroupConsumerOptions): Promise<GroupConsumer> {
  const { kafka, connection, fail } = client;

  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 200,
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: options.sessionTimeoutMs }),
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatInterval: options.heartbeatIntervalMs }),
  });
  await connectWithin(connection, consumer, "consumer");
  // kafkajs's isStale() follows seeks only; a partition that moved away in a rebalance is stale too.
  let assigned = new Set<string>();
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assignment = new Map(Object.entries(payload.memberAssignment));
    assigned = new Set(
      [...assignment].flatMap(([topic, partitions]) =>
        partitions.map((partition) => `${topic}:${partition}`),
      ),
    );
    // Seeks take effect at the next fetch; kafkajs drops a fetch of a partition still to seek.
    if (options.startAt) {
      for (const [topic, partitions] of assignment) {
        for (const partition of partitions) {
          const offset = options.startAt(topic, partition);
          if (offset !== undefined) consumer.seek({ topic, partition, offset: String(offset) });
        }
      }
    }
    options.onAssigned?.(assignment);
  });
  // Also after batches of transaction markers or aborted records only, which kafkajs resolves itself.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    options.onRead?.(payload.topic, payload.partition, Number(payload.lastOffset) + 1, payload.batchSize);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) options.onFailure(fail("consuming", payload.error));
  });
  try {
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning });
    await consumer.run({
      autoCommit: options.autoCommit,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.concurrency ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const consumed: ConsumedBatch = {
          topic: batch.topic,
          partition: batch.partition,
          // kafkajs's message carries the port's record fields: no copy per record.
          records: batch.messages as KafkaMessage[] as ConsumedRecord[],
          nextOffset: Number(batch.lastOffset()) + 1,
          highWatermark: Number(batch.highWatermark),
        };
        const last = await options.eachBatch(consumed, {
          heartbeat,
          isCurrent: () => isRunning() && !isStale() && assigned.has(`${batch.topic}:${batch.partition}`),
        });
        if (last !== undefined) resolveOffset(last);
      },
    });
  } catch (error) {
    await consumer.disconnect().catch(() => undefined);
    throw fail(`subscribing to ${options.topics.join(", ")}`, error);
  }
  return {
    async close() {
      await consumer.stop().catch(() => undefined);
      await consumer.disconnect().catch(() => undefined);
    },
  };
}

export async function readToEnd(
  client: KafkajsContext,
  topic: string,
  onBatch: (batch: ConsumedBatch) => void,
): Promise<void> {
  const { config, fail } = client;

  const ends = await offsetRanges(client, topic);
  const remaining = new Map(
    [...ends].filter(([, end]) => end.high > end.low).map(([partition, end]) => [partition, end.high]),
  );
  if (remaining.size === 0) return;
  let done: () => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  // A large topic may take minutes to read: what times out is a read that stops moving.
  let lastProgress = Date.now();
  const reached = (partition: number, next: number) => {
    lastProgress = Date.now();
    const end = remaining.get(partition);
    if (end !== undefined && next >= end) remaining.delete(partition);
    if (remaining.size === 0) done();
  };
  // A group of its own that commits nothing: every read starts at the beginning.
  const consumer = await consume(client, {
    groupId: `stedi-read-${topic}-${randomUUID()}`,
    topics: [topic],
    fromBeginning: true,
    autoCommit: false,
    eachBatch: async (batch) => {
      lastProgress = Date.now();
      const end = remaining.get(batch.partition);
      if (end !== undefined) {
        const records = batch.records.filter((record) => Number(record.offset) < end);
        onBatch({ ...batch, records, nextOffset: Math.min(batch.nextOffset, end) });
      }
      return batch.records.at(-1)?.offset;
    },
    onRead: (_topic, partition, next) => reached(partition, next),
    onFailure: failed,
  });
  const stalledAfterMs = Math.max(config.connectTimeoutMs, 30_000);
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > stalledAfterMs) {
      failed(fail(`reading ${topic} to its end`, new Error(`no progress for ${stalledAfterMs / 1000} s`)));
    }
  }, 1000);
  try {
    await finished;
  } finally {
    clearInterval(watchdog);
    await consumer.close();
  }
}

/**
 * The record at each offset: a consumer of its own, each asked partition started at its offset,
 * answered by its first fetch (the first record at or after the offset) or by a fetch that moved
 * past the offset with no record (only markers or aborted records there). kafkajs has no fetch
 * outside a consumer group; a group join costs tens of milliseconds on a broker whose initial
 * rebalance delay is 0.
 */
export async function readRecordsAt(
  client: KafkajsContext,
  topic: string,
  offsets: ReadonlyMap<number, number>,
): Promise<Map<number, ConsumedRecord | undefined>> {
  const { config, fail } = client;
  const found = new Map<number, ConsumedRecord | undefined>();
  const ranges: Map<number, OffsetRange> = await offsetRanges(client, topic);
  const wanted = new Map<number, number>();
  for (const [partition, offset] of offsets) {
    const range = ranges.get(partition);
    if (range === undefined || offset < range.low || offset >= range.high) found.set(partition, undefined);
    else wanted.set(partition, offset);
  }
  if (wanted.size === 0) return found;
  let done: () => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  const answer = (partition: number, record: ConsumedRecord | undefined) => {
    if (!wanted.has(partition)) return;
    wanted.delete(partition);
    found.set(partition, record);
    if (wanted.size === 0) done();
  };
  const consumer = await consume(client, {
    groupId: `stedi-read-at-${topic}-${randomUUID()}`,
    topics: [topic],
    // Partitions not asked for start at their end and fetch nothing.
    fromBeginning: false,
    autoCommit: false,
    concurrency: Math.max(1, wanted.size),
    startAt: (_topic, partition) => wanted.get(partition),
    eachBatch: async (batch) => {
      const offset = wanted.get(batch.partition);
      if (offset !== undefined) {
        const first = batch.records.find((record) => Number(record.offset) >= offset);
        if (first !== undefined) answer(batch.partition, Number(first.offset) === offset ? first : undefined);
      }
      return batch.records.at(-1)?.offset;
    },
    onRead: (_topic, partition, next) => {
      const offset = wanted.get(partition);
      if (offset !== undefined && next > offset) answer(partition, undefined);
    },
    onFailure: failed,
  });
  try {
    await withTimeout(finished, Math.max(config.connectTimeoutMs, 30_000), () =>
      fail(`reading records of ${topic}`, new Error("timed out")),
    );
  } finally {
    await consumer.close();
  }
  return found;
}
