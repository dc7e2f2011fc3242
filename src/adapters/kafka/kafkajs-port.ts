// The Kafka port on kafkajs 2.2.4, with stedi's replacements of three of its steps (kafkajs-patches.ts).
// Every kafkajs type, error and event stays in this folder; what leaves it is port.ts's.

// Must come first: it replaces steps of kafkajs before kafkajs loads (a side-effect import, which
// import sorting leaves in place).
import "./kafkajs-patches.js";
import { randomUUID } from "node:crypto";
import {
  ConfigResourceTypes,
  type Consumer,
  type Producer as KafkajsProducer,
  type Transaction as KafkajsTransaction,
  type KafkaMessage,
  type Message,
} from "kafkajs";
import type { CommonConfig, KafkaSecurity } from "../../config/config.js";
import { describeCause, StediError } from "../../errors.js";
import {
  connectWithin,
  createKafka,
  type KafkaConnection,
  kafkaFailure,
  transactionalProducerConfig,
  withTimeout,
} from "./kafkajs-client.js";
import { patchesInstalled } from "./kafkajs-patches.js";
import type {
  ConsumedBatch,
  ConsumedOffset,
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerOptions,
  KafkaPort,
  OffsetRange,
  OutgoingRecord,
  Producer,
  TopicRecords,
  TopicSpec,
  Transaction,
  TransactionalWriter,
} from "./port.js";

export type KafkaPortConfig = Pick<CommonConfig, "brokers" | "connectTimeoutMs"> & {
  security?: KafkaSecurity;
};

/** Answers of a newer owner of the same transactional id. */
const fencedTypes = new Set(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"]);
/** Answers that no retry changes. */
const rejectedTypes = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "SASL_AUTHENTICATION_FAILED",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_REQUIRED_ACKS",
  "POLICY_VIOLATION",
  "INVALID_CONFIG",
  "INVALID_REPLICATION_FACTOR",
  "INVALID_PARTITIONS",
  "UNSUPPORTED_VERSION",
]);

/** The protocol error types along an error's chain of causes, outermost first. */
function errorTypes(error: unknown): string[] {
  const types: string[] = [];
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); ) {
    seen.add(current);
    const type = (current as { type?: string }).type;
    if (type) types.push(type);
    current =
      (current as { cause?: unknown; originalError?: unknown }).cause ??
      (current as { originalError?: unknown }).originalError;
  }
  return types;
}

/**
 * Every Kafka failure, classified once: `fenced` (a newer owner took the transactional id over),
 * `rejected` (the cluster refused for good) or `unavailable` (worth trying again). StediErrors
 * pass through unchanged; `doing` says what failed, for the one-line message.
 */
export function classifyKafkaError(brokers: readonly string[], doing: string, error: unknown): StediError {
  if (error instanceof StediError) return error;
  const types = errorTypes(error);
  if (types.some((type) => fencedTypes.has(type))) {
    return new StediError("fenced", `${doing}: fenced by a newer owner of the same transactional id`, {
      cause: error,
    });
  }
  if (types.some((type) => rejectedTypes.has(type))) {
    return new StediError(
      "rejected",
      `Kafka at ${brokers.join(",")}: ${doing} was refused: ${describeCause(error)}`,
      {
        cause: error,
      },
    );
  }
  return kafkaFailure({ brokers: [...brokers] } as KafkaConnection, doing, error);
}

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

/** Stops with an internal error when kafkajs was loaded before stedi's replacements of its steps. */
function assertPatchesInstalled(): void {
  const missing = Object.entries(patchesInstalled)
    .filter(([, installed]) => !installed)
    .map(([name]) => name);
  if (missing.length > 0) {
    throw new StediError(
      "internal",
      `kafkajs was loaded before stedi's replacements of its steps (${missing.join(", ")}); refusing to run with them missing`,
    );
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Creates the port for one cluster. Nothing connects until first used; an unreachable cluster is an
 * `unavailable` error after the configured connect timeout.
 */
export function createKafkaPort(config: KafkaPortConfig, clientId: string): KafkaPort {
  assertPatchesInstalled();
  const connection = createKafka(config, clientId);
  const { kafka, brokers } = connection;
  const fail = (doing: string, error: unknown) => classifyKafkaError(brokers, doing, error);

  let adminReady: ReturnType<typeof connectAdmin> | undefined;
  const connectAdmin = async () => {
    const admin = kafka.admin();
    await connectWithin(connection, admin, "admin client");
    return admin;
  };
  const admin = () => {
    adminReady ??= connectAdmin();
    adminReady.catch(() => {
      adminReady = undefined;
    });
    return adminReady;
  };

  /** Waits until every partition of new topics has a leader: kafkajs's own wait sleeps 200 ms first. */
  const waitForLeaders = async (topics: string[]) => {
    const deadline = Date.now() + config.connectTimeoutMs;
    for (;;) {
      const metadata = await (await admin()).fetchTopicMetadata({ topics }).catch(() => undefined);
      const ready =
        metadata !== undefined &&
        metadata.topics.length === topics.length &&
        metadata.topics.every(
          ({ partitions }) =>
            partitions.length > 0 &&
            partitions.every((partition) => partition.leader >= 0 && partition.partitionErrorCode === 0),
        );
      if (ready) return;
      if (Date.now() > deadline)
        throw new Error(`no leader for ${topics.join(", ")} within ${config.connectTimeoutMs} ms`);
      await sleep(5);
    }
  };

  const ensureTopics = async (topics: (string | TopicSpec)[]) => {
    const specs = topics.map((topic) => (typeof topic === "string" ? { topic } : topic));
    const doing = `creating topics ${specs.map((spec) => spec.topic).join(", ")}`;
    try {
      const client = await admin();
      const existing = new Set(await client.listTopics());
      const missing = specs.filter(
        (spec, index) =>
          !existing.has(spec.topic) && specs.findIndex((other) => other.topic === spec.topic) === index,
      );
      if (missing.length === 0) return;
      await client.createTopics({
        waitForLeaders: false,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.numPartitions ?? 1,
          configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      await waitForLeaders(missing.map((spec) => spec.topic));
    } catch (error) {
      // Another process may have created the same topic between list and create.
      if (errorTypes(error).includes("TOPIC_ALREADY_EXISTS")) return;
      throw fail(doing, error);
    }
  };

  const offsetRanges = async (topic: string): Promise<Map<number, OffsetRange>> => {
    try {
      const offsets = await (await admin()).fetchTopicOffsets(topic);
      return new Map(
        offsets.map((entry) => [entry.partition, { low: Number(entry.low), high: Number(entry.high) }]),
      );
    } catch (error) {
      throw fail(`reading the end offsets of ${topic}`, error);
    }
  };

  const consume = async (options: GroupConsumerOptions): Promise<GroupConsumer> => {
    const consumer: Consumer = kafka.consumer({
      groupId: options.groupId,
      maxWaitTimeInMs: 200,
      ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: options.sessionTimeoutMs }),
      ...(options.heartbeatIntervalMs === undefined
        ? {}
        : { heartbeatInterval: options.heartbeatIntervalMs }),
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
  };

  const readToEnd = async (topic: string, onBatch: (batch: ConsumedBatch) => void): Promise<void> => {
    const ends = await offsetRanges(topic);
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
    const reached = (partition: number, next: number) => {
      const end = remaining.get(partition);
      if (end !== undefined && next >= end) remaining.delete(partition);
      if (remaining.size === 0) done();
    };
    // A group of its own that commits nothing: every read starts at the beginning.
    const consumer = await consume({
      groupId: `stedi-read-${topic}-${randomUUID()}`,
      topics: [topic],
      fromBeginning: true,
      autoCommit: false,
      eachBatch: async (batch) => {
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
    try {
      await withTimeout(finished, Math.max(config.connectTimeoutMs, 30_000), () =>
        fail(`reading ${topic} to its end`, new Error("timed out")),
      );
    } finally {
      await consumer.close();
    }
  };

  const createTransactionalWriter = async (transactionalId: string): Promise<TransactionalWriter> => {
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

    try {
      // An empty transaction initialises the producer id: from here on, earlier owners are fenced
      // and their open transaction is aborted.
      await (await begin()).abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw fail(`starting the transactional producer ${transactionalId}`, error);
    }
    return {
      transactionalId,
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
  };

  const createProducer = async (): Promise<Producer> => {
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
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
  };

  return {
    brokers,
    ensureTopics,
    async partitionCount(topic) {
      try {
        const metadata = await (await admin()).fetchTopicMetadata({ topics: [topic] });
        return metadata.topics[0]?.partitions.length ?? 0;
      } catch (error) {
        if (errorTypes(error).includes("UNKNOWN_TOPIC_OR_PARTITION")) return 0;
        throw fail(`reading the partitions of ${topic}`, error);
      }
    },
    offsetRanges,
    async committedOffsets(groupId, topic) {
      try {
        const [entry] = await (await admin()).fetchOffsets({ groupId, topics: [topic] });
        return new Map(
          (entry?.partitions ?? [])
            .filter(({ offset }) => Number(offset) >= 0)
            .map(({ partition, offset }) => [partition, offset]),
        );
      } catch (error) {
        throw fail(`reading the committed offsets of ${groupId}`, error);
      }
    },
    async groupState(groupId) {
      try {
        const { groups } = await (await admin()).describeGroups([groupId]);
        const group = groups[0];
        return group === undefined || group.state === "Dead" || group.state === "Empty"
          ? undefined
          : group.state;
      } catch (error) {
        throw fail(`describing the group ${groupId}`, error);
      }
    },
    async topicConfigs(topic) {
      try {
        const { resources } = await (await admin()).describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
        });
        return new Map(
          (resources[0]?.configEntries ?? [])
            .filter((entry) => !entry.isDefault)
            .map((entry) => [entry.configName, entry.configValue]),
        );
      } catch (error) {
        throw fail(`describing the configs of ${topic}`, error);
      }
    },
    readToEnd,
    createProducer,
    createTransactionalWriter,
    consume,
    async close() {
      const pending = adminReady;
      adminReady = undefined;
      await (await pending?.catch(() => undefined))?.disconnect().catch(() => undefined);
    },
  };
}
