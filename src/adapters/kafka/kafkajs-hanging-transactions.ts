// Finding and aborting a producer id's transactions left open on partitions (hanging-transactions.ts
// says when that happens), through the cluster of the kafkajs producer that owns the id.

import { createRequire } from "node:module";
import {
  abortMarkersFor,
  addPartition,
  type DescribedPartition,
  decodeDescribeProducersResponse,
  decodeWriteTxnMarkersResponse,
  describeProducersApi,
  encodeDescribeProducersRequest,
  encodeWriteTxnMarkersRequest,
  type MarkerResult,
  type OpenTransaction,
  openTransactionsOf,
  type TopicPartitions,
  writeTxnMarkersApi,
} from "./hanging-transactions.js";

const require = createRequire(import.meta.url);
const { createErrorFromCode } = require("kafkajs/src/protocol/error.js") as {
  createErrorFromCode(code: number): Error & { type: string; retriable: boolean };
};
const Encoder = require("kafkajs/src/protocol/encoder.js") as new () => { buf: Buffer; offset: number };

type ProtocolRequest = {
  request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<unknown> };
  response: { decode(payload: Buffer): Promise<unknown>; parse(data: unknown): Promise<unknown> };
};
type Broker = {
  versions?: Record<number, { minVersion: number; maxVersion: number }> | null;
  connectionPool: { send(request: ProtocolRequest): Promise<unknown> };
};
/** The part of kafkajs's Cluster used here. */
export type KafkajsCluster = {
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findBroker(args: { nodeId: number }): Promise<Broker>;
};

/** A partition that could not be looked at, and why. */
export type UncheckedPartitions = { topic: string; partitions: number[]; reason: string };

export type HangingTransactionsReport = { aborted: OpenTransaction[]; unchecked: UncheckedPartitions[] };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const topicAuthorizationFailed = 29;
const attempts = 12;

function send<T>(
  broker: Broker,
  api: { apiKey: number; apiVersion: number; apiName: string },
  body: Buffer,
  decode: (payload: Buffer) => T,
): Promise<T> {
  return broker.connectionPool.send({
    request: {
      ...api,
      encode: async () => {
        const encoder = new Encoder();
        encoder.buf = body;
        encoder.offset = body.length;
        return encoder;
      },
    },
    response: { decode: async (payload) => decode(payload), parse: async (data) => data },
  }) as Promise<T>;
}

const supports = (broker: Broker, api: { apiKey: number; apiVersion: number }) => {
  const range = broker.versions?.[api.apiKey];
  return range !== undefined && range.minVersion <= api.apiVersion && api.apiVersion <= range.maxVersion;
};

/** One look at every partition of the topics, and the aborts of what is open there. */
async function abortOnce(
  cluster: KafkajsCluster,
  producerId: bigint,
  topics: readonly string[],
): Promise<HangingTransactionsReport> {
  const byLeader = new Map<number, TopicPartitions[]>();
  const leaderOf = new Map<string, number>();
  for (const topic of topics) {
    for (const { partitionId, leader } of cluster.findTopicPartitionMetadata(topic)) {
      if (leader < 0) throw createErrorFromCode(5); // LEADER_NOT_AVAILABLE: retried after a metadata refresh
      const partitions = byLeader.get(leader) ?? [];
      byLeader.set(leader, partitions);
      addPartition(partitions, topic, partitionId);
      leaderOf.set(`${topic}/${partitionId}`, leader);
    }
  }
  const unchecked: UncheckedPartitions[] = [];
  const described: DescribedPartition[] = [];
  const brokers = new Map<number, Broker>();
  await Promise.all(
    [...byLeader].map(async ([leader, partitions]) => {
      const broker = await cluster.findBroker({ nodeId: leader });
      brokers.set(leader, broker);
      if (!supports(broker, describeProducersApi)) {
        for (const { topic, partitions: numbers } of partitions)
          unchecked.push({
            topic,
            partitions: numbers,
            reason: "the broker has no DescribeProducers (Kafka 2.8 or later has)",
          });
        return;
      }
      described.push(
        ...(await send(
          broker,
          describeProducersApi,
          encodeDescribeProducersRequest(partitions),
          decodeDescribeProducersResponse,
        )),
      );
    }),
  );
  for (const { topic, partition, errorCode, errorMessage } of described) {
    if (errorCode === 0) continue;
    if (errorCode !== topicAuthorizationFailed) throw createErrorFromCode(errorCode);
    unchecked.push({
      topic,
      partitions: [partition],
      reason: errorMessage ?? "not authorized to describe its producers",
    });
  }
  const open = openTransactionsOf(producerId, described);
  const results: MarkerResult[] = [];
  const openByLeader = new Map<number, OpenTransaction[]>();
  for (const transaction of open) {
    const leader = leaderOf.get(`${transaction.topic}/${transaction.partition}`) as number;
    const transactions = openByLeader.get(leader) ?? [];
    openByLeader.set(leader, transactions);
    transactions.push(transaction);
  }
  await Promise.all(
    [...openByLeader].map(async ([leader, transactions]) => {
      const broker = brokers.get(leader) as Broker;
      const markers = abortMarkersFor(transactions);
      results.push(
        ...(await send(
          broker,
          writeTxnMarkersApi,
          encodeWriteTxnMarkersRequest(markers),
          decodeWriteTxnMarkersResponse,
        )),
      );
    }),
  );
  const failed = results.find((result) => result.errorCode !== 0);
  if (failed) {
    const error = createErrorFromCode(failed.errorCode);
    const transaction = open.find(
      (item) => item.topic === failed.topic && item.partition === failed.partition,
    );
    throw Object.assign(
      new Error(
        `a transaction of producer id ${producerId} is open on ${failed.topic}-${failed.partition} since offset ` +
          `${transaction?.firstOffset}, and aborting it failed: ${error.message}`,
      ),
      { cause: error, type: error.type, retriable: error.retriable },
    );
  }
  return { aborted: open, unchecked };
}

/** kafkajs's errors, and those of Kafka's error codes, say whether trying again may help (a moved leader, a lost connection). */
const isRetriable = (error: unknown) => (error as { retriable?: boolean } | null)?.retriable === true;

/**
 * Aborts the transactions of `producerId` open on any partition of `topics`. Call it right after the
 * producer id was initialised and before its first write: every transaction of the id is then
 * over at the coordinator, so whatever is open on a partition was left there. Partitions whose
 * producers cannot be described (an older broker, no authorization) are reported as unchecked.
 */
export async function abortHangingTransactions(
  cluster: KafkajsCluster,
  producerId: bigint,
  topics: readonly string[],
): Promise<HangingTransactionsReport> {
  await cluster.addMultipleTargetTopics([...topics]);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await abortOnce(cluster, producerId, topics);
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error)) throw error;
      await sleep(Math.min(50 * 2 ** attempt, 2000));
      await cluster.refreshMetadata().catch(() => undefined);
    }
  }
}
