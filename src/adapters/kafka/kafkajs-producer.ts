// Producing through kafkajs: transactional writers that stay fenced once fenced, plain idempotent
// producers, and the one splitter of records into requests.

import type { Producer as KafkajsProducer, Transaction as KafkajsTransaction, Message } from "kafkajs";
import type { StediError } from "../../errors.js";
import { connectWithin, type KafkajsContext, transactionalProducerConfig } from "./kafkajs-client.js";
import { errorTypes } from "./kafkajs-errors.js";
import { abortHangingTransactions, type KafkajsCluster } from "./kafkajs-hanging-transactions.js";
import { withTransactionalSession } from "./kafkajs-patches.js";
import type {
  AbandonedTransaction,
  ConsumedOffset,
  OutgoingRecord,
  Producer,
  TopicRecords,
  Transaction,
  TransactionalWriter,
  TransactionalWriterOptions,
} from "./port.js";

/** Where Kafka keeps consumed offsets, which transactions that commit offsets write to. */
const offsetsTopic = "__consumer_offsets";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A produce request holds at most this many records… */
const maxRecordsPerRequest = 5000;
/** …and about this many bytes, under the broker's default 1 MiB per record batch. */
const maxBytesPerRequest = 768 * 1024;

const lengthOf = (data: Buffer | string | null | undefined) =>
  data == null ? 0 : typeof data === "string" ? Buffer.byteLength(data) : data.length;

/** An upper bound of a record's size in a record batch: key, value, headers and framing. */
const sizeOf = (record: OutgoingRecord) => {
  let size = 64 + lengthOf(record.key) + lengthOf(record.value);
  if (record.headers === undefined) return size;
  for (const [name, value] of Object.entries(record.headers)) {
    for (const item of Array.isArray(value) ? value : [value])
      size += 16 + Buffer.byteLength(name) + lengthOf(item);
  }
  return size;
};

/**
 * Sends records to several topics in order, in requests of bounded count and size (the one
 * splitter: a transaction's records may be far more than one request holds). Empty input sends nothing.
 */
async function sendInRequests(
  sender: Pick<KafkajsProducer, "sendBatch">,
  records: readonly TopicRecords[],
): Promise<void> {
  let request: { topic: string; messages: Message[] }[] = [];
  let count = 0;
  let bytes = 0;
  const flush = async () => {
    if (count === 0) return;
    await sender.sendBatch({ topicMessages: request, acks: -1 });
    request = [];
    count = 0;
    bytes = 0;
  };
  for (const { topic, records: messages } of records) {
    let part: Message[] = [];
    for (const message of messages) {
      const size = sizeOf(message);
      if (count > 0 && (count >= maxRecordsPerRequest || bytes + size > maxBytesPerRequest)) {
        if (part.length > 0) request.push({ topic, messages: part });
        part = [];
        await flush();
      }
      // The port's record is kafkajs's message shape: no copy per record.
      part.push(message as Message);
      count += 1;
      bytes += size;
    }
    if (part.length > 0) request.push({ topic, messages: part });
  }
  await flush();
}

export async function createTransactionalWriter(
  client: KafkajsContext,
  transactionalId: string,
  options?: TransactionalWriterOptions,
): Promise<TransactionalWriter> {
  const { kafka, connection, fail } = client;

  const producer = kafka.producer(transactionalProducerConfig(transactionalId));
  await connectWithin(connection, producer, "transactional producer");
  // Once fenced, always fenced: the client's own state after a fence reads as some other failure.
  let fencedBy: StediError | undefined;
  const guarded = async <T>(doing: string, work: () => Promise<T>): Promise<T> => {
    if (fencedBy) throw fencedBy;
    try {
      return await work();
    } catch (error) {
      const failure = fail(`${doing} of ${transactionalId}`, error);
      if (failure.code === "fenced") fencedBy = failure;
      throw failure;
    }
  };

  const begin = async (): Promise<Transaction> => {
    const txn: KafkajsTransaction = await guarded("beginning a transaction", () => producer.transaction());
    return {
      send: (records) => guarded("writing in a transaction", () => sendInRequests(txn, records)),
      sendOffset: (offset: ConsumedOffset) =>
        guarded("adding offsets to a transaction", async () => {
          const request = {
            consumerGroupId: offset.groupId,
            topics: [
              {
                topic: offset.topic,
                partitions: [{ partition: offset.partition, offset: offset.nextOffset }],
              },
            ],
          };
          // Right after a commit the coordinator may still be writing its markers, and the client
          // retries only its own requests for that, not this one: try again soon, for a while.
          for (let attempt = 1; ; attempt += 1) {
            try {
              return await txn.sendOffsets(request);
            } catch (error) {
              if (attempt >= 200 || !errorTypes(error).includes("CONCURRENT_TRANSACTIONS")) throw error;
              await sleep(Math.min(attempt * 4, 50));
            }
          }
        }),
      commit: () => guarded("committing a transaction", () => txn.commit()),
      abort: () => guarded("aborting a transaction", () => txn.abort()),
    };
  };

  const abortedAtStart: AbandonedTransaction[] = [];
  const uncheckedAtStart: string[] = [];
  try {
    // An empty transaction initialises the producer id: from here on, earlier owners are fenced
    // and their open transaction is aborted.
    const opening = withTransactionalSession(() => producer.transaction());
    await (await opening.result).abort();
    const topics = [...(options?.writesTo ?? []), ...(options?.commitsOffsets ? [offsetsTopic] : [])];
    if (topics.length > 0) {
      if (opening.session === undefined) throw new Error("kafkajs created no transactional state to look up");
      const report = await abortHangingTransactions(
        opening.session.cluster as KafkajsCluster,
        opening.session.producerId(),
        [...new Set(topics)],
      );
      for (const { topic, partition, firstOffset } of report.aborted)
        abortedAtStart.push({ topic, partition, firstOffset: firstOffset.toString() });
      for (const { topic, partitions, reason } of report.unchecked)
        uncheckedAtStart.push(`${topic} partitions ${partitions.join(", ")}: ${reason}`);
    }
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw fail(`starting the transactional producer ${transactionalId}`, error);
  }
  return {
    transactionalId,
    abortedAtStart,
    uncheckedAtStart,
    begin,
    async commit(records, offset) {
      const txn = await begin();
      try {
        await txn.send(records);
        if (offset !== undefined) await txn.sendOffset(offset);
        await txn.commit();
      } catch (error) {
        await txn.abort().catch(() => undefined);
        throw error;
      }
    },
    async close() {
      await producer.disconnect().catch(() => undefined);
    },
  };
}

export async function createProducer(
  client: KafkajsContext,
  options: { idempotent?: boolean } = {},
): Promise<Producer> {
  const { kafka, connection, fail } = client;
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    ...(options.idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {}),
  });
  await connectWithin(connection, producer, "producer");
  return {
    async send(records) {
      try {
        await sendInRequests(producer, records);
      } catch (error) {
        throw fail(`writing to ${records.map((entry) => entry.topic).join(", ")}`, error);
      }
    },
    async close() {
      await producer.disconnect().catch(() => undefined);
    },
  };
}
