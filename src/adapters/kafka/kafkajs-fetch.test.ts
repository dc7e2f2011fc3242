import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { kafkajsOriginal } from "../../../test/support/kafkajs-original.js";
import { seeded } from "../../../test/support/random.js";
import { decodeRecordBatch, FetchedBatch, type FetchedPartition } from "./kafkajs-fetch.js";
import { patchesInstalled } from "./kafkajs-patches.js";
import type { DecodedRecord } from "./record-batch-decoding.js";

const require = createRequire(import.meta.url);

type KafkajsDecoder = { buffer: Buffer; offset: number; canReadBytes(length: number): boolean };
type BatchDecoder = (decoder: KafkajsDecoder) => Promise<{ records: DecodedRecord[] }>;

const kafkajsBatchDecoder = kafkajsOriginal<BatchDecoder>("kafkajs/src/protocol/recordBatch/v0/decoder.js");
type BatchClass = new (topic: string, fetchedOffset: string, data: FetchedPartition) => object;
const KafkajsBatch = kafkajsOriginal<BatchClass>("kafkajs/src/consumer/batch.js");
const Decoder = require("kafkajs/src/protocol/decoder.js") as new (bytes: Buffer) => KafkajsDecoder;
const Long = require("kafkajs/src/utils/long.js") as { fromValue(value: unknown): unknown };
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as {
  RecordBatch(args: Record<string, unknown>): Promise<{ buffer: Buffer }>;
};
const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (
  args: Record<string, unknown>,
) => unknown;
const decodeMessages = require("kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js") as (
  decoder: KafkajsDecoder,
) => Promise<DecodedRecord[]>;

type TestRecord = {
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[]>;
  offsetDelta?: number;
  timestampDelta?: number | bigint;
};

type TestBatch = {
  records: TestRecord[];
  firstOffset?: string;
  firstTimestamp?: string;
  maxTimestamp?: string;
  compression?: number;
  transactional?: boolean;
  producerId?: string;
  /** As a batch compaction removed records from states it; records.length - 1 otherwise. */
  lastOffsetDelta?: number;
  /** Attribute bits kafkajs's encoder cannot set: 0x08 LOG_APPEND_TIME, 0x20 control batch. */
  extraAttributes?: number;
};

/** A record batch as kafkajs's producer encodes it; attributes it has no option for are set afterwards. */
async function encodeBatch(batch: TestBatch): Promise<Buffer> {
  const records = batch.records.map((record, index) =>
    Record({
      offsetDelta: record.offsetDelta ?? index,
      timestampDelta: Long.fromValue(record.timestampDelta ?? 0),
      key: record.key === undefined ? Buffer.from(`key-${index}`) : record.key,
      value: record.value === undefined ? Buffer.from(`value-${index}`) : record.value,
      headers: record.headers ?? {},
    }),
  );
  const bytes = Buffer.from(
    (
      await RecordBatch({
        compression: batch.compression ?? 0,
        firstOffset: Long.fromValue(batch.firstOffset ?? "0"),
        firstTimestamp: Long.fromValue(batch.firstTimestamp ?? "1764000000123"),
        maxTimestamp: Long.fromValue(batch.maxTimestamp ?? "1764000000999"),
        lastOffsetDelta: batch.lastOffsetDelta ?? Math.max(0, batch.records.length - 1),
        transactional: batch.transactional ?? false,
        producerId: Long.fromValue(batch.producerId ?? "-1"),
        producerEpoch: batch.producerId === undefined ? 0 : 3,
        firstSequence: 7,
        partitionLeaderEpoch: 5,
        records,
      })
    ).buffer,
  );
  const attributesAt = 21;
  bytes.writeInt16BE(bytes.readInt16BE(attributesAt) | (batch.extraAttributes ?? 0), attributesAt);
  return bytes;
}

/** kafkajs's loop over a fetch's record batches (fetch/v4/decodeMessages.js), with the given batch decoder. */
async function decodeFetch(bytes: Buffer, decodeBatch: BatchDecoder) {
  const decoder = new Decoder(bytes);
  const batches: unknown[] = [];
  const records: DecodedRecord[] = [];
  let error: unknown;
  while (decoder.canReadBytes(49)) {
    try {
      const { records: batchRecords, ...fields } = await decodeBatch(decoder);
      batches.push(fields);
      records.push(...batchRecords);
    } catch (caught) {
      error = caught;
      break;
    }
  }
  return { batches, records, decoderOffset: decoder.offset, error };
}

async function expectSameDecoding(bytes: Buffer) {
  const ours = await decodeFetch(bytes, decodeRecordBatch as unknown as BatchDecoder);
  const theirs = await decodeFetch(bytes, kafkajsBatchDecoder);
  expect(ours.error).toEqual(theirs.error);
  expect((ours.error as Error | undefined)?.name).toBe((theirs.error as Error | undefined)?.name);
  expect(ours.decoderOffset).toBe(theirs.decoderOffset);
  expect(ours.batches).toStrictEqual(theirs.batches);
  expect(ours.records).toStrictEqual(theirs.records);
  return ours.records;
}

const text = (value: string) => Buffer.from(value);

describe("decoding fetched record batches", () => {
  it("is what kafkajs loads, and what its Fetch response decoding uses", async () => {
    expect(patchesInstalled.recordBatchDecoding).toBe(true);
    expect(require("kafkajs/src/protocol/recordBatch/v0/decoder.js")).toBe(decodeRecordBatch);
    const batch = await encodeBatch({ records: [{}, {}], firstOffset: "40" });
    const size = Buffer.alloc(4);
    size.writeInt32BE(batch.length);
    const records = await decodeMessages(new Decoder(Buffer.concat([size, batch])));
    expect(records.map((record) => record.offset)).toEqual(["40", "41"]);
    expect((await decodeFetch(batch, kafkajsBatchDecoder)).records).toStrictEqual(records);
  });

  it("gives kafkajs's records for plain records, null and empty keys and values", async () => {
    const records = await expectSameDecoding(
      await encodeBatch({
        firstOffset: "1000",
        records: [
          {},
          { key: null },
          { value: null },
          { key: text(""), value: text("") },
          { key: null, value: null },
        ],
      }),
    );
    expect(records).toHaveLength(5);
    expect(records[1]?.key).toBeNull();
    expect(records[3]?.value).toEqual(Buffer.alloc(0));
  });

  it("gives kafkajs's headers, repeated keys as arrays, values as bytes", async () => {
    const records = await expectSameDecoding(
      await encodeBatch({
        records: [
          { headers: { a: "1", b: text("two") } },
          { headers: { trace: ["x", text("y"), "z"], 日本: "ü" } },
          { headers: { single: ["only"] } },
          { headers: { empty: "" } },
        ],
      }),
    );
    expect(records[1]?.headers).toEqual({ trace: [text("x"), text("y"), text("z")], 日本: text("ü") });
  });

  it("shares one context per batch and hands out views of the fetched bytes", async () => {
    const bytes = Buffer.concat([
      await encodeBatch({ records: [{}, {}, {}] }),
      await encodeBatch({ firstOffset: "3", records: [{}] }),
    ]);
    const records = await expectSameDecoding(bytes);
    expect(new Set(records.map((record) => record.batchContext)).size).toBe(2);
    expect(records[0]?.batchContext).toBe(records[2]?.batchContext);
    expect(records[0]?.value?.buffer).toBe(bytes.buffer);
  });

  it("decodes batches back to back and stops, as kafkajs does, at a batch the fetch cut off", async () => {
    const whole = Buffer.concat([
      await encodeBatch({ firstOffset: "0", records: [{}, {}] }),
      await encodeBatch({ firstOffset: "2", records: [{ headers: { h: "v" } }] }),
      await encodeBatch({ firstOffset: "3", records: [{}, {}, {}] }),
    ]);
    const lastLength = (await encodeBatch({ firstOffset: "3", records: [{}, {}, {}] })).length;
    expect(await expectSameDecoding(whole)).toHaveLength(6);
    for (const cut of [1, 10, lastLength - 49, lastLength - 12]) {
      const records = await expectSameDecoding(whole.subarray(0, whole.length - cut));
      expect(records.map((record) => record.offset)).toEqual(["0", "1", "2"]);
    }
  });

  it("decompresses a gzip batch with kafkajs's codec", async () => {
    const records = await expectSameDecoding(
      await encodeBatch({
        compression: 1,
        firstOffset: "77",
        records: [{}, { key: null, headers: { a: ["1", "2"] } }, { value: text("x".repeat(5000)) }],
      }),
    );
    expect(records.map((record) => record.offset)).toEqual(["77", "78", "79"]);
  });

  it("marks a transaction marker's records as control records", async () => {
    const marker = { key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 3]) };
    const records = await expectSameDecoding(
      Buffer.concat([
        await encodeBatch({ transactional: true, producerId: "4242", records: [{}, {}] }),
        await encodeBatch({
          firstOffset: "2",
          transactional: true,
          producerId: "4242",
          extraAttributes: 0x20,
          records: [marker],
        }),
      ]),
    );
    expect(records.map((record) => record.isControlRecord)).toEqual([false, false, true]);
    expect(records[2]?.batchContext).toMatchObject({
      inTransaction: true,
      isControlBatch: true,
      producerId: "4242",
    });
  });

  it("stamps every record with the batch's max timestamp under LOG_APPEND_TIME", async () => {
    const records = await expectSameDecoding(
      await encodeBatch({
        extraAttributes: 0x08,
        maxTimestamp: "1764000123456",
        records: [{ timestampDelta: 5 }, { timestampDelta: -9 }],
      }),
    );
    expect(records.map((record) => record.timestamp)).toEqual(["1764000123456", "1764000123456"]);
  });

  it("adds offsets and timestamps exactly beyond 2^53, below zero and with negative deltas", async () => {
    const cases: TestBatch[] = [
      { firstOffset: "9007199254740990", records: [{}, {}, {}, {}, {}] },
      { firstOffset: "9223372036854775800", records: [{}, { offsetDelta: 7 }] },
      { firstOffset: "-5", firstTimestamp: "-1", records: [{ timestampDelta: -3 }, { timestampDelta: 2 }] },
      { firstTimestamp: "9007199254740991", records: [{ timestampDelta: 1 }, { timestampDelta: -1 }] },
      { firstTimestamp: "-9007199254740991", records: [{ timestampDelta: -1 }] },
      {
        firstTimestamp: "0",
        records: [
          { timestampDelta: 2n ** 48n },
          { timestampDelta: -(2n ** 48n) - 1n },
          { timestampDelta: 2n ** 53n + 1n },
          { timestampDelta: -(2n ** 55n) - 3n },
          { timestampDelta: 2n ** 62n },
          { timestampDelta: -(2n ** 63n) },
          { timestampDelta: 2n ** 63n - 1n },
        ],
      },
      {
        firstTimestamp: "1764000000000",
        records: [{ timestampDelta: -60_000 }, { timestampDelta: 86_400_000 }],
      },
    ];
    for (const batch of cases) await expectSameDecoding(await encodeBatch(batch));
    const [first, , , , last] = await expectSameDecoding(await encodeBatch(cases[0] as TestBatch));
    expect([first?.offset, last?.offset]).toEqual(["9007199254740990", "9007199254740994"]);
  });

  it("gives kafkajs's records for random fetches, cut anywhere", async () => {
    const random = seeded(20_261_201);
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)] as T;
    const bytesOf = (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    for (let fetch = 0; fetch < 150; fetch += 1) {
      const batches: Buffer[] = [];
      let offset = BigInt(pick(["0", "123456", "9007199254740000", "9223372036854770000"]));
      for (let batch = 0; batch < 1 + Math.floor(random() * 4); batch += 1) {
        const records: TestRecord[] = Array.from({ length: 1 + Math.floor(random() * 20) }, () => ({
          key: random() < 0.2 ? null : bytesOf(Math.floor(random() * 20)),
          value: random() < 0.1 ? null : bytesOf(Math.floor(random() * 300)),
          headers: (random() < 0.5
            ? {}
            : {
                [pick(["a", "b", "trace-id"])]: pick(["1", ["2", "3"]]),
                c: bytesOf(Math.floor(random() * 5)),
              }) as TestRecord["headers"],
          timestampDelta: Math.floor((random() - 0.3) * 2 ** (random() * 50)),
        }));
        batches.push(
          await encodeBatch({
            records,
            firstOffset: String(offset),
            firstTimestamp: pick(["1764000000123", "0", "-1", "9007199254000000"]),
            compression: random() < 0.2 ? 1 : 0,
            transactional: random() < 0.3,
            producerId: pick(["-1", "1", "9007199254740993"]),
            extraAttributes: random() < 0.1 ? 0x08 : 0,
          }),
        );
        offset += BigInt(records.length);
      }
      const whole = Buffer.concat(batches);
      await expectSameDecoding(whole);
      await expectSameDecoding(whole.subarray(0, Math.floor(random() * whole.length)));
    }
  });

  it("rejects bytes that cannot be a record batch", async () => {
    const batch = await encodeBatch({ records: [{}] });
    const shortLength = Buffer.from(batch);
    shortLength.writeInt32BE(20, 8);
    await expect(decodeRecordBatch(new Decoder(shortLength))).rejects.toThrow("a record batch of 20 bytes");
    const oldMagic = Buffer.from(batch);
    oldMagic.writeInt8(1, 16);
    await expect(decodeRecordBatch(new Decoder(oldMagic))).rejects.toThrow("magic 1");
    const longRecord = Buffer.from(batch);
    longRecord.writeInt8(0x7e, 61); // the first record's length: 63 bytes, more than the batch holds
    await expect(decodeRecordBatch(new Decoder(longRecord))).rejects.toThrow(
      "a record longer than its batch",
    );
  });
});

type AbortedTransactions = FetchedPartition["abortedTransactions"];

/** A partition's fetch: kafkajs's decoding of the batches, with the broker's other fields. */
async function fetchedPartition(
  batches: TestBatch[],
  highWatermark: string,
  abortedTransactions: AbortedTransactions = [],
): Promise<FetchedPartition> {
  const bytes = Buffer.concat(await Promise.all(batches.map(encodeBatch)));
  const { records } = await decodeFetch(bytes, kafkajsBatchDecoder);
  return { partition: 3, highWatermark, messages: records, abortedTransactions };
}

function batchView(batch: object) {
  const methods = [
    "isEmpty",
    "isEmptyIncludingFiltered",
    "isEmptyDueToFiltering",
    "isEmptyControlRecord",
    "isEmptyDueToLogCompactedMessages",
    "firstOffset",
    "lastOffset",
    "offsetLag",
    "offsetLagLow",
  ] as const;
  const results = Object.fromEntries(
    methods.map((method) => [method, (batch as Record<string, () => unknown>)[method]?.call(batch)]),
  );
  return { fields: { ...batch }, results };
}

async function expectSameBatch(fetchedOffset: string, partition: FetchedPartition) {
  const ours = new FetchedBatch("events", fetchedOffset, partition);
  const theirs = new KafkajsBatch("events", fetchedOffset, partition);
  expect(batchView(ours)).toStrictEqual(batchView(theirs));
  return ours;
}

const commitMarker = { key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) };
const abortMarker = { key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) };

describe("the batch a consumer hands to eachBatch", () => {
  it("is what kafkajs loads", () => {
    expect(patchesInstalled.fetchedBatch).toBe(true);
    expect(require("kafkajs/src/consumer/batch.js")).toBe(FetchedBatch);
  });

  it("passes a fetch from the offset asked for on as it is", async () => {
    const partition = await fetchedPartition([{ firstOffset: "10", records: [{}, {}, {}] }], "13");
    const batch = await expectSameBatch("10", partition);
    expect(batch.messages).toBe(partition.messages);
    expect(batch.messagesWithinOffset).toBe(partition.messages);
  });

  it("drops records before the fetched offset (a compressed batch starts earlier)", async () => {
    const partition = await fetchedPartition(
      [
        { firstOffset: "10", compression: 1, records: [{}, {}, {}, {}] },
        { firstOffset: "14", records: [{}] },
      ],
      "20",
    );
    for (const fetched of ["9", "10", "12", "14", "15", "30"]) await expectSameBatch(fetched, partition);
    expect((await expectSameBatch("12", partition)).firstOffset()).toBe("12");
  });

  it("reports a fetch of records before the fetched offset only as compacted away", async () => {
    const partition = await fetchedPartition([{ firstOffset: "10", records: [{}, {}] }], "40");
    const batch = await expectSameBatch("25", partition);
    expect(batch.lastOffset()).toBe("25");
  });

  it("drops control records and reports a fetch of them alone", async () => {
    const data = await fetchedPartition(
      [
        { firstOffset: "0", transactional: true, producerId: "7", records: [{}, {}] },
        {
          firstOffset: "2",
          transactional: true,
          producerId: "7",
          extraAttributes: 0x20,
          records: [commitMarker],
        },
      ],
      "3",
    );
    expect((await expectSameBatch("0", data)).messages.map((record) => record.offset)).toEqual(["0", "1"]);
    const onlyMarker = await expectSameBatch("2", data);
    expect(onlyMarker.isEmptyControlRecord()).toBe(true);
    expect(onlyMarker.lastOffset()).toBe("2");
  });

  it("finds control records behind batches compaction thinned out", async () => {
    const transaction = { transactional: true, producerId: "7" };
    const data = await fetchedPartition(
      [
        {
          ...transaction,
          firstOffset: "0",
          lastOffsetDelta: 5,
          records: [{}, { offsetDelta: 2 }, { offsetDelta: 5 }],
        },
        { ...transaction, firstOffset: "6", records: [{}, {}, {}, {}] },
        { ...transaction, firstOffset: "10", extraAttributes: 0x20, records: [commitMarker] },
        { ...transaction, firstOffset: "11", records: [{}, {}] },
      ],
      "13",
    );
    for (const fetched of ["0", "2", "5", "6", "8", "10", "11"]) await expectSameBatch(fetched, data);
    const offsets = (await expectSameBatch("0", data)).messages.map((record) => record.offset);
    expect(offsets.join(" ")).toBe("0 2 5 6 7 8 9 11 12");
  });

  it("drops aborted transactions through kafkajs's (replaced) filter", async () => {
    const data = await fetchedPartition(
      [
        { firstOffset: "0", transactional: true, producerId: "7", records: [{}, {}] },
        { firstOffset: "2", transactional: true, producerId: "8", records: [{}] },
        {
          firstOffset: "3",
          transactional: true,
          producerId: "7",
          extraAttributes: 0x20,
          records: [abortMarker],
        },
        {
          firstOffset: "4",
          transactional: true,
          producerId: "8",
          extraAttributes: 0x20,
          records: [commitMarker],
        },
      ],
      "5",
      [{ producerId: "7", firstOffset: "0" }],
    );
    expect((await expectSameBatch("0", data)).messages.map((record) => record.offset)).toEqual(["2"]);
    expect((await expectSameBatch("3", data)).isEmptyDueToFiltering()).toBe(true);
  });

  it("handles an empty fetch", async () => {
    for (const abortedTransactions of [[], null, undefined] as AbortedTransactions[]) {
      const batch = await expectSameBatch("17", await fetchedPartition([], "17", abortedTransactions));
      expect(batch.lastOffset()).toBe("16");
      expect(batch.offsetLag()).toBe("0");
      expect(batch.offsetLagLow()).toBe("0");
    }
  });

  it("compares offsets beyond 2^53 exactly", async () => {
    const partition = await fetchedPartition(
      [{ firstOffset: "9007199254740991", compression: 1, records: [{}, {}, {}, {}] }],
      "9007199254741000",
    );
    for (const fetched of ["9007199254740990", "9007199254740992", "9007199254740993", "9007199254740995"]) {
      await expectSameBatch(fetched, partition);
    }
    expect((await expectSameBatch("9007199254740993", partition)).firstOffset()).toBe("9007199254740993");
  });
});
