// The Kafka port on kafkajs 2.2.4, with stedi's replacements of three of its steps (kafkajs-patches.ts).
// Every kafkajs type, error and event stays in this folder; what leaves it is port.ts's.

// Must come first: it replaces steps of kafkajs before kafkajs loads (a side-effect import, which
// import sorting leaves in place).
import "./kafkajs-patches.js";
import type { Admin } from "kafkajs";
import type { CommonConfig, KafkaSecurity } from "../../config/config.js";
import { StediError } from "../../errors.js";
import {
  committedOffsets,
  ensureTopics,
  groupState,
  offsetRanges,
  partitionCount,
  topicConfigs,
} from "./kafkajs-admin.js";
import { connectWithin, createKafka, type KafkajsContext } from "./kafkajs-client.js";
import { consume, readRecordsAt, readToEnd } from "./kafkajs-consumer.js";
import { classifyKafkaError } from "./kafkajs-errors.js";
import { patchesInstalled } from "./kafkajs-patches.js";
import { createProducer, createTransactionalWriter } from "./kafkajs-producer.js";
import type { KafkaPort } from "./port.js";

export { classifyKafkaError } from "./kafkajs-errors.js";

export type KafkaPortConfig = Pick<CommonConfig, "brokers" | "connectTimeoutMs"> & {
  security?: KafkaSecurity;
};

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

/**
 * Creates the port for one cluster. Nothing connects until first used; an unreachable cluster is an
 * `unavailable` error after the configured connect timeout.
 */
export function createKafkaPort(config: KafkaPortConfig, clientId: string): KafkaPort {
  assertPatchesInstalled();
  const connection = createKafka(config, clientId);
  let adminReady: Promise<Admin> | undefined;
  const connectAdmin = async () => {
    const admin = connection.kafka.admin();
    await connectWithin(connection, admin, "admin client");
    return admin;
  };
  const client: KafkajsContext = {
    kafka: connection.kafka,
    connection,
    config,
    admin() {
      const ready = adminReady ?? connectAdmin();
      adminReady = ready;
      ready.catch(() => {
        if (adminReady === ready) adminReady = undefined;
      });
      return ready;
    },
    fail: (doing, error) => classifyKafkaError(connection.brokers, doing, error),
  };
  return {
    brokers: connection.brokers,
    ensureTopics: (topics) => ensureTopics(client, topics),
    partitionCount: (topic) => partitionCount(client, topic),
    offsetRanges: (topic) => offsetRanges(client, topic),
    committedOffsets: (groupId, topic) => committedOffsets(client, groupId, topic),
    groupState: (groupId) => groupState(client, groupId),
    topicConfigs: (topic) => topicConfigs(client, topic),
    readToEnd: (topic, onBatch) => readToEnd(client, topic, onBatch),
    readRecordsAt: (topic, offsets) => readRecordsAt(client, topic, offsets),
    createProducer: (options) => createProducer(client, options),
    createTransactionalWriter: (transactionalId, options) =>
      createTransactionalWriter(client, transactionalId, options),
    consume: (options) => consume(client, options),
    async close() {
      const pending = adminReady;
      adminReady = undefined;
      await (await pending?.catch(() => undefined))?.disconnect().catch(() => undefined);
    },
  };
}
