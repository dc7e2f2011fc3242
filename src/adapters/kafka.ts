// The one place that talks to Kafka: clients, topic setup, and turning client failures into one line.

// Must come first: it replaces two internal steps of kafkajs before kafkajs loads.
import "./kafka/kafkajs-patches.js";
import { readFileSync } from "node:fs";
import {
  type Admin,
  type Consumer,
  type ConsumerConfig,
  Kafka,
  type KafkaConfig,
  logLevel,
  type Message,
  type Producer,
  type ProducerConfig,
} from "kafkajs";
import type { CommonConfig, KafkaSecurity } from "../config/config.js";
import { configError, describeCause, StediError, unavailableError } from "../errors.js";

export type KafkaConnection = { kafka: Kafka; brokers: string[]; connectTimeoutMs: number };

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw configError(
      `cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? describeCause(error)}`,
    );
  }
}

/** kafkajs TLS and SASL options from the resolved security settings; reads the files they name. */
export function securityOptions(security: KafkaSecurity | undefined): Pick<KafkaConfig, "ssl" | "sasl"> {
  const options: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (security?.tls) {
    const { ca, cert, key } = security.tls;
    options.ssl =
      ca === undefined && cert === undefined && key === undefined
        ? true
        : {
            ...(ca === undefined ? {} : { ca: [readSecret(ca, "--ssl-ca")] }),
            ...(cert === undefined ? {} : { cert: readSecret(cert, "--ssl-cert") }),
            ...(key === undefined ? {} : { key: readSecret(key, "--ssl-key") }),
          };
  }
  if (security?.sasl) {
    const { mechanism, username, password } = security.sasl;
    const secret =
      "value" in password ? password.value : readSecret(password.file, "--sasl-password-file").trimEnd();
    options.sasl =
      mechanism === "plain"
        ? { mechanism, username, password: secret }
        : mechanism === "scram-sha-256"
          ? { mechanism, username, password: secret }
          : { mechanism, username, password: secret };
  }
  return options;
}

export function createKafka(
  config: Pick<CommonConfig, "brokers" | "connectTimeoutMs"> & { security?: KafkaSecurity },
  clientId: string,
): KafkaConnection {
  const kafkaConfig: KafkaConfig = {
    ...securityOptions(config.security),
    clientId,
    brokers: config.brokers,
    connectionTimeout: Math.min(3000, config.connectTimeoutMs),
    // Bounded retries: a broker that stays away becomes a clear error, not an endless loop.
    retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 8 },
    // kafkajs logs through its own console logger; stedi reports failures itself, one line each.
    logLevel: process.env.STEDI_DEBUG_KAFKA ? logLevel.DEBUG : logLevel.NOTHING,
  };
  return {
    kafka: new Kafka(kafkaConfig),
    brokers: config.brokers,
    connectTimeoutMs: config.connectTimeoutMs,
  };
}

/** Rejects with `onTimeout()` when `work` has not settled within `ms`. */
export async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const startHint = "is the broker running? For the local stack: npm run stack:up";

/** Wraps any kafkajs failure into an `unavailable` error naming the brokers; StediErrors pass through. */
export function kafkaFailure(connection: KafkaConnection, doing: string, error: unknown): StediError {
  if (error instanceof StediError) return error;
  return unavailableError(
    `Kafka at ${connection.brokers.join(",")}: ${doing} failed: ${describeCause(error)}`,
    {
      hint: startHint,
      cause: error,
    },
  );
}

/** Connects a client (admin, producer or consumer) within the configured time, or throws one clear error. */
export async function connectWithin(
  connection: KafkaConnection,
  client: Admin | Producer | Consumer,
  what: string,
): Promise<void> {
  const seconds = connection.connectTimeoutMs / 1000;
  try {
    await withTimeout(client.connect(), connection.connectTimeoutMs, () =>
      unavailableError(
        `cannot reach Kafka at ${connection.brokers.join(",")} within ${seconds} s (${what})`,
        {
          hint: startHint,
        },
      ),
    );
  } catch (error) {
    void client.disconnect().catch(() => undefined);
    throw kafkaFailure(connection, `connecting the ${what}`, error);
  }
}

export async function createAdmin(connection: KafkaConnection): Promise<Admin> {
  const admin = connection.kafka.admin();
  await connectWithin(connection, admin, "admin client");
  return admin;
}

export async function createProducer(
  connection: KafkaConnection,
  config: ProducerConfig = {},
): Promise<Producer> {
  const producer = connection.kafka.producer({ allowAutoTopicCreation: false, ...config });
  await connectWithin(connection, producer, "producer");
  return producer;
}

/**
 * A transactional producer's settings. A transaction begun right after a commit meets
 * CONCURRENT_TRANSACTIONS until the commit's markers are written (a millisecond or two here), and
 * kafkajs answers with a retry: that retry must come soon, not after the client's 200 ms. The budget
 * (about 15 s) still carries a transaction through a broker restart.
 */
export const transactionalProducerConfig = (transactionalId: string): ProducerConfig => ({
  transactionalId,
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  retry: { initialRetryTime: 4, maxRetryTime: 2000, retries: 16 },
});

export async function createConsumer(connection: KafkaConnection, config: ConsumerConfig): Promise<Consumer> {
  const consumer = connection.kafka.consumer({ maxWaitTimeInMs: 200, ...config });
  await connectWithin(connection, consumer, "consumer");
  return consumer;
}

export type TopicSpec = {
  topic: string;
  numPartitions?: number;
  configEntries?: { name: string; value: string }[];
};

/**
 * Creates the topics that do not exist yet (one partition unless told otherwise) and waits for
 * their leaders. Existing topics are left as they are. Throws an `unavailable` error when the
 * cluster refuses (for example when the principal may not create topics).
 */
export async function ensureTopics(
  connection: KafkaConnection,
  admin: Admin,
  topics: (string | TopicSpec)[],
): Promise<void> {
  const specs = topics.map((topic) => (typeof topic === "string" ? { topic } : topic));
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter(
      (spec, index) =>
        !existing.has(spec.topic) && specs.findIndex((other) => other.topic === spec.topic) === index,
    );
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((spec) => ({ numPartitions: 1, ...spec })),
    });
    await waitForLeaders(
      admin,
      missing.map((spec) => spec.topic),
      connection.connectTimeoutMs,
    );
  } catch (error) {
    // Another process may have created the same topic between list and create.
    if ((error as { type?: string }).type === "TOPIC_ALREADY_EXISTS") return;
    throw kafkaFailure(connection, `creating topics ${specs.map((spec) => spec.topic).join(", ")}`, error);
  }
}

/**
 * Waits until every partition of new topics has a leader. kafkajs's own wait sleeps its retry
 * interval (200 ms) after the first look, most of a first start's time; leaders come within a few ms.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
    const ready =
      metadata !== undefined &&
      metadata.topics.length === topics.length &&
      metadata.topics.every(
        ({ partitions }) =>
          partitions.length > 0 &&
          partitions.every((partition) => partition.leader >= 0 && partition.partitionErrorCode === 0),
      );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`no leader for ${topics.join(", ")} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The number of partitions of an existing topic. */
export async function partitionCount(
  connection: KafkaConnection,
  admin: Admin,
  topic: string,
): Promise<number> {
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]?.partitions.length ?? 0;
  } catch (error) {
    throw kafkaFailure(connection, `reading the partitions of ${topic}`, error);
  }
}

/** End offsets per partition of a topic: where "caught up" is, at the moment of asking. */
export async function fetchEndOffsets(
  connection: KafkaConnection,
  admin: Admin,
  topic: string,
): Promise<Map<number, { low: number; high: number }>> {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(
      offsets.map((entry) => [entry.partition, { low: Number(entry.low), high: Number(entry.high) }]),
    );
  } catch (error) {
    throw kafkaFailure(connection, `reading the end offsets of ${topic}`, error);
  }
}

/** A produce request holds at most this many records… */
const maxRecordsPerRequest = 5000;
/** …and about this many bytes, under the broker's default 1 MiB per record batch. */
const maxBytesPerRequest = 768 * 1024;

const lengthOf = (data: Buffer | string | null | undefined) =>
  data == null ? 0 : typeof data === "string" ? Buffer.byteLength(data) : data.length;

/** An upper bound of a record's size in a record batch: key, value, headers and framing. */
const sizeOf = (message: Message) => {
  let size = 64 + lengthOf(message.key) + lengthOf(message.value);
  if (message.headers === undefined) return size;
  for (const [name, value] of Object.entries(message.headers)) {
    for (const item of Array.isArray(value) ? value : [value])
      size += 16 + Buffer.byteLength(name) + lengthOf(item);
  }
  return size;
};

/**
 * Sends records to several topics in order, in requests of bounded count and size. Works with a
 * producer or an open transaction. Empty input sends nothing.
 */
export async function sendRecords(
  sender: Pick<Producer, "sendBatch">,
  records: { topic: string; messages: Message[] }[],
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
  for (const { topic, messages } of records) {
    let part: Message[] = [];
    for (const message of messages) {
      const size = sizeOf(message);
      if (count > 0 && (count >= maxRecordsPerRequest || bytes + size > maxBytesPerRequest)) {
        if (part.length > 0) request.push({ topic, messages: part });
        part = [];
        await flush();
      }
      part.push(message);
      count += 1;
      bytes += size;
    }
    if (part.length > 0) request.push({ topic, messages: part });
  }
  await flush();
}
