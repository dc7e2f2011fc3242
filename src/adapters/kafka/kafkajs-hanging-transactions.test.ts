// The steps around the two requests, on a stand-in for kafkajs's cluster whose brokers answer with
// decoded responses (the bytes are hanging-transactions.test.ts's; the real broker's answers are
// test/hanging-transactions.test.ts's).

import { describe, expect, it } from "vitest";
import type { DescribedPartition, MarkerResult } from "./hanging-transactions.js";
import { abortHangingTransactions, type KafkajsCluster } from "./kafkajs-hanging-transactions.js";

type Sent = { apiName: string; leader: number; body: Buffer };

function standIn(options: {
  leaders: Record<string, number[]>;
  describe: (leader: number) => DescribedPartition[];
  markers?: (leader: number) => MarkerResult[];
  versions?: Record<number, { minVersion: number; maxVersion: number }>;
  leaderlessLookups?: number;
}) {
  const sent: Sent[] = [];
  let leaderless = options.leaderlessLookups ?? 0;
  let refreshes = 0;
  const cluster: KafkajsCluster = {
    addMultipleTargetTopics: async () => undefined,
    refreshMetadata: async () => {
      refreshes += 1;
    },
    findTopicPartitionMetadata: (topic) => {
      const leaders = options.leaders[topic] ?? [];
      const answer = leaders.map((leader, partitionId) => ({
        partitionId,
        leader: leaderless > 0 ? -1 : leader,
      }));
      if (leaderless > 0) leaderless -= 1;
      return answer;
    },
    findBroker: async ({ nodeId }) => ({
      versions: options.versions ?? {
        61: { minVersion: 0, maxVersion: 0 },
        27: { minVersion: 1, maxVersion: 2 },
      },
      connectionPool: {
        send: async ({ request }) => {
          sent.push({
            apiName: request.apiName,
            leader: nodeId,
            body: ((await request.encode()) as { buf: Buffer }).buf,
          });
          return request.apiName === "DescribeProducers"
            ? options.describe(nodeId)
            : (options.markers?.(nodeId) ?? []);
        },
      },
    }),
  };
  return { cluster, sent, refreshes: () => refreshes };
}

const producer = (producerId: bigint, start: bigint) => ({
  producerId,
  producerEpoch: 3,
  coordinatorEpoch: 2,
  currentTxnStartOffset: start,
});

describe("abortHangingTransactions", () => {
  it("asks each partition's leader, and aborts only the producer's own open transactions, at their leaders", async () => {
    const { cluster, sent } = standIn({
      leaders: { out: [1, 2], log: [2] },
      describe: (leader) =>
        leader === 1
          ? [
              {
                topic: "out",
                partition: 0,
                errorCode: 0,
                errorMessage: null,
                producers: [producer(7n, 40n), producer(8n, 5n)],
              },
            ]
          : [
              {
                topic: "out",
                partition: 1,
                errorCode: 0,
                errorMessage: null,
                producers: [producer(7n, -1n)],
              },
              {
                topic: "log",
                partition: 0,
                errorCode: 0,
                errorMessage: null,
                producers: [producer(7n, 12n)],
              },
            ],
      markers: (leader) =>
        leader === 1
          ? [{ topic: "out", partition: 0, errorCode: 0 }]
          : [{ topic: "log", partition: 0, errorCode: 0 }],
    });
    const report = await abortHangingTransactions(cluster, 7n, ["out", "log"]);
    expect(report.unchecked).toEqual([]);
    expect(
      report.aborted.map(({ topic, partition, firstOffset }) => [topic, partition, firstOffset]),
    ).toEqual([
      ["out", 0, 40n],
      ["log", 0, 12n],
    ]);
    const markers = sent.filter((request) => request.apiName === "WriteTxnMarkers");
    expect(markers.map((request) => request.leader).sort()).toEqual([1, 2]);
    expect(
      sent
        .filter((request) => request.apiName === "DescribeProducers")
        .map((request) => request.leader)
        .sort(),
    ).toEqual([1, 2]);
  });

  it("sends no marker when nothing of the producer is open", async () => {
    const { cluster, sent } = standIn({
      leaders: { out: [1] },
      describe: () => [
        { topic: "out", partition: 0, errorCode: 0, errorMessage: null, producers: [producer(8n, 3n)] },
      ],
    });
    expect(await abortHangingTransactions(cluster, 7n, ["out"])).toEqual({ aborted: [], unchecked: [] });
    expect(sent.map((request) => request.apiName)).toEqual(["DescribeProducers"]);
  });

  it("reports what it may not describe, or what a broker cannot describe, as unchecked", async () => {
    const denied = standIn({
      leaders: { out: [1, 1] },
      describe: () => [
        {
          topic: "out",
          partition: 0,
          errorCode: 29,
          errorMessage: "Topic authorization failed.",
          producers: [],
        },
        { topic: "out", partition: 1, errorCode: 0, errorMessage: null, producers: [] },
      ],
    });
    expect((await abortHangingTransactions(denied.cluster, 7n, ["out"])).unchecked).toEqual([
      { topic: "out", partitions: [0], reason: "Topic authorization failed." },
    ]);
    const old = standIn({ leaders: { out: [1] }, describe: () => [], versions: {} });
    const report = await abortHangingTransactions(old.cluster, 7n, ["out"]);
    expect(report.unchecked).toEqual([
      {
        topic: "out",
        partitions: [0],
        reason: "the broker has no DescribeProducers (Kafka 2.8 or later has)",
      },
    ]);
    expect(old.sent).toEqual([]);
  });

  it("waits for leaders, refreshing the metadata", async () => {
    const { cluster, refreshes } = standIn({
      leaders: { out: [1] },
      leaderlessLookups: 2,
      describe: () => [{ topic: "out", partition: 0, errorCode: 0, errorMessage: null, producers: [] }],
    });
    expect(await abortHangingTransactions(cluster, 7n, ["out"])).toEqual({ aborted: [], unchecked: [] });
    expect(refreshes()).toBe(2);
  });

  it("fails with the partition and offset when the abort is refused", async () => {
    const { cluster } = standIn({
      leaders: { out: [1] },
      describe: () => [
        { topic: "out", partition: 0, errorCode: 0, errorMessage: null, producers: [producer(7n, 1453n)] },
      ],
      markers: () => [{ topic: "out", partition: 0, errorCode: 31 }],
    });
    await expect(abortHangingTransactions(cluster, 7n, ["out"])).rejects.toThrow(
      /producer id 7 is open on out-0 since offset 1453, and aborting it failed: .*[Cc]luster authorization/,
    );
  });
});
