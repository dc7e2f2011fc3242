// INTERIM — the one module of the bench that uses the Kafka client directly, not the port.
// The latency generator stamps every event with its intended send time (the record timestamp, which the
// direct rows' output-timestamp latency reads back), and the port's records carry no timestamp yet. It
// also needs its requests pipelined: the port's idempotent producer has one request in flight, which at
// 20,000 events/s queues the generator itself (direct p50 over 100 ms instead of a few). This producer
// keeps the generator's settings: not idempotent, acks from the leader only. It has the shape of the
// port's Producer, so it goes once the port's OutgoingRecord takes a timestamp.

// Must come first: the client loads with the project's replacements of some of its steps.
import "../../src/adapters/kafka/kafkajs-patches.js";
import { Kafka, logLevel } from "kafkajs";
import type { OutgoingRecord } from "../../src/adapters/kafka/index.js";

/** A record with its partition and its timestamp (epoch ms, as decimal text) chosen by the sender. */
export type TimestampedRecord = OutgoingRecord & { partition: number; timestamp: string };

export interface TimestampedProducer {
  /** One request per topic; concurrent sends are pipelined on one connection. */
  send(records: { topic: string; records: TimestampedRecord[] }[]): Promise<void>;
  close(): Promise<void>;
}

export async function createTimestampedProducer(brokers: string[]): Promise<TimestampedProducer> {
  const kafka = new Kafka({
    clientId: "stedi-bench",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 8 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return {
    async send(records) {
      await Promise.all(
        records.map(({ topic, records: messages }) => producer.send({ topic, messages, acks: 1 })),
      );
    },
    async close() {
      await producer.disconnect().catch(() => undefined);
    },
  };
}
