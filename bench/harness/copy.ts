// The pipe limit: `node .bench-build/bench/harness/copy.js` copies one topic to another the way `stedi join` moves
// records — through the same Kafka port with the join's consumer settings, a transactional writer per
// input partition, the consumed offset committed with each fetched batch — but with no decoding and
// no join. Whatever the join achieves is compared with this.

import { parseArgs } from "node:util";
import type { ConsumedBatch, GroupConsumer, TransactionalWriter } from "../../src/adapters/kafka/index.js";
import { createKafkaPort } from "../../src/adapters/kafka/index.js";

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

const kafka = createKafkaPort(
  { brokers: values.brokers.split(","), connectTimeoutMs: 10_000 },
  "stedi-bench-copy",
);
const writers = new Map<number, Promise<TransactionalWriter>>();
let consumer: GroupConsumer | undefined;
let copied = 0;
let stopping = false;

/** One transactional writer per input partition, fencing earlier owners as the join's tasks do. */
const writerFor = (partition: number): Promise<TransactionalWriter> => {
  let writer = writers.get(partition);
  if (!writer) {
    writer = kafka.createTransactionalWriter(`${groupId}-${from}-${partition}`);
    writers.set(partition, writer);
  }
  return writer;
};

const finish = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await consumer?.close();
  await Promise.all(
    [...writers.values()].map(async (pending) => (await pending.catch(() => undefined))?.close()),
  );
  await kafka.close();
  process.exit(code);
};

const copyBatch = async (batch: ConsumedBatch, context: { isCurrent(): boolean }) => {
  const last = batch.records.at(-1);
  if (stopping || !context.isCurrent() || !last) return undefined;
  const writer = await writerFor(batch.partition);
  await writer.commit(
    [{ topic: to, records: batch.records.map((record) => ({ key: record.key, value: record.value })) }],
    { groupId, topic: from, partition: batch.partition, nextOffset: String(BigInt(last.offset) + 1n) },
  );
  copied += batch.records.length;
  if (copied >= expected) void finish(0);
  return last.offset;
};

process.on("SIGTERM", () => void finish(0));
process.on("SIGINT", () => void finish(130));
consumer = await kafka.consume({
  groupId,
  topics: [from],
  fromBeginning: true,
  autoCommit: false,
  concurrency: 4,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  eachBatch: copyBatch,
  onFailure: (error) => {
    process.stderr.write(`copy: ${error.message}\n`);
    void finish(1);
  },
});
