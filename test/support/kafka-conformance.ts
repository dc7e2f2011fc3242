// The KafkaPort's contract as tests, written once and run against every implementation: the
// in-memory cluster in the unit tests, kafkajs on a real broker in the integration tests.

import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type {
  BatchContext,
  ConsumedBatch,
  GroupConsumer,
  GroupConsumerOptions,
  KafkaPort,
  Transaction,
} from "../../src/adapters/kafka/index.js";
import { partitionForKey } from "../../src/core/join/murmur2.js";

export type PortUnderTest = { port: KafkaPort; cleanup(): Promise<void> };

export type ConformanceOptions = {
  /** How long a condition may take to come true: a broker's group joins take seconds. */
  waitMs?: number;
};

type Seen = { topic: string; partition: number; offset: string; value: string | null };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (data: Buffer | null) => (data === null ? null : data.toString("utf8"));

/**
 * Registers the conformance tests of a KafkaPort implementation. `makePort` runs before each test;
 * every test uses topics and groups of its own, and closes the clients it made before `cleanup`.
 */
export function describeKafkaPortConformance(
  name: string,
  makePort: () => Promise<PortUnderTest>,
  options: ConformanceOptions = {},
): void {
  const waitMs = options.waitMs ?? 30_000;

  describe(`KafkaPort conformance: ${name}`, () => {
    let subject: PortUnderTest | undefined;
    let clients: { close(): Promise<void> }[] = [];

    beforeEach(async () => {
      subject = await makePort();
      clients = [];
    });
    afterEach(async () => {
      for (const client of clients.reverse()) await client.close().catch(() => undefined);
      await subject?.cleanup();
      subject = undefined;
    });

    const port = (): KafkaPort => {
      if (!subject) throw new Error("no port under test");
      return subject.port;
    };
    const track = <T extends { close(): Promise<void> }>(client: T): T => {
      clients.push(client);
      return client;
    };
    const freshTopic = async (label: string, numPartitions = 1) => {
      const topic = `conformance-${label}-${randomUUID().slice(0, 8)}`;
      await port().ensureTopics([{ topic, numPartitions }]);
      return topic;
    };
    const freshGroup = (label: string) => `conformance-${label}-${randomUUID().slice(0, 8)}`;
    const writer = async (transactionalId: string) =>
      track(await port().createTransactionalWriter(transactionalId));
    /** Records for partition 0 (or the one given), one per value. */
    const to = (topic: string, values: string[], partition = 0) => [
      { topic, records: values.map((value) => ({ key: null, value, partition })) },
    ];

    const waitFor = async (what: string, check: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        if (await check()) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(5);
      }
    };
    const endOffset = async (topic: string, partition = 0) =>
      (await port().offsetRanges(topic)).get(partition)?.high ?? -1;
    const waitForEnd = (topic: string, end: number, partition = 0) =>
      waitFor(
        `${topic}[${partition}] to end at ${end}`,
        async () => (await endOffset(topic, partition)) === end,
      );

    const readAll = async (topic: string) => {
      const seen: Seen[] = [];
      const batches: ConsumedBatch[] = [];
      await port().readToEnd(topic, (batch) => {
        batches.push(batch);
        for (const record of batch.records) {
          seen.push({ topic, partition: batch.partition, offset: record.offset, value: text(record.value) });
        }
      });
      return { seen, batches, values: seen.map((record) => record.value) };
    };

    /** A consumer that records what it is handed and how far each partition was read. */
    const collect = async (topics: string[], overrides: Partial<GroupConsumerOptions> = {}) => {
      const seen: Seen[] = [];
      const readTo = new Map<string, number>();
      const failures: Error[] = [];
      const consumer = track(
        await port().consume({
          groupId: freshGroup("reader"),
          topics,
          fromBeginning: true,
          autoCommit: false,
          heartbeatIntervalMs: 500,
          async eachBatch(batch) {
            for (const record of batch.records) {
              seen.push({
                topic: batch.topic,
                partition: batch.partition,
                offset: record.offset,
                value: text(record.value),
              });
            }
            return batch.records.at(-1)?.offset;
          },
          onRead(topic, partition, nextOffset) {
            const at = `${topic}:${partition}`;
            readTo.set(at, Math.max(readTo.get(at) ?? 0, nextOffset));
          },
          onFailure: (error) => failures.push(error),
          ...overrides,
        }),
      );
      const readThrough = (topic: string, end: number, partition = 0) =>
        waitFor(`the consumer to read ${topic}[${partition}] to ${end}`, () => {
          if (failures.length > 0) throw failures[0];
          return (readTo.get(`${topic}:${partition}`) ?? 0) >= end;
        });
      return { seen, consumer, readThrough, values: () => seen.map((record) => record.value) };
    };

    it("hides interleaved aborted transactions of several writers from read_committed readers", async () => {
      const topic = await freshTopic("interleaved");
      const a = await writer(`${topic}-a`);
      const b = await writer(`${topic}-b`);
      const c = await writer(`${topic}-c`);
      const ta = await a.begin();
      const tb = await b.begin();
      const tc = await c.begin();
      await ta.send(to(topic, ["a1"]));
      await tb.send(to(topic, ["b1"]));
      await ta.send(to(topic, ["a2"]));
      await tc.send(to(topic, ["c1"]));
      await tb.send(to(topic, ["b2"]));
      await tc.commit();
      await ta.abort();
      await tb.commit();
      const ta2 = await a.begin();
      const tb2 = await b.begin();
      await tb2.send(to(topic, ["b3"]));
      await ta2.send(to(topic, ["a3"]));
      await tb2.abort();
      await ta2.commit();
      // 7 records and 5 markers, one per transaction ended.
      await waitForEnd(topic, 12);

      const expected = ["b1", "c1", "b2", "a3"];
      const read = await readAll(topic);
      expect(read.values).toEqual(expected);
      expect(read.seen.map((record) => record.offset)).toEqual(["1", "3", "4", "9"]);

      const reader = await collect([topic]);
      await reader.readThrough(topic, 12);
      expect(reader.values()).toEqual(expected);
    });

    it("hides two aborted transactions of one writer read in one fetch", async () => {
      const topic = await freshTopic("two-aborts");
      const w = await writer(`${topic}-w`);
      const t1 = await w.begin();
      await t1.send(to(topic, ["x1", "x2"]));
      await t1.abort();
      const t2 = await w.begin();
      await t2.send(to(topic, ["x3"]));
      await t2.abort();
      await w.commit(to(topic, ["y"]));
      // x1 x2 abort x3 abort y commit
      await waitForEnd(topic, 7);

      const read = await readAll(topic);
      expect(read.seen.map((record) => [record.offset, record.value])).toEqual([["5", "y"]]);
      // How far one batch reaches depends on the fetch size; never past the end, always past y.
      for (const batch of read.batches) expect(batch.nextOffset).toBeGreaterThan(5);
      for (const batch of read.batches) expect(batch.nextOffset).toBeLessThanOrEqual(7);

      const reader = await collect([topic]);
      await reader.readThrough(topic, 7);
      expect(reader.values()).toEqual(["y"]);
    });

    it("hides an aborted transaction whose abort marker lies beyond a fetch's byte limit", async () => {
      const topic = await freshTopic("far-abort");
      const plain = track(await port().createProducer());
      const w = await writer(`${topic}-w`);
      await plain.send(to(topic, ["before"]));
      // 3 MiB in one transaction: a fetch (1 MiB per partition by default) ends long before its marker,
      // so only the fetch's list of aborted transactions can tell a reader to skip these records.
      const big = "x".repeat(16 * 1024);
      const aborted = await w.begin();
      for (let part = 0; part < 4; part += 1)
        await aborted.send(
          to(
            topic,
            Array.from({ length: 48 }, () => big),
          ),
        );
      await aborted.abort();
      await plain.send(to(topic, ["after"]));
      // before, 192 aborted records, the abort marker, after: the end is past all of them.
      await waitFor("the records to be written", async () => (await endOffset(topic)) > 193);
      const end = await endOffset(topic);

      const read = await readAll(topic);
      expect(read.seen.map((record) => record.value)).toEqual(["before", "after"]);
      expect(Number(read.seen[1]?.offset)).toBeGreaterThan(192);
      const reader = await collect([topic]);
      await reader.readThrough(topic, end);
      expect(reader.values()).toEqual(["before", "after"]);
    });

    it("moves a consumer past a partition holding only aborted records and markers", async () => {
      const topic = await freshTopic("only-aborted");
      const w = await writer(`${topic}-w`);
      for (const value of ["x1", "x2"]) {
        const txn = await w.begin();
        await txn.send(to(topic, [value]));
        await txn.abort();
      }
      await waitForEnd(topic, 4);
      expect((await readAll(topic)).seen).toEqual([]);

      const batches: ConsumedBatch[] = [];
      const reader = await collect([topic], {
        async eachBatch(batch) {
          batches.push(batch);
          return batch.records.at(-1)?.offset;
        },
      });
      await reader.readThrough(topic, 4);
      expect(batches.flatMap((batch) => batch.records)).toEqual([]);
    });

    it("starts a fetch at a transaction marker", async () => {
      const topic = await freshTopic("at-marker");
      const w = await writer(`${topic}-w`);
      await w.commit(to(topic, ["r0"]));
      await w.commit(to(topic, ["r2"]));
      // r0 commit r2 commit
      await waitForEnd(topic, 4);
      const atFirstMarker = freshGroup("at-marker-1");
      const atLastMarker = freshGroup("at-marker-3");
      await w.commit([], { groupId: atFirstMarker, topic, partition: 0, nextOffset: "1" });
      await w.commit([], { groupId: atLastMarker, topic, partition: 0, nextOffset: "3" });
      await waitFor("both groups' offsets", async () => {
        const first = await port().committedOffsets(atFirstMarker, topic);
        const last = await port().committedOffsets(atLastMarker, topic);
        return first.get(0) === "1" && last.get(0) === "3";
      });

      const fromFirst = await collect([topic], { groupId: atFirstMarker, fromBeginning: false });
      await fromFirst.readThrough(topic, 4);
      expect(fromFirst.seen.map((record) => [record.offset, record.value])).toEqual([["2", "r2"]]);

      const fromLast = await collect([topic], { groupId: atLastMarker, fromBeginning: false });
      await fromLast.readThrough(topic, 4);
      expect(fromLast.seen).toEqual([]);
    });

    it("fences the previous owner of a transactional id: its open transaction is aborted", async () => {
      const topic = await freshTopic("restart");
      const id = `${topic}-w`;
      const old = await writer(id);
      const pending = await old.begin();
      await pending.send(to(topic, ["lost"]));
      const fresh = await writer(id);
      await expect(pending.commit()).rejects.toMatchObject({ code: "fenced" });
      await expect(old.commit(to(topic, ["late"]))).rejects.toMatchObject({ code: "fenced" });
      await fresh.commit(to(topic, ["kept"]));
      // lost, its abort marker, kept, its commit marker
      await waitForEnd(topic, 4);
      expect((await readAll(topic)).seen.map((record) => [record.offset, record.value])).toEqual([
        ["2", "kept"],
      ]);
    });

    /** Consumer A owns both partitions and has a transaction open on each; then B joins the group. */
    const zombieScenario = async (label: string) => {
      const input = await freshTopic(`${label}-in`, 2);
      const output = await freshTopic(`${label}-out`);
      const groupId = freshGroup(label);
      const transactionalId = (partition: number) => `${groupId}-${input}-${partition}`;
      const producer = track(await port().createProducer());
      await producer.send([
        {
          topic: input,
          records: [
            { key: null, value: "in-0", partition: 0 },
            { key: null, value: "in-1", partition: 1 },
          ],
        },
      ]);
      const failures: Error[] = [];
      const consumerOptions = {
        groupId,
        topics: [input],
        fromBeginning: true,
        autoCommit: false,
        heartbeatIntervalMs: 500,
        sessionTimeoutMs: 10_000,
        onFailure: (error: Error) => failures.push(error),
      };

      const open = new Map<number, Transaction>();
      const contexts = new Map<number, BatchContext>();
      const a = track(
        await port().consume({
          ...consumerOptions,
          async eachBatch(batch, context) {
            contexts.set(batch.partition, context);
            const last = batch.records.at(-1)?.offset;
            // Records read again after a rebalance find their transaction already open.
            if (last !== undefined && !open.has(batch.partition)) {
              const w = await writer(transactionalId(batch.partition));
              const txn = await w.begin();
              await txn.send(to(output, [`A-${batch.partition}`]));
              await txn.sendOffset({
                groupId,
                topic: input,
                partition: batch.partition,
                nextOffset: String(Number(last) + 1),
              });
              open.set(batch.partition, txn);
            }
            return last;
          },
        }),
      );
      await waitFor("A to open a transaction on each partition", () => open.size === 2);

      const committedByB: number[] = [];
      const b = track(
        await port().consume({
          ...consumerOptions,
          async eachBatch(batch) {
            const last = batch.records.at(-1)?.offset;
            if (last === undefined) return undefined;
            const w = await writer(transactionalId(batch.partition));
            await w.commit(to(output, [`B-${batch.partition}`]), {
              groupId,
              topic: input,
              partition: batch.partition,
              nextOffset: String(Number(last) + 1),
            });
            committedByB.push(batch.partition);
            return last;
          },
        }),
      );
      await waitFor("B to take over a partition", () => {
        if (failures.length > 0) throw failures[0];
        return committedByB.length > 0;
      });
      const moved = committedByB[0] as number;
      const kept = 1 - moved;
      return { input, output, groupId, open, contexts, moved, kept, a, b, committedByB };
    };

    it("fences a zombie writer once its partition moved to another member", async () => {
      const { input, output, groupId, open, moved, kept } = await zombieScenario("zombie");
      await expect(open.get(moved)?.commit()).rejects.toMatchObject({ code: "fenced" });
      await open.get(kept)?.commit();

      // A's two records, the fencing's abort marker, B's record and commit marker, A's commit marker.
      await waitFor("every transaction's marker", async () => (await endOffset(output)) === 6);
      const { values } = await readAll(output);
      expect([...values].sort()).toEqual([`A-${kept}`, `B-${moved}`].sort());
      await waitFor(
        "the group's offsets",
        async () => (await port().committedOffsets(groupId, input)).size === 2,
      );
      expect(await port().committedOffsets(groupId, input)).toEqual(
        new Map([
          [0, "1"],
          [1, "1"],
        ]),
      );
    });

    it("tells a batch it is no longer current once its partition moved, and once the consumer closed", async () => {
      const { contexts, moved, kept, a } = await zombieScenario("current");
      expect(contexts.get(moved)?.isCurrent()).toBe(false);
      expect(contexts.get(kept)?.isCurrent()).toBe(true);
      await a.close();
      expect(contexts.get(kept)?.isCurrent()).toBe(false);
    });

    it("commits a transaction's consumed offset with the transaction, never with an abort", async () => {
      const topic = await freshTopic("offsets");
      const groupId = freshGroup("offsets");
      const w = await writer(`${topic}-w`);
      const offset = (nextOffset: string) => ({ groupId, topic, partition: 0, nextOffset });

      const aborted = await w.begin();
      await aborted.send(to(topic, ["x"]));
      await aborted.sendOffset(offset("5"));
      expect(await port().committedOffsets(groupId, topic)).toEqual(new Map());
      await aborted.abort();
      expect(await port().committedOffsets(groupId, topic)).toEqual(new Map());

      const committed = await w.begin();
      await committed.send(to(topic, ["y"]));
      await committed.sendOffset(offset("7"));
      expect(await port().committedOffsets(groupId, topic)).toEqual(new Map());
      await committed.commit();
      await waitFor(
        "the committed offset",
        async () => (await port().committedOffsets(groupId, topic)).size > 0,
      );
      expect(await port().committedOffsets(groupId, topic)).toEqual(new Map([[0, "7"]]));
    });

    it("gives transaction markers offsets: end offsets and nextOffset go past them", async () => {
      const topic = await freshTopic("markers");
      const plain = track(await port().createProducer());
      const w = await writer(`${topic}-w`);
      expect(await port().offsetRanges(topic)).toEqual(new Map([[0, { low: 0, high: 0 }]]));
      await plain.send(to(topic, ["p0"]));
      await waitForEnd(topic, 1);
      await w.commit(to(topic, ["c1"]));
      await waitForEnd(topic, 3);
      const aborted = await w.begin();
      await aborted.send(to(topic, ["a3", "a4"]));
      await aborted.abort();
      await waitForEnd(topic, 6);
      await plain.send(to(topic, ["p6"]));
      await waitForEnd(topic, 7);

      const read = await readAll(topic);
      expect(read.seen.map((record) => [record.offset, record.value])).toEqual([
        ["0", "p0"],
        ["1", "c1"],
        ["6", "p6"],
      ]);
      expect(read.batches.at(-1)?.nextOffset).toBe(7);

      const batches: ConsumedBatch[] = [];
      const reader = await collect([topic], {
        async eachBatch(batch) {
          batches.push(batch);
          return batch.records.at(-1)?.offset;
        },
      });
      await reader.readThrough(topic, 7);
      for (const batch of batches) {
        const last = Number(batch.records.at(-1)?.offset);
        expect(batch.nextOffset).toBeGreaterThan(last);
        expect(batch.highWatermark).toBeGreaterThanOrEqual(batch.nextOffset);
      }
      expect(batches.flatMap((batch) => batch.records.map((record) => record.offset))).toEqual([
        "0",
        "1",
        "6",
      ]);
    });

    it("reads to the end a topic had when readToEnd was called", async () => {
      const topic = await freshTopic("to-end");
      expect((await readAll(topic)).batches).toEqual([]);

      const plain = track(await port().createProducer());
      await plain.send(to(topic, ["a", "b"]));
      await waitForEnd(topic, 2);
      // Written once reading began: beyond the end the read has to reach.
      let later: Promise<void> | undefined;
      const batches: ConsumedBatch[] = [];
      await port().readToEnd(topic, (batch) => {
        batches.push(batch);
        later ??= plain.send(to(topic, ["c"]));
      });
      await later;
      expect(batches.flatMap((batch) => batch.records.map((record) => text(record.value)))).toEqual([
        "a",
        "b",
      ]);
      for (const batch of batches) expect(batch.nextOffset).toBeLessThanOrEqual(2);
      expect((await readAll(topic)).values).toEqual(["a", "b", "c"]);
    });

    it("ends a partition at its last stable offset while a transaction is open, and readToEnd stops there", async () => {
      const topic = await freshTopic("open-end");
      const plain = track(await port().createProducer());
      const w = await writer(`${topic}-w`);
      await plain.send(to(topic, ["a"]));
      const open = await w.begin();
      await open.send(to(topic, ["b"]));
      await plain.send(to(topic, ["c"]));
      // port.ts: the end is what a read_committed reader can reach now, the first offset of the open
      // transaction (1), not the log's end (3).
      await waitForEnd(topic, 1);
      const during = await readAll(topic);
      expect(during.values).toEqual(["a"]);
      await open.commit();
      // b, c and the commit marker.
      await waitForEnd(topic, 4);
      expect((await readAll(topic)).values).toEqual(["a", "b", "c"]);
    });

    it("places keyed records as Kafka's default partitioner does", async () => {
      const topic = await freshTopic("partitioner", 3);
      const plain = track(await port().createProducer());
      const keys = Array.from({ length: 12 }, (_, index) => `customer-${index}@example.com`);
      await plain.send([
        {
          topic,
          records: [
            ...keys.map((key, index) => ({ key: index % 2 === 0 ? key : Buffer.from(key), value: key })),
            { key: null, value: "no key" },
          ],
        },
      ]);
      const { seen } = await readAll(topic);
      expect(seen).toHaveLength(keys.length + 1);
      for (const record of seen) {
        if (record.value !== "no key") expect(record.partition).toBe(partitionForKey(record.value ?? "", 3));
      }
    });

    it("creates missing topics only, and answers look-ups of unknown topics and groups", async () => {
      const topic = `conformance-compact-${randomUUID().slice(0, 8)}`;
      await port().ensureTopics([
        { topic, numPartitions: 2, configs: { "cleanup.policy": "compact" } },
        topic,
      ]);
      await port().ensureTopics([topic]);
      expect(await port().partitionCount(topic)).toBe(2);
      expect(await port().partitionCount(`conformance-absent-${randomUUID().slice(0, 8)}`)).toBe(0);
      expect(await port().committedOffsets(freshGroup("none"), topic)).toEqual(new Map());
    });

    it("commits consumed offsets after each batch with autoCommit, and a group resumes from them", async () => {
      const topic = await freshTopic("resume", 2);
      const plain = track(await port().createProducer());
      const groupId = freshGroup("resume");
      await plain.send([...to(topic, ["a0", "b0"], 0), ...to(topic, ["a1", "b1"], 1)]);

      const first = await collect([topic], { groupId, autoCommit: true });
      await waitFor("four records", () => first.seen.length === 4);
      await waitFor("the group's offsets", async () => {
        const offsets = await port().committedOffsets(groupId, topic);
        return offsets.get(0) === "2" && offsets.get(1) === "2";
      });
      await first.consumer.close();

      await plain.send([...to(topic, ["c0"], 0), ...to(topic, ["c1"], 1)]);
      const second = await collect([topic], { groupId, autoCommit: true });
      await second.readThrough(topic, 3, 0);
      await second.readThrough(topic, 3, 1);
      expect([...second.values()].sort()).toEqual(["c0", "c1"]);
    });

    it("fetches the same records again when eachBatch returns undefined", async () => {
      const topic = await freshTopic("refetch");
      const plain = track(await port().createProducer());
      await plain.send(to(topic, ["x", "y"]));
      const batches: string[][] = [];
      const reader = await collect([topic], {
        async eachBatch(batch) {
          batches.push(batch.records.map((record) => record.offset));
          return batches.length === 1 ? undefined : batch.records.at(-1)?.offset;
        },
      });
      // onRead reports how far the first fetch reached although its records were not handled.
      await reader.readThrough(topic, 2);
      await waitFor("the records fetched again", () => batches.length >= 2);
      expect(batches[1]).toEqual(batches[0]);
      expect(batches.flat().at(-1)).toBe("1");
    });

    it("starts partitions where startAt says, ahead of committed offsets, and as usual where it says nothing", async () => {
      const topic = await freshTopic("start-at", 3);
      const plain = track(await port().createProducer());
      const groupId = freshGroup("start-at");
      await plain.send([
        ...to(topic, ["a0", "a1", "a2", "a3", "a4"], 0),
        ...to(topic, ["b0", "b1", "b2"], 1),
        ...to(topic, ["c0", "c1"], 2),
      ]);
      const committer = await writer(`${topic}-w`);
      await committer.commit([], { groupId, topic, partition: 0, nextOffset: "1" });
      const starts = new Map([
        [0, 3],
        // Past the end: where fromBeginning says.
        [1, 100],
      ]);
      const reader = await collect([topic], {
        groupId,
        startAt: (_topic, partition) => starts.get(partition),
      });
      await reader.readThrough(topic, 5, 0);
      await reader.readThrough(topic, 3, 1);
      await reader.readThrough(topic, 2, 2);
      expect([...reader.values()].sort()).toEqual(["a3", "a4", "b0", "b1", "b2", "c0", "c1"]);
    });

    it("reads the committed record at given offsets, and nothing where none is", async () => {
      const topic = await freshTopic("read-at", 3);
      const plain = track(await port().createProducer());
      await plain.send([...to(topic, ["a0", "a1", "a2"], 0), ...to(topic, ["b0"], 1)]);
      const w = await writer(`${topic}-w`);
      const aborted = await w.begin();
      await aborted.send(to(topic, ["aborted"], 2));
      await aborted.abort();
      await w.commit(to(topic, ["c2"], 2));
      // aborted (0), its abort marker (1), c2 (2), its commit marker (3).
      await waitForEnd(topic, 4, 2);
      const found = await port().readRecordsAt(
        topic,
        new Map([
          [0, 1],
          [1, 1],
          [2, 0],
        ]),
      );
      expect(text(found.get(0)?.value ?? null)).toBe("a1");
      expect(found.get(0)?.offset).toBe("1");
      expect(found.get(0)?.timestamp).toMatch(/^\d+$/);
      expect(found.has(1) && found.get(1) === undefined).toBe(true);
      expect(found.has(2) && found.get(2) === undefined).toBe(true);
      const again = await port().readRecordsAt(
        topic,
        new Map([
          [0, 2],
          [2, 2],
        ]),
      );
      expect(text(again.get(0)?.value ?? null)).toBe("a2");
      expect(text(again.get(2)?.value ?? null)).toBe("c2");
      const marker = await port().readRecordsAt(topic, new Map([[2, 1]]));
      expect(marker.has(2) && marker.get(2) === undefined).toBe(true);
    });

    it("spreads a group's partitions over its members, telling each of its share", async () => {
      const topic = await freshTopic("members", 4);
      const groupId = freshGroup("members");
      const latest: Map<string, number[]>[] = [new Map(), new Map()];
      const join = (index: number): Promise<GroupConsumer> =>
        port().consume({
          groupId,
          topics: [topic],
          fromBeginning: true,
          autoCommit: false,
          heartbeatIntervalMs: 500,
          eachBatch: async (batch) => batch.records.at(-1)?.offset,
          onAssigned: (assignment) => {
            latest[index] = assignment;
          },
          onFailure: () => undefined,
        });
      const share = (index: number) => latest[index]?.get(topic) ?? [];
      track(await join(0));
      await waitFor("the first member to get every partition", () => share(0).length === 4);
      track(await join(1));
      await waitFor("the partitions to be split", () => share(0).length > 0 && share(1).length > 0);
      await waitFor("the split to settle", () => share(0).length + share(1).length === 4);
      expect([...share(0), ...share(1)].sort()).toEqual([0, 1, 2, 3]);
    });
  });
}
