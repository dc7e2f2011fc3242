// The demo's status counts on the in-memory cluster: committed records since the counter started,
// not offsets (transaction markers and aborted records take offsets too).

import { describe, expect, it } from "vitest";
import type { KafkaPort } from "../../src/adapters/kafka/index.js";
import { createRecordCounter } from "../../src/pipelines/demo-record-counter.js";
import { createMemoryKafka, type MemoryKafkaOptions } from "../support/memory-kafka.js";

const stages = [
  { name: "simulate → events", topic: "events" },
  { name: "join → graph", topic: "graph" },
  { name: "dead letters", topic: "dlq" },
];

const values = (topic: string, count: number, prefix = "v") => [
  { topic, records: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `${prefix}${i}` })) },
];

async function setUp(options: MemoryKafkaOptions = {}) {
  const memory = createMemoryKafka(options);
  const port = memory.createPort("demo");
  await port.ensureTopics([{ topic: "events", numPartitions: 2 }, "graph", "dlq"]);
  return { memory, port };
}

const endOffsets = async (port: KafkaPort, topic: string) =>
  [...(await port.offsetRanges(topic)).values()].reduce((sum, range) => sum + range.high, 0);

describe("the demo's record counter", () => {
  it("counts committed records written after it started, not offsets", async () => {
    const { port } = await setUp();
    const producer = await port.createProducer();
    await producer.send(values("events", 3, "before"));
    const writer = await port.createTransactionalWriter("join-0");
    await writer.commit(values("graph", 1, "before"));

    const failures: Error[] = [];
    const counter = await createRecordCounter(port, stages, {
      onFailure: (error) => failures.push(error),
    });
    expect(counter.counts()).toEqual({ "simulate → events": 0, "join → graph": 0, "dead letters": 0 });

    await producer.send(values("events", 4));
    // One output per event, each in its own transaction: a record and a marker per transaction.
    for (let i = 0; i < 4; i += 1) await writer.commit(values("graph", 1, `out${i}`));
    const aborted = await writer.begin();
    await aborted.send(values("graph", 2, "aborted"));
    await aborted.abort();

    expect(await counter.settle(2000)).toBe(true);
    expect(counter.counts()).toEqual({ "simulate → events": 4, "join → graph": 4, "dead letters": 0 });
    // The offsets the status line used to count: 2 before, then 4 × 2, then 2 aborted records and a marker.
    expect(await endOffsets(port, "graph")).toBe(13);
    expect(failures).toEqual([]);
    await counter.close();
    await writer.close();
    await producer.close();
  });

  it("counts a topic shared by two stages for each", async () => {
    const { port } = await setUp();
    const counter = await createRecordCounter(
      port,
      [
        { name: "a", topic: "graph" },
        { name: "b", topic: "graph" },
      ],
      { onFailure: () => undefined },
    );
    const producer = await port.createProducer();
    await producer.send(values("graph", 2));
    expect(await counter.settle(2000)).toBe(true);
    expect(counter.counts()).toEqual({ a: 2, b: 2 });
    await counter.close();
    await producer.close();
  });

  it("says when it has not read to the end in time", async () => {
    // Manual delivery: nothing is fetched unless the test delivers.
    const { memory, port } = await setUp({ delivery: "manual" });
    const producer = await port.createProducer();
    await producer.send(values("dlq", 3, "before"));
    const counter = await createRecordCounter(port, stages, { onFailure: () => undefined });
    // Written before the counter's consumer has fetched anything: counted all the same.
    await producer.send(values("dlq", 2));
    expect(await counter.settle(150)).toBe(false);
    await memory.runUntilIdle();
    expect(await counter.settle(150)).toBe(true);
    expect(counter.counts()).toEqual({ "simulate → events": 0, "join → graph": 0, "dead letters": 2 });
    await counter.close();
    await producer.close();
  });
});
