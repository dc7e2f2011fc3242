// The step of kafkajs's producer that sends one batch of messages to the partitions' leaders,
// replaced (see kafkajs-patches.ts) because kafkajs's own step writes records twice, or not at all,
// when one leader fails while another's request is still in flight:
//
// - It retries as soon as the first request fails, while requests to other brokers are still on the
//   wire; the retry finds their brokers without a response yet and sends their records again, with
//   new sequence numbers, so the broker keeps both copies (seen on a three-node cluster as whole
//   requests written twice within one transaction).
// - It remembers which brokers answered, not which partitions: a partition whose leader moved to a
//   broker that had already answered for other partitions is never sent again.
//
// This step waits until every request of an attempt has settled, then sends again exactly the
// partitions that no leader has acknowledged, each with the sequence numbers it was first sent with
// (a failed request gives its sequence numbers back, so the new leader recognises a batch the old
// one had already replicated and keeps it once).

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

type Message = { partition?: number | null };
type PartitionMessages = { partition: number; messages: Message[]; firstSequence?: number };
type TopicData = { topic: string; partitions: PartitionMessages[] };
type PartitionMetadata = { partitionId: number; leader?: number | null };
type Broker = { nodeId: number; produce(request: Record<string, unknown>): Promise<ProduceResponse> };
type ProduceResponse = { topics: { topicName: string; partitions: { partition: number }[] }[] };
type KafkajsError = Error & { type?: string; retriable?: boolean; host?: string; port?: number };

export type SendMessagesDependencies = {
  logger: { debug(message: string, extra?: object): void; error(message: string, extra?: object): void };
  cluster: {
    refreshMetadataIfNecessary(): Promise<void>;
    refreshMetadata(): Promise<void>;
    findTopicPartitionMetadata(topic: string): PartitionMetadata[];
    findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
    findBroker(args: { nodeId: number }): Promise<Broker>;
    isConnected(): boolean;
    connect(): Promise<void>;
    removeBroker(args: { host?: string; port?: number }): void;
    addMultipleTargetTopics(topics: string[]): Promise<void>;
  };
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;
  eosManager: {
    isTransactional(): boolean;
    getTransactionalId(): string;
    getProducerId(): number;
    getProducerEpoch(): number;
    getSequence(topic: string, partition: number): number;
    updateSequence(topic: string, partition: number, increment: number): void;
    acquireBrokerLock(broker: Broker): Promise<void>;
    releaseBrokerLock(broker: Broker): Promise<void>;
    addPartitionsToTransaction(topicData: TopicData[]): Promise<void>;
  };
  retrier: <T>(
    work: (bail: (error: Error) => void, retryCount: number, retryTime: number) => Promise<T>,
  ) => Promise<T>;
};

export type SendArgs = {
  acks: number;
  timeout?: number;
  compression?: number;
  topicMessages: { topic: string; messages: Message[] }[];
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long a transaction's first AddPartitionsToTxn waits, in all, for the previous commit's markers. */
const markersWaitMs = 250;

/**
 * Adds partitions to the transaction, waiting out CONCURRENT_TRANSACTIONS — the coordinator still
 * writing the previous commit's markers, a millisecond or a few after it answered — with retries
 * 1, 2, 4… ms apart rather than the client's general backoff. Beyond `markersWaitMs` the error goes
 * to the client's retries like any other.
 */
async function addPartitionsOnceMarked(add: () => Promise<void>): Promise<void> {
  for (let waited = 0, delay = 1; ; delay *= 2) {
    try {
      return await add();
    } catch (error) {
      if ((error as KafkajsError).type !== "CONCURRENT_TRANSACTIONS" || waited >= markersWaitMs) throw error;
      await sleep(delay);
      waited += delay;
    }
  }
}

/** The partition-level results of a Produce response, as kafkajs's producer returns them. */
export type PartitionResult = { topicName: string; partition: number } & Record<string, unknown>;

const isStaleMetadata = (error: KafkajsError) =>
  ["UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE", "NOT_LEADER_FOR_PARTITION"].includes(
    error.type ?? "",
  );

const groupByPartition = (
  dependencies: SendMessagesDependencies,
  topic: string,
  partitionMetadata: PartitionMetadata[],
  messages: Message[],
): Map<number, Message[]> => {
  const grouped = new Map<number, Message[]>();
  for (const message of messages) {
    const partition = dependencies.partitioner({ topic, partitionMetadata, message });
    const existing = grouped.get(partition);
    if (existing) existing.push(message);
    else grouped.set(partition, [message]);
  }
  return grouped;
};

export function createSendMessages(dependencies: SendMessagesDependencies) {
  const { logger, cluster, eosManager, retrier } = dependencies;
  const { KafkaJSMetadataNotLoaded } = require("kafkajs/src/errors.js") as {
    KafkaJSMetadataNotLoaded: new (message: string) => Error;
  };

  return async ({ acks, timeout, compression, topicMessages }: SendArgs): Promise<PartitionResult[]> => {
    // Per topic and partition, what its leader answered; a partition is sent until it has an answer.
    const acknowledged = new Map<string, Map<number, PartitionResult[]>>();
    const answered = (topic: string) => {
      const known = acknowledged.get(topic);
      if (known) return known;
      const partitions = new Map<number, PartitionResult[]>();
      acknowledged.set(topic, partitions);
      return partitions;
    };

    // A topic named twice is one topic: its partitions' messages in the order given.
    const messagesPerTopic = new Map<string, Message[]>();
    for (const { topic, messages } of topicMessages) {
      const existing = messagesPerTopic.get(topic);
      if (existing) existing.push(...messages);
      else messagesPerTopic.set(topic, [...messages]);
    }

    /** What is still to send, by the node id of each partition's current leader. */
    const pendingPerLeader = async (): Promise<Map<number, TopicData[]>> => {
      await cluster.refreshMetadataIfNecessary();
      const perLeader = new Map<number, TopicData[]>();
      for (const [topic, messages] of messagesPerTopic) {
        const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
        if (partitionMetadata.length === 0) {
          logger.debug("Producing to topic without metadata", { topic });
          throw new KafkaJSMetadataNotLoaded("Producing to topic without metadata");
        }
        const grouped = groupByPartition(dependencies, topic, partitionMetadata, messages);
        const done = answered(topic);
        const pending = [...grouped.keys()].filter((partition) => !done.has(partition));
        for (const [leader, partitions] of Object.entries(cluster.findLeaderForPartitions(topic, pending))) {
          const topics = perLeader.get(Number(leader)) ?? [];
          topics.push({
            topic,
            partitions: partitions.map((partition) => ({
              partition,
              messages: grouped.get(partition) ?? [],
            })),
          });
          perLeader.set(Number(leader), topics);
        }
      }
      return perLeader;
    };

    const sendToLeader = async (nodeId: number, topicData: TopicData[]): Promise<void> => {
      const broker = await cluster.findBroker({ nodeId });
      await eosManager.acquireBrokerLock(broker);
      try {
        if (eosManager.isTransactional())
          await addPartitionsOnceMarked(() => eosManager.addPartitionsToTransaction(topicData));
        for (const { topic, partitions } of topicData) {
          for (const entry of partitions) {
            entry.firstSequence = eosManager.getSequence(topic, entry.partition);
            eosManager.updateSequence(topic, entry.partition, entry.messages.length);
          }
        }
        let response: ProduceResponse;
        try {
          response = await broker.produce({
            transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
            producerId: eosManager.getProducerId(),
            producerEpoch: eosManager.getProducerEpoch(),
            acks,
            timeout,
            compression,
            topicData,
          });
        } catch (error) {
          // Not written, as far as this producer knows: the same sequence numbers go out again.
          for (const { topic, partitions } of topicData) {
            for (const entry of partitions)
              eosManager.updateSequence(topic, entry.partition, -entry.messages.length);
          }
          throw error;
        }
        for (const { topic, partitions } of topicData) {
          const done = answered(topic);
          for (const { partition } of partitions) done.set(partition, []);
        }
        if (acks !== 0) {
          for (const { topicName, partitions } of response.topics) {
            const done = answered(topicName);
            for (const result of partitions) done.get(result.partition)?.push({ topicName, ...result });
          }
        }
      } finally {
        await eosManager.releaseBrokerLock(broker);
      }
    };

    await cluster.addMultipleTargetTopics([...messagesPerTopic.keys()]);
    return retrier(async (bail, retryCount, retryTime) => {
      try {
        const perLeader = await pendingPerLeader();
        // Every request of this attempt settles before any is retried.
        const settled = await Promise.allSettled(
          [...perLeader].map(([nodeId, topicData]) => sendToLeader(nodeId, topicData)),
        );
        const failed = settled.find((result) => result.status === "rejected");
        if (failed) throw failed.reason;
        return [...messagesPerTopic.keys()].flatMap((topic) => [...answered(topic).values()].flat());
      } catch (caught) {
        const error = caught as KafkajsError;
        if (error.name === "KafkaJSConnectionClosedError")
          cluster.removeBroker({ host: error.host, port: error.port });
        if (!cluster.isConnected()) {
          logger.debug(`Cluster has disconnected, reconnecting: ${error.message}`, { retryCount, retryTime });
          await cluster.connect();
          await cluster.refreshMetadata();
          throw error;
        }
        // The coordinator is still writing the previous commit's markers: nothing to look up again.
        if (error.type === "CONCURRENT_TRANSACTIONS") throw error;
        if (
          isStaleMetadata(error) ||
          error.name === "KafkaJSMetadataNotLoaded" ||
          error.name === "KafkaJSConnectionError" ||
          error.name === "KafkaJSConnectionClosedError" ||
          (error.name === "KafkaJSProtocolError" && error.retriable)
        ) {
          logger.error(`Failed to send messages: ${error.message}`, { retryCount, retryTime });
          await cluster.refreshMetadata();
          throw error;
        }
        logger.error(error.message, { retryCount, retryTime });
        if (error.retriable) throw error;
        bail(error);
        return [];
      }
    });
  };
}
