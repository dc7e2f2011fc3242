// The in-memory Kafka cluster: the port's conformance suite, and what only it offers to unit tests
// (delivery control, injected transaction failures, crashes, timeouts).

import { describe, expect, it } from "vitest";
import type {
  BatchContext,
  ConsumedBatch,
  GroupConsumerOptions,
  KafkaPort,
} from "../../src/adapters/kafka/index.js";
import { StediError } from "../../src/errors.js";
import { describeKafkaPortConformance } from "../support/kafka-conformance.js";
import {
  assignPartitions,
  createMemoryKafka,
  type MemoryKafka,
  type MemoryKafkaOptions,
  type TransactionStep,
} from "../support/memory-kafka.js";

describeKafkaPortConformance(
  "in-memory cluster",
  async () => ({ port: createMemoryKafka().createPort(), cleanup: async () => undefined }),
  { waitMs: 2000 },
);

// One entry per fetch: every batch boundary, including fetches that start at a marker.
describeKafkaPortConformance(
  "in-memory cluster, one entry per fetch, range assignment",
  async () => ({
    port: createMemoryKafka({ maxFetchBytes: 1, assignment: "range" }).createPort(),
    cleanup: async () => undefined,
  }),
  { waitMs: 2000 },
);

const to = (topic: string, values: string[], partition = 0) => [
  { topic, records: values.map((value) => ({ key: null, value, partition })) },
];

async function setUp(options: MemoryKafkaOptions = {}, partitions = 1) {
  const memory = createMemoryKafka(options);
  const port = memory.createPort("test");
  await port.ensureTopics([{ topic: "in", numPartitions: partitions }, "out"]);
  return { memory, port };
}

const readValues = async (port: KafkaPort, topic: string) => {
  const values: (string | undefined)[] = [];
  await port.readToEnd(topic, (batch) => {
    for (const record of batch.records) values.push(record.value?.toString());
  });
  return values;
};

/** Whether a promise settles within a few turns of the event loop. */
const settles = async (promise: Promise<unknown>) => {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

const consumerOptions = (overrides: Partial<GroupConsumerOptions> = {}): GroupConsumerOptions => ({
  groupId: "g",
  topics: ["in"],
  fromBeginning: true,
  autoCommit: false,
  eachBatch: async (batch) => batch.records.at(-1)?.offset,
  onFailure: () => undefined,
  ...overrides,
});

describe("memory Kafka: injected transaction failures", () => {
  const offset = { groupId: "g", topic: "in", partition: 0, nextOffset: "1" };

  it.each<[TransactionStep, { visible: string[]; committed: string | undefined; log: string[] }]>([
    ["beforeSend", { visible: [], committed: undefined, log: [] }],
    ["afterSend", { visible: [], committed: undefined, log: ["record:aborted", "abort:aborted"] }],
    ["afterSendOffset", { visible: [], committed: undefined, log: ["record:aborted", "abort:aborted"] }],
    ["beforeCommit", { visible: [], committed: undefined, log: ["record:aborted", "abort:aborted"] }],
    // The commit is durable; only its answer is lost.
    ["afterCommit", { visible: ["v"], committed: "1", log: ["record:committed", "commit:committed"] }],
  ])("%s", async (step, expected) => {
    const { memory, port } = await setUp();
    const writer = await port.createTransactionalWriter("w");
    memory.failTransaction("w", step);
    await expect(writer.commit(to("out", ["v"]), offset)).rejects.toMatchObject({ code: "unavailable" });
    expect(await readValues(port, "out")).toEqual(expected.visible);
    expect((await port.committedOffsets("g", "in")).get(0)).toBe(expected.committed);
    expect(memory.entries("out", 0).map((entry) => `${entry.kind}:${entry.state}`)).toEqual(expected.log);

    // Once only: the writer goes on.
    await writer.commit(to("out", ["next"]));
    expect(await readValues(port, "out")).toEqual([...expected.visible, "next"]);
  });

  it("fails as often as told, with the error given", async () => {
    const { memory, port } = await setUp();
    const writer = await port.createTransactionalWriter("w");
    memory.failTransaction("w", "beforeCommit", { error: "rejected", times: 2 });
    await expect(writer.commit(to("out", ["a"]))).rejects.toMatchObject({ code: "rejected" });
    await expect(writer.commit(to("out", ["b"]))).rejects.toMatchObject({ code: "rejected" });
    const own = new Error("disk full");
    memory.failTransaction("w", "afterSend", { error: own });
    await expect(writer.commit(to("out", ["c"]))).rejects.toBe(own);
    await writer.commit(to("out", ["d"]));
    expect(await readValues(port, "out")).toEqual(["d"]);
  });

  it("leaves a transaction open when begin-send-commit is driven by hand and commit fails before", async () => {
    const { memory, port } = await setUp();
    const writer = await port.createTransactionalWriter("w");
    memory.failTransaction("w", "beforeCommit");
    const txn = await writer.begin();
    await txn.send(to("out", ["v"]));
    await expect(txn.commit()).rejects.toBeInstanceOf(StediError);
    // Still open: read_committed readers end before it.
    expect((await port.offsetRanges("out")).get(0)).toEqual({ low: 0, high: 0 });
    expect(memory.entries("out", 0)[0]?.state).toBe("open");
    await txn.commit();
    expect(await readValues(port, "out")).toEqual(["v"]);
  });
});

describe("memory Kafka: crashes and timeouts", () => {
  it("keeps a crashed writer's transaction open until a new owner of its id fences it", async () => {
    const { memory, port } = await setUp();
    const crashed = await port.createTransactionalWriter("w");
    const txn = await crashed.begin();
    await txn.send(to("out", ["lost"]));
    memory.crash(crashed);
    expect(await settles(txn.commit())).toBe(false);
    await expect(crashed.close()).resolves.toBeUndefined();

    // A plain record behind the open transaction stays invisible to read_committed readers.
    const producer = await port.createProducer();
    await producer.send(to("out", ["behind"]));
    const seen: string[] = [];
    const consumer = await port.consume(
      consumerOptions({
        topics: ["out"],
        eachBatch: async (batch) => {
          for (const record of batch.records) seen.push(String(record.value));
          return batch.records.at(-1)?.offset;
        },
      }),
    );
    await memory.runUntilIdle();
    expect(seen).toEqual([]);

    const successor = await port.createTransactionalWriter("w");
    await successor.commit(to("out", ["kept"]));
    await memory.runUntilIdle();
    expect(seen).toEqual(["behind", "kept"]);
    expect(memory.entries("out", 0).map((entry) => entry.kind)).toEqual([
      "record",
      "record",
      "abort",
      "record",
      "commit",
    ]);
    await consumer.close();
  });

  it("crashes every client of a port at once: a killed process", async () => {
    const memory = createMemoryKafka();
    const survivor = memory.createPort("survivor");
    const doomed = memory.createPort("doomed");
    await survivor.ensureTopics(["in", "out"]);
    const producer = await doomed.createProducer();
    const writer = await doomed.createTransactionalWriter("w");
    memory.crash(doomed);
    expect(await settles(producer.send(to("out", ["x"])))).toBe(false);
    expect(await settles(writer.begin())).toBe(false);
    expect(await settles(doomed.partitionCount("in"))).toBe(false);
    expect(await survivor.partitionCount("in")).toBe(1);
  });

  it("keeps a closed writer's open transaction from readers until the transaction times out", async () => {
    const { memory, port } = await setUp();
    const writer = await port.createTransactionalWriter("w");
    const txn = await writer.begin();
    await txn.send(to("out", ["v"]));
    await writer.close();
    // The end readers can reach stays before the open transaction.
    expect((await port.offsetRanges("out")).get(0)).toEqual({ low: 0, high: 0 });
    expect(await readValues(port, "out")).toEqual([]);
    memory.expireTransactions("w");
    expect((await port.offsetRanges("out")).get(0)).toEqual({ low: 0, high: 2 });
    expect(await readValues(port, "out")).toEqual([]);
    expect(memory.entries("out", 0).map((entry) => entry.kind)).toEqual(["record", "abort"]);
  });

  it("fences the owner of a transaction that timed out", async () => {
    const { memory, port } = await setUp();
    const writer = await port.createTransactionalWriter("w");
    const txn = await writer.begin();
    await txn.send(to("out", ["v"]));
    memory.expireTransactions();
    await expect(txn.commit()).rejects.toMatchObject({ code: "fenced" });
  });

  it("leaves a crashed consumer's partitions unread until its session expires", async () => {
    const { memory, port } = await setUp({}, 2);
    const handled: [string, number, string][] = [];
    const member = (name: string) =>
      port.consume(
        consumerOptions({
          eachBatch: async (batch) => {
            for (const record of batch.records) handled.push([name, batch.partition, String(record.value)]);
            return batch.records.at(-1)?.offset;
          },
        }),
      );
    const first = await member("first");
    const second = await member("second");
    await memory.runUntilIdle();
    const shares = [...memory.assignment("g").values()].map((topics) => topics.get("in"));
    expect(shares).toEqual([[0], [1]]);

    memory.crash(first);
    const producer = await port.createProducer();
    await producer.send([...to("in", ["a"], 0), ...to("in", ["b"], 1)]);
    await memory.runUntilIdle();
    expect(handled).toEqual([["second", 1, "b"]]);

    memory.expireSessions();
    await memory.runUntilIdle();
    expect(handled).toEqual([
      ["second", 1, "b"],
      ["second", 0, "a"],
      // A rebalance starts every partition over from the committed offsets: none here.
      ["second", 1, "b"],
    ]);
    await second.close();
  });
});

describe("memory Kafka: delivery", () => {
  it("delivers one fetch per partition per deliver() in manual mode", async () => {
    const { memory, port } = await setUp({ delivery: "manual", maxFetchBytes: 1 }, 2);
    const producer = await port.createProducer();
    await producer.send([...to("in", ["a", "b"], 0), ...to("in", ["c"], 1)]);
    const seen: string[] = [];
    const assigned: Map<string, number[]>[] = [];
    const consumer = await port.consume(
      consumerOptions({
        eachBatch: async (batch) => {
          for (const record of batch.records) seen.push(String(record.value));
          return batch.records.at(-1)?.offset;
        },
        onAssigned: (assignment) => assigned.push(assignment),
      }),
    );
    expect(seen).toEqual([]);
    const first = await memory.deliver();
    expect(assigned).toEqual([new Map([["in", [0, 1]]])]);
    expect(first.map((delivery) => [delivery.partition, delivery.fromOffset, delivery.records])).toEqual([
      [0, 0, 1],
      [1, 0, 1],
    ]);
    expect(seen).toEqual(["a", "c"]);
    const second = await memory.deliver({ partition: 0 });
    expect(second.map((delivery) => [delivery.partition, delivery.fromOffset])).toEqual([[0, 1]]);
    expect(seen).toEqual(["a", "c", "b"]);
    await memory.runUntilIdle();
    expect(await memory.deliver()).toEqual([]);
    await consumer.close();
  });

  it("reports a handler that never moves on instead of spinning forever", async () => {
    const { memory, port } = await setUp();
    const producer = await port.createProducer();
    await producer.send(to("in", ["x"]));
    const consumer = await port.consume(consumerOptions({ eachBatch: async () => undefined }));
    await expect(memory.runUntilIdle({ maxFetches: 50 })).rejects.toThrow(/not idle after 50 fetches/);
    await consumer.close();
  });

  it("hands handlers at most `concurrency` batches at once", async () => {
    const { memory, port } = await setUp({}, 4);
    const producer = await port.createProducer();
    await producer.send([0, 1, 2, 3].flatMap((partition) => to("in", ["x"], partition)));
    let running = 0;
    let most = 0;
    const consumer = await port.consume(
      consumerOptions({
        concurrency: 2,
        eachBatch: async (batch) => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
          return batch.records.at(-1)?.offset;
        },
      }),
    );
    await memory.runUntilIdle();
    expect(most).toBe(2);
    await consumer.close();
  });

  it("fails the consumer when its handler throws, or when told to", async () => {
    const { memory, port } = await setUp();
    const failures: Error[] = [];
    const contexts: BatchContext[] = [];
    await port.consume(
      consumerOptions({
        eachBatch: async (_batch: ConsumedBatch, context) => {
          contexts.push(context);
          throw new Error("bug");
        },
        onFailure: (error) => failures.push(error),
      }),
    );
    const producer = await port.createProducer();
    await producer.send(to("in", ["x"]));
    await memory.runUntilIdle();
    expect(failures).toMatchObject([{ code: "internal", message: "consumer failed: bug" }]);
    expect(contexts[0]?.isCurrent()).toBe(false);

    const other = await port.consume(
      consumerOptions({ groupId: "h", onFailure: (error) => failures.push(error) }),
    );
    memory.failConsumer(other);
    await memory.runUntilIdle();
    expect(failures[1]).toMatchObject({ code: "unavailable" });
  });

  it("starts a group without committed offsets at the read_committed end unless fromBeginning", async () => {
    const { memory, port } = await setUp();
    const producer = await port.createProducer();
    await producer.send(to("in", ["old"]));
    const writer = await port.createTransactionalWriter("w");
    const open = await writer.begin();
    await open.send(to("in", ["pending"]));
    const seen: string[] = [];
    const consumer = await port.consume(
      consumerOptions({
        fromBeginning: false,
        eachBatch: async (batch) => {
          for (const record of batch.records) seen.push(String(record.value));
          return batch.records.at(-1)?.offset;
        },
      }),
    );
    await memory.runUntilIdle();
    await open.commit();
    await memory.runUntilIdle();
    expect(seen).toEqual(["pending"]);
    await consumer.close();
  });
});

describe("memory Kafka: topics and logs", () => {
  it("keeps topic configs and shows markers in the log", async () => {
    const memory: MemoryKafka = createMemoryKafka({ now: () => 1_700_000_000_000 });
    const port = memory.createPort();
    await port.ensureTopics([
      { topic: "changelog", numPartitions: 3, configs: { "cleanup.policy": "compact" } },
    ]);
    expect(memory.topic("changelog")).toEqual({ partitions: 3, configs: { "cleanup.policy": "compact" } });
    expect(memory.topic("absent")).toBeUndefined();
    await expect(port.offsetRanges("absent")).rejects.toMatchObject({ code: "unavailable" });
    await expect(port.consume(consumerOptions({ topics: ["absent"] }))).rejects.toMatchObject({
      code: "unavailable",
    });

    const writer = await port.createTransactionalWriter("w");
    await writer.commit([
      { topic: "changelog", records: [{ key: "k", value: "v", partition: 1, headers: { h: "x" } }] },
    ]);
    expect(memory.entries("changelog", 1)).toEqual([
      { offset: 0, kind: "record", transactionalId: "w", state: "committed", key: "k", value: "v" },
      { offset: 1, kind: "commit", transactionalId: "w", state: "committed", key: null, value: null },
    ]);
    const batches: ConsumedBatch[] = [];
    await port.readToEnd("changelog", (batch) => batches.push(batch));
    expect(batches).toEqual([
      {
        topic: "changelog",
        partition: 1,
        records: [
          {
            key: Buffer.from("k"),
            value: Buffer.from("v"),
            headers: { h: Buffer.from("x") },
            offset: "0",
            timestamp: "1700000000000",
          },
        ],
        nextOffset: 2,
        highWatermark: 2,
      },
    ]);
  });

  it("spreads records without a key round-robin", async () => {
    const { port } = await setUp({}, 3);
    const producer = await port.createProducer();
    await producer.send([
      { topic: "in", records: ["a", "b", "c", "d"].map((value) => ({ key: null, value })) },
    ]);
    const ranges = await port.offsetRanges("in");
    expect([...ranges.values()].map((range) => range.high)).toEqual([2, 1, 1]);
  });

  it("refuses a partition the topic does not have, writing nothing", async () => {
    const { port } = await setUp();
    const producer = await port.createProducer();
    await expect(producer.send([...to("in", ["ok"]), ...to("in", ["bad"], 5)])).rejects.toMatchObject({
      code: "rejected",
    });
    expect((await port.offsetRanges("in")).get(0)?.high).toBe(0);
  });
});

describe("assignPartitions", () => {
  const members = [
    { id: "m-2", topics: ["t"] },
    { id: "m-1", topics: ["t", "u"] },
  ];
  const partitionsOf = (topic: string) => (topic === "t" ? 5 : 2);

  it.each([
    [
      "roundRobin" as const,
      {
        "m-1": { t: [0, 2, 4], u: [0, 1] },
        "m-2": { t: [1, 3] },
      },
    ],
    [
      "range" as const,
      {
        "m-1": { t: [0, 1, 2], u: [0, 1] },
        "m-2": { t: [3, 4] },
      },
    ],
  ])("%s", (strategy, expected) => {
    const plan = assignPartitions(members, partitionsOf, strategy);
    expect(Object.fromEntries([...plan].map(([id, topics]) => [id, Object.fromEntries(topics)]))).toEqual(
      expected,
    );
  });
});
