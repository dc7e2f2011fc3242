// A transaction left open on a partition after its coordinator ended it, on the real broker: the
// hazard (a writer's next commit there makes the abandoned records visible) and the guard (a writer
// told the topics it writes aborts such a transaction of its id when it starts).
//
// The broker leaves a transaction unmarked when a single node ends it during its own controlled
// shutdown, which no test can time. Here the same state is made on purpose: a producer of the id
// writes a transactional batch its coordinator never hears of, which the broker accepts only while
// partition verification is off.

import { withTransactionalSession } from "../src/adapters/kafka/kafkajs-patches.js";
import { randomUUID } from "node:crypto";
import kafkajs from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { createKafkaPort } from "../src/adapters/kafka/index.js";
import type { KafkajsCluster } from "../src/adapters/kafka/kafkajs-hanging-transactions.js";
import { brokers, freshTopic, readAll } from "./support/kafka.js";

const kafka = new kafkajs.Kafka({
  brokers,
  clientId: "stedi-hanging-tests",
  logLevel: kafkajs.logLevel.NOTHING,
});
const stedi = createKafkaPort({ brokers, connectTimeoutMs: 10_000 }, "stedi-hanging-tests");
afterAll(() => stedi.close());

type RawBroker = {
  produce(request: {
    topicData: {
      topic: string;
      partitions: { partition: number; firstSequence: number; messages: { key: string; value: string }[] }[];
    }[];
    transactionalId: string;
    producerId: string;
    producerEpoch: number;
    acks: number;
  }): Promise<unknown>;
};

async function setPartitionVerification(enabled: boolean): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers: nodes } = await admin.describeCluster();
    await admin.alterConfigs({
      validateOnly: false,
      resources: nodes.map(({ nodeId }) => ({
        type: kafkajs.ConfigResourceTypes.BROKER,
        name: String(nodeId),
        configEntries: [{ name: "transaction.partition.verification.enable", value: String(enabled) }],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Writes `values` to the partition in a transaction of `transactionalId` that only the partition knows of. */
async function leaveTransactionOpen(
  transactionalId: string,
  topic: string,
  partition: number,
  values: string[],
) {
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await setPartitionVerification(false);
  try {
    const opening = withTransactionalSession(() => producer.transaction());
    await opening.result; // the producer id is initialised; the coordinator has no partition of it
    const session = opening.session;
    if (session === undefined) throw new Error("no transactional session was observed");
    const cluster = session.cluster as KafkajsCluster;
    await cluster.addMultipleTargetTopics([topic]);
    const leader = cluster.findTopicPartitionMetadata(topic).find((entry) => entry.partitionId === partition);
    const broker = (await cluster.findBroker({ nodeId: leader?.leader ?? -1 })) as unknown as RawBroker;
    // The broker applies the changed config a moment later: until then it verifies, and refuses.
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await broker.produce({
          transactionalId,
          producerId: session.producerId().toString(),
          producerEpoch: session.producerEpoch(),
          acks: -1,
          topicData: [
            {
              topic,
              partitions: [
                { partition, firstSequence: 0, messages: values.map((value) => ({ key: value, value })) },
              ],
            },
          ],
        });
        break;
      } catch (error) {
        if ((error as { type?: string }).type !== "INVALID_TXN_STATE" || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await setPartitionVerification(true);
    await producer.disconnect();
  }
}

/**
 * The committed values of a partition once the last commit's marker is written: Kafka writes it
 * after the commit returns, and until then read_committed readers stop short of the transaction.
 */
async function committedValues(topic: string, partition: number, lastValue: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const values = (await readAll(topic))
      .filter((record) => record.partition === partition)
      .map((record) => record.value);
    if (values.includes(lastValue) || Date.now() > deadline) return values;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a transaction left open on a partition", () => {
  it("becomes visible with the next commit of its producer id, unless the writer is told what it writes", async () => {
    const topic = await freshTopic("hanging", 2);
    const abandoned = ["abandoned-1", "abandoned-2", "abandoned-3"];

    // The hazard: a writer that does not look commits on the partition, and the abandoned records
    // come with its commit.
    const unguardedId = `hanging-unguarded-${randomUUID().slice(0, 8)}`;
    await leaveTransactionOpen(unguardedId, topic, 0, abandoned);
    expect((await readAll(topic)).length).toBe(0);
    const unguarded = await stedi.createTransactionalWriter(unguardedId);
    expect(unguarded.abortedAtStart).toEqual([]);
    await unguarded.commit([{ topic, records: [{ key: "k", value: "committed-unguarded", partition: 0 }] }]);
    await unguarded.close();
    expect(await committedValues(topic, 0, "committed-unguarded")).toEqual([
      ...abandoned,
      "committed-unguarded",
    ]);

    // The guard: the writer finds its id's open transaction on partition 1, aborts it, and its own
    // commit there shows only its own record.
    const guardedId = `hanging-guarded-${randomUUID().slice(0, 8)}`;
    await leaveTransactionOpen(guardedId, topic, 1, abandoned);
    const firstOffset = (await stedi.offsetRanges(topic)).get(1)?.low ?? -1;
    const guarded = await stedi.createTransactionalWriter(guardedId, {
      writesTo: [topic],
      commitsOffsets: true,
    });
    expect(guarded.abortedAtStart).toEqual([{ topic, partition: 1, firstOffset: String(firstOffset) }]);
    expect(guarded.uncheckedAtStart).toEqual([]);
    await guarded.commit([{ topic, records: [{ key: "k", value: "committed-guarded", partition: 1 }] }]);
    await guarded.close();
    expect(await committedValues(topic, 1, "committed-guarded")).toEqual(["committed-guarded"]);

    // A writer that finds nothing open aborts nothing.
    const again = await stedi.createTransactionalWriter(guardedId, {
      writesTo: [topic],
      commitsOffsets: true,
    });
    expect(again.abortedAtStart).toEqual([]);
    await again.close();
  });
});
