// Test helpers on a real broker, through stedi's Kafka port: fresh topics, producing inputs, reading a
// topic back whole. `createKafkaHelpers` serves any broker (the fault tests start a private one); the
// named exports serve the shared local stack.

import { randomUUID } from "node:crypto";
import { afterAll } from "vitest";
import type {
  OutgoingRecord,
  Producer,
  RecordHeaders,
  TopicRecords,
} from "../../src/adapters/kafka/index.js";
import { createKafkaPort } from "../../src/adapters/kafka/index.js";
import { StediError } from "../../src/errors.js";

export type ReadRecord = {
  key: string | null;
  value: string;
  partition: number;
  offset: string;
  timestamp: string;
  headers: Record<string, string>;
};

/** A record to produce; one without a key has none (`produce` also takes a bare value). */
export type InputRecord = Omit<OutgoingRecord, "key"> & { key?: OutgoingRecord["key"] };

const headerText = (headers: RecordHeaders): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Helpers for one broker. `idempotentProducer: false` suits a producer that must ride through a
 * broker restart: the idempotent producer can fail there with out-of-order sequence numbers, so a
 * failed send is sent again on a fresh producer (a new producer id, so no sequence to be out of order
 * with). That may duplicate input, which the fault checker counts as input.
 */
export function createKafkaHelpers(brokers: string[], options: { idempotentProducer?: boolean } = {}) {
  const ridesRestarts = options.idempotentProducer === false;
  const port = createKafkaPort({ brokers, connectTimeoutMs: 30_000 }, "stedi-tests");
  let producer: Promise<Producer> | undefined;

  const getProducer = (): Promise<Producer> => {
    if (producer === undefined) {
      const created = port.createProducer({ idempotent: !ridesRestarts });
      created.catch(() => {
        if (producer === created) producer = undefined;
      });
      producer = created;
    }
    return producer;
  };

  /** Sends once; with `idempotentProducer: false`, again on a fresh producer for up to a minute. */
  const send = async (records: TopicRecords[]): Promise<void> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        return await (await getProducer()).send(records);
      } catch (error) {
        if (!ridesRestarts || !(error instanceof StediError && error.retriable) || Date.now() > deadline)
          throw error;
        const failed = producer;
        producer = undefined;
        await (await failed?.catch(() => undefined))?.close();
        await sleep(500);
      }
    }
  };

  /** Creates a topic no other test uses. */
  const freshTopic = async (label: string, partitions = 1): Promise<string> => {
    const topic = `test-${label}-${randomUUID().slice(0, 8)}`;
    await port.ensureTopics([{ topic, numPartitions: partitions }]);
    return topic;
  };

  const produce = async (topic: string, records: (InputRecord | string)[]): Promise<void> => {
    const outgoing: OutgoingRecord[] = records.map((record) =>
      typeof record === "string" ? { key: null, value: record } : { ...record, key: record.key ?? null },
    );
    // In parts, so that a send repeated after a broker restart repeats little.
    for (let start = 0; start < outgoing.length; start += 1000)
      await send([{ topic, records: outgoing.slice(start, start + 1000) }]);
  };

  /** Reads a topic from the beginning up to its current end (read_committed). */
  const readAll = async (topic: string): Promise<ReadRecord[]> => {
    // By position: a consumer that rejoins its group reads again from its last commit (none here),
    // and a record read twice must not look like a record written twice.
    const records = new Map<string, ReadRecord>();
    await port.readToEnd(topic, (batch) => {
      for (const record of batch.records) {
        records.set(`${batch.partition}:${record.offset}`, {
          key: record.key?.toString() ?? null,
          value: record.value?.toString() ?? "",
          partition: batch.partition,
          offset: record.offset,
          timestamp: record.timestamp,
          headers: headerText(record.headers),
        });
      }
    });
    return [...records.values()];
  };

  /** The committed offsets of a group on a topic, by partition; partitions never committed are absent. */
  const committedOffsets = (groupId: string, topic: string): Promise<Map<number, string>> =>
    port.committedOffsets(groupId, topic);

  /** The number of records of a topic (end minus start, over all partitions; markers included). */
  const recordCount = async (topic: string): Promise<number> => {
    let count = 0;
    for (const { low, high } of (await port.offsetRanges(topic)).values()) count += high - low;
    return count;
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
      if ((await port.groupState(groupId)) === "Stable") return;
      if (Date.now() > deadline) throw new Error(`group ${groupId} did not become stable`);
      await sleep(200);
    }
  };

  const close = async () => {
    const open = producer;
    producer = undefined;
    await (await open?.catch(() => undefined))?.close();
    await port.close();
  };

  return {
    brokers,
    port,
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
  port,
  freshTopic,
  produce,
  readAll,
  committedOffsets,
  recordCount,
  waitForRecords,
  waitForGroupStable,
} = shared;
