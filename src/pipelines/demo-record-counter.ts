// The demo's record counts: how many records each stage has committed to its topic since the demo
// started, read back as a read_committed consumer reads them. End offsets would overcount: every
// transaction also takes one offset per partition for its commit or abort marker, and aborted
// records take offsets too, so one output per event showed as two offsets per event.

import { randomUUID } from "node:crypto";
import type { GroupConsumer, KafkaPort } from "../adapters/kafka/index.js";

/** A stage of the demo and the topic it writes. */
export type CountedStage = { name: string; topic: string };

export interface RecordCounter {
  /** Records counted so far, by stage name (every stage present, from 0), in the order given. */
  counts(): Record<string, number>;
  /**
   * Waits until every partition has been read to its current end (its last stable offset), for at
   * most `timeoutMs`: true once caught up, false on timeout. Throws a StediError when Kafka fails.
   */
  settle(timeoutMs: number): Promise<boolean>;
  /** Stops reading and leaves the group. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Notes where each topic ends now (its last stable offset) and counts the committed records past
 * those ends, read with a group of its own that commits nothing. Once this resolves, every record
 * a stage commits is counted, however soon it is written. A consumer failure later is handed to
 * `onFailure`; the counts then stop growing. Throws a StediError when Kafka cannot be reached.
 */
export async function createRecordCounter(
  port: KafkaPort,
  stages: CountedStage[],
  options: { onFailure(error: Error): void },
): Promise<RecordCounter> {
  const counts: Record<string, number> = Object.fromEntries(stages.map(({ name }) => [name, 0]));
  const topics = [...new Set(stages.map(({ topic }) => topic))];
  const namesOf = new Map(topics.map((topic) => [topic, stages.filter((stage) => stage.topic === topic)]));
  const at = (topic: string, partition: number) => `${topic}:${partition}`;
  // Per partition: the end when counting started, and how far reading has come.
  const starts = new Map<string, number>();
  const positions = new Map<string, number>();
  for (const topic of topics)
    for (const [partition, range] of await port.offsetRanges(topic)) {
      starts.set(at(topic, partition), range.high);
      positions.set(at(topic, partition), range.low);
    }

  // From the beginning, skipping what was there before: a consumer starting at the end would take
  // the end at its first fetch, which may come after a stage's first records. The history costs a
  // read of the demo's topics once, in the background.
  const consumer: GroupConsumer = await port.consume({
    groupId: `stedi-demo-status-${randomUUID()}`,
    topics,
    fromBeginning: true,
    autoCommit: false,
    eachBatch: async (batch) => {
      const start = starts.get(at(batch.topic, batch.partition)) ?? 0;
      let added = 0;
      for (const record of batch.records) if (Number(record.offset) >= start) added += 1;
      for (const { name } of namesOf.get(batch.topic) ?? []) counts[name] = (counts[name] ?? 0) + added;
      return batch.records.at(-1)?.offset;
    },
    onRead: (topic, partition, nextOffset) => positions.set(at(topic, partition), nextOffset),
    onFailure: options.onFailure,
  });

  return {
    counts: () => ({ ...counts }),
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let behind = false;
        for (const topic of topics)
          for (const [partition, range] of await port.offsetRanges(topic))
            if ((positions.get(at(topic, partition)) ?? 0) < range.high) behind = true;
        if (!behind) return true;
        if (Date.now() >= deadline) return false;
        await sleep(100);
      }
    },
    close: () => consumer.close(),
  };
}
