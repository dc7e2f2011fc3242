import { describe, expect, it } from "vitest";
import { createSendMessages, type SendMessagesDependencies } from "./kafkajs-send.js";

type Produced = { nodeId: number; topic: string; partition: number; firstSequence: number; count: number };

/**
 * A cluster of two brokers for one topic of two partitions, leaders 1 and 2. Broker 1 fails its
 * first request quickly with NOT_LEADER while broker 2 answers slowly; after a metadata refresh,
 * partition 0 is led by broker 2.
 */
function twoBrokerCluster(options: { slowMs: number; brokerFailures?: number; markerConflicts?: number }) {
  const produced: Produced[] = [];
  const counts = { metadataRefreshes: 0, attempts: 0, addPartitions: 0 };
  let markerConflicts = options.markerConflicts ?? 0;
  let leaders: Record<number, number> = { 0: 1, 1: 2 };
  const sequences = new Map<string, number>();
  const locks = new Map<number, Promise<void>>();
  const release = new Map<number, () => void>();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let broker1Failures = options.brokerFailures ?? 1;

  const broker = (nodeId: number) => ({
    nodeId,
    async produce(request: Record<string, unknown>) {
      const topicData = request.topicData as {
        topic: string;
        partitions: { partition: number; messages: unknown[]; firstSequence: number }[];
      }[];
      if (nodeId === 1 && broker1Failures > 0) {
        broker1Failures -= 1;
        await sleep(2);
        throw Object.assign(new Error("This server is not the leader for that topic-partition"), {
          name: "KafkaJSProtocolError",
          type: "NOT_LEADER_FOR_PARTITION",
          retriable: true,
        });
      }
      await sleep(nodeId === 2 ? options.slowMs : 1);
      for (const { topic, partitions } of topicData) {
        for (const { partition, messages, firstSequence } of partitions)
          produced.push({ nodeId, topic, partition, firstSequence, count: messages.length });
      }
      return {
        topics: topicData.map(({ topic, partitions }) => ({
          topicName: topic,
          partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: "0" })),
        })),
      };
    },
  });
  const brokers = new Map([1, 2].map((nodeId) => [nodeId, broker(nodeId)]));

  const dependencies: SendMessagesDependencies = {
    logger: { debug: () => undefined, error: () => undefined },
    cluster: {
      refreshMetadataIfNecessary: async () => undefined,
      refreshMetadata: async () => {
        counts.metadataRefreshes += 1;
        leaders = { 0: 2, 1: 2 };
      },
      findTopicPartitionMetadata: () => [
        { partitionId: 0, leader: leaders[0] ?? null },
        { partitionId: 1, leader: leaders[1] ?? null },
      ],
      findLeaderForPartitions: (_topic, partitions) => {
        const result: Record<string, number[]> = {};
        for (const partition of partitions) {
          const leader = leaders[partition] as number;
          result[leader] = [...(result[leader] ?? []), partition];
        }
        return result;
      },
      findBroker: async ({ nodeId }) => brokers.get(Number(nodeId)) as ReturnType<typeof broker>,
      isConnected: () => true,
      connect: async () => undefined,
      removeBroker: () => undefined,
      addMultipleTargetTopics: async () => undefined,
    },
    partitioner: ({ message }) => (message as { partition: number }).partition,
    eosManager: {
      isTransactional: () => options.markerConflicts !== undefined,
      getTransactionalId: () => "",
      getProducerId: () => 7,
      getProducerEpoch: () => 0,
      getSequence: (topic, partition) => sequences.get(`${topic}/${partition}`) ?? 0,
      updateSequence: (topic, partition, increment) =>
        void sequences.set(
          `${topic}/${partition}`,
          (sequences.get(`${topic}/${partition}`) ?? 0) + increment,
        ),
      // One request at a time per broker, as kafkajs's idempotent producer does.
      acquireBrokerLock: async ({ nodeId }) => {
        while (locks.has(nodeId)) await locks.get(nodeId);
        locks.set(nodeId, new Promise<void>((resolve) => release.set(nodeId, resolve)));
      },
      releaseBrokerLock: async ({ nodeId }) => {
        locks.delete(nodeId);
        release.get(nodeId)?.();
      },
      // The previous commit's markers are still being written, the first `markerConflicts` times.
      addPartitionsToTransaction: async () => {
        counts.addPartitions += 1;
        if (markerConflicts > 0) {
          markerConflicts -= 1;
          throw Object.assign(new Error("There is a pending transaction"), {
            name: "KafkaJSProtocolError",
            type: "CONCURRENT_TRANSACTIONS",
            retriable: true,
          });
        }
      },
    },
    retrier: async (work) => {
      for (let retry = 0; ; retry += 1) {
        let bailed: Error | undefined;
        counts.attempts += 1;
        try {
          const result = await work(
            (error) => {
              bailed = error;
            },
            retry,
            10,
          );
          if (bailed) throw bailed;
          return result;
        } catch (error) {
          if (bailed || retry >= 5) throw error;
          await sleep(10);
        }
      }
    },
  };
  return { send: createSendMessages(dependencies), produced, counts };
}

const messages = (partition: number, count: number) =>
  Array.from({ length: count }, (_, index) => ({ partition, value: `p${partition}-${index}` }));

describe("sending a batch through a leader's failure", () => {
  it("writes each partition once when one leader fails while another's request is in flight", async () => {
    const { send, produced } = twoBrokerCluster({ slowMs: 40 });
    const results = await send({
      acks: -1,
      topicMessages: [{ topic: "out", messages: [...messages(0, 3), ...messages(1, 4)] }],
    });
    // Partition 1 went out once, to broker 2; partition 0 after its leader moved to broker 2, with
    // the sequence number of its first, failed, attempt.
    expect(produced.sort((a, b) => a.partition - b.partition)).toEqual([
      { nodeId: 2, topic: "out", partition: 0, firstSequence: 0, count: 3 },
      { nodeId: 2, topic: "out", partition: 1, firstSequence: 0, count: 4 },
    ]);
    expect(results.map((result) => [result.topicName, result.partition]).sort()).toEqual([
      ["out", 0],
      ["out", 1],
    ]);
  });

  it("sends a topic named twice in one batch as one topic, every message once", async () => {
    const { send, produced } = twoBrokerCluster({ slowMs: 5 });
    await send({
      acks: -1,
      topicMessages: [
        { topic: "out", messages: messages(1, 2) },
        { topic: "out", messages: messages(1, 3) },
      ],
    });
    expect(produced).toEqual([{ nodeId: 2, topic: "out", partition: 1, firstSequence: 0, count: 5 }]);
  });
});

describe("adding partitions right after a commit", () => {
  it("waits out the previous commit's markers without a metadata refresh or a retry of the batch", async () => {
    const { send, produced, counts } = twoBrokerCluster({ slowMs: 1, brokerFailures: 0, markerConflicts: 3 });
    await send({ acks: -1, topicMessages: [{ topic: "out", messages: messages(1, 2) }] });
    expect(counts).toEqual({ metadataRefreshes: 0, attempts: 1, addPartitions: 4 });
    expect(produced).toEqual([{ nodeId: 2, topic: "out", partition: 1, firstSequence: 0, count: 2 }]);
  });

  it("leaves a transaction that stays busy to the client's retries", async () => {
    const { send, counts } = twoBrokerCluster({ slowMs: 1, brokerFailures: 0, markerConflicts: 1_000 });
    await expect(
      send({ acks: -1, topicMessages: [{ topic: "out", messages: messages(1, 2) }] }),
    ).rejects.toThrow("There is a pending transaction");
    expect(counts.attempts).toBe(6);
    expect(counts.metadataRefreshes).toBe(0);
  });
});
