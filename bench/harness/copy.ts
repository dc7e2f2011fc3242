// The pipe limit: `node .bench-build/bench/harness/copy.js` copies one topic to another the way `stedi join` moves
// records — the same kafkajs client settings, a transactional producer per input partition, requests
// built by the same sendRecords, the consumed offset sent and committed with each fetched batch — but
// with no decoding and no join. Whatever the join achieves is compared with this.

import { parseArgs } from "node:util";
import type { EachBatchPayload, Producer } from "kafkajs";
import {
  createConsumer,
  createKafka,
  sendRecords,
  transactionalProducerConfig,
} from "../../src/adapters/kafka.js";

const { values } = parseArgs({
  options: {
    brokers: { type: "string", default: "127.0.0.1:9092" },
    from: { type: "string" },
    to: { type: "string" },
    group: { type: "string" },
    expect: { type: "string" },
  },
});
if (!values.from || !values.to || !values.group || !values.expect) {
  process.stderr.write(
    "usage: node .bench-build/bench/harness/copy.js --from TOPIC --to TOPIC --group ID --expect N [--brokers …]\n",
  );
  process.exit(2);
}
const from = values.from;
const to = values.to;
const groupId = values.group;
const expected = Number(values.expect);

// The join's settings (pipelines/join.ts and adapters/kafka.ts) for its event consumer and producers.
const connection = createKafka(
  { brokers: values.brokers.split(","), connectTimeoutMs: 10_000 },
  "stedi-bench-copy",
);
const consumer = await createConsumer(connection, {
  groupId,
  sessionTimeout: 10_000,
  heartbeatInterval: 1000,
});
const producers = new Map<number, Promise<Producer>>();
let copied = 0;
let stopping = false;

/** One transactional producer per input partition, fenced in like PartitionTask.start does. */
const producerFor = (partition: number): Promise<Producer> => {
  let producer = producers.get(partition);
  if (!producer) {
    producer = (async () => {
      const created = connection.kafka.producer(
        transactionalProducerConfig(`${groupId}-${from}-${partition}`),
      );
      await created.connect();
      const fence = await created.transaction();
      await fence.abort();
      return created;
    })();
    producers.set(partition, producer);
  }
  return producer;
};

const finish = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await consumer.stop().catch(() => undefined);
  await Promise.all(
    [...producers.values()].map(async (pending) => (await pending.catch(() => undefined))?.disconnect()),
  );
  await consumer.disconnect().catch(() => undefined);
  process.exit(code);
};

const copyBatch = async ({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload) => {
  if (stopping || !isRunning() || isStale()) return;
  const last = batch.messages.at(-1);
  if (!last) return;
  const producer = await producerFor(batch.partition);
  const txn = await producer.transaction();
  try {
    await sendRecords(txn, [
      { topic: to, messages: batch.messages.map((message) => ({ key: message.key, value: message.value })) },
    ]);
    await txn.sendOffsets({
      consumerGroupId: groupId,
      topics: [
        {
          topic: from,
          partitions: [{ partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }],
        },
      ],
    });
    await txn.commit();
  } catch (error) {
    await txn.abort().catch(() => undefined);
    throw error;
  }
  resolveOffset(last.offset);
  copied += batch.messages.length;
  if (copied >= expected) void finish(0);
};

process.on("SIGTERM", () => void finish(0));
process.on("SIGINT", () => void finish(130));
consumer.on(consumer.events.CRASH, ({ payload }) => {
  if (!payload.restart) {
    process.stderr.write(`copy: ${payload.error.message}\n`);
    void finish(1);
  }
});
await consumer.subscribe({ topic: from, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: 4,
  eachBatch: copyBatch,
});
