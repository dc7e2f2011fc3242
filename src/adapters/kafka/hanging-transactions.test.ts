import { describe, expect, it } from "vitest";
import {
  abortMarkersFor,
  type DescribedPartition,
  decodeDescribeProducersResponse,
  decodeWriteTxnMarkersResponse,
  encodeDescribeProducersRequest,
  encodeWriteTxnMarkersRequest,
  type OpenTransaction,
  openTransactionsOf,
} from "./hanging-transactions.js";

// Bytes written by hand from the protocol's field lists: compact strings and arrays carry length + 1
// as an unsigned varint, and every structure of a flexible version ends with its tagged fields (0).
const int16 = (value: number) => {
  const bytes = Buffer.alloc(2);
  bytes.writeInt16BE(value);
  return bytes;
};
const int32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
};
const int64 = (value: bigint) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
};
const compactString = (value: string) => Buffer.concat([Buffer.from([value.length + 1]), Buffer.from(value)]);
const noTags = Buffer.from([0]);

describe("DescribeProducers v0", () => {
  it("asks for the given partitions of each topic, after the header's tagged fields", () => {
    const body = encodeDescribeProducersRequest([
      { topic: "out", partitions: [0, 2] },
      { topic: "log", partitions: [1] },
    ]);
    const expected = Buffer.concat([
      noTags, // request header v2's tagged fields
      Buffer.from([3]), // two topics
      compactString("out"),
      Buffer.from([3]),
      int32(0),
      int32(2),
      noTags,
      compactString("log"),
      Buffer.from([2]),
      int32(1),
      noTags,
      noTags,
    ]);
    expect(body.toString("hex")).toBe(expected.toString("hex"));
  });

  it("reads each partition's error and producers, with the open transaction's first offset", () => {
    const producer = (id: bigint, epoch: number, coordinatorEpoch: number, start: bigint) =>
      Buffer.concat([
        int64(id),
        int32(epoch),
        int32(41), // last sequence
        int64(1_796_000_000_000n), // last timestamp
        int32(coordinatorEpoch),
        int64(start),
        noTags,
      ]);
    const payload = Buffer.concat([
      noTags, // response header v1's tagged fields
      int32(0), // throttle time
      Buffer.from([2]), // one topic
      compactString("out"),
      Buffer.from([3]), // two partitions
      int32(0),
      int16(0),
      Buffer.from([0]), // no error message
      Buffer.from([3]),
      producer(4n, 0, -1, 1453n),
      producer(9_007_199_254_740_993n, 7, 3, -1n),
      noTags,
      int32(1),
      int16(6),
      compactString("not the leader"),
      Buffer.from([1]), // no producers
      noTags,
      noTags,
      noTags,
    ]);
    expect(decodeDescribeProducersResponse(payload)).toEqual<DescribedPartition[]>([
      {
        topic: "out",
        partition: 0,
        errorCode: 0,
        errorMessage: null,
        producers: [
          { producerId: 4n, producerEpoch: 0, coordinatorEpoch: -1, currentTxnStartOffset: 1453n },
          {
            producerId: 9_007_199_254_740_993n,
            producerEpoch: 7,
            coordinatorEpoch: 3,
            currentTxnStartOffset: -1n,
          },
        ],
      },
      { topic: "out", partition: 1, errorCode: 6, errorMessage: "not the leader", producers: [] },
    ]);
  });
});

describe("WriteTxnMarkers v1", () => {
  it("writes abort markers with the producer's epoch and coordinator epoch", () => {
    const body = encodeWriteTxnMarkersRequest([
      {
        producerId: 4n,
        producerEpoch: 0,
        coordinatorEpoch: 2,
        topics: [{ topic: "out", partitions: [0, 1] }],
      },
    ]);
    const expected = Buffer.concat([
      noTags,
      Buffer.from([2]), // one marker
      int64(4n),
      int16(0),
      Buffer.from([0]), // the result: abort
      Buffer.from([2]),
      compactString("out"),
      Buffer.from([3]),
      int32(0),
      int32(1),
      noTags,
      int32(2),
      noTags,
      noTags,
    ]);
    expect(body.toString("hex")).toBe(expected.toString("hex"));
  });

  it("reads one error code per partition", () => {
    const payload = Buffer.concat([
      noTags,
      Buffer.from([2]),
      int64(4n),
      Buffer.from([2]),
      compactString("out"),
      Buffer.from([3]),
      int32(0),
      int16(0),
      noTags,
      int32(1),
      int16(31),
      noTags,
      noTags,
      noTags,
      noTags,
    ]);
    expect(decodeWriteTxnMarkersResponse(payload)).toEqual([
      { topic: "out", partition: 0, errorCode: 0 },
      { topic: "out", partition: 1, errorCode: 31 },
    ]);
  });
});

describe("openTransactionsOf", () => {
  const state = (producerId: bigint, start: bigint, coordinatorEpoch = 1, producerEpoch = 0) => ({
    producerId,
    producerEpoch,
    coordinatorEpoch,
    currentTxnStartOffset: start,
  });

  it("keeps only the producer's own open transactions, on partitions that answered", () => {
    const described: DescribedPartition[] = [
      {
        topic: "out",
        partition: 0,
        errorCode: 0,
        errorMessage: null,
        producers: [state(4n, 10n), state(5n, 3n)],
      },
      { topic: "out", partition: 1, errorCode: 0, errorMessage: null, producers: [state(4n, -1n)] },
      { topic: "out", partition: 2, errorCode: 6, errorMessage: null, producers: [state(4n, 8n)] },
      { topic: "log", partition: 0, errorCode: 0, errorMessage: null, producers: [state(4n, 0n, -1, 2)] },
    ];
    expect(openTransactionsOf(4n, described)).toEqual<OpenTransaction[]>([
      { topic: "out", partition: 0, producerId: 4n, producerEpoch: 0, coordinatorEpoch: 1, firstOffset: 10n },
      // Never marked by a coordinator there (-1): the marker carries 0, which the partition accepts.
      { topic: "log", partition: 0, producerId: 4n, producerEpoch: 2, coordinatorEpoch: 0, firstOffset: 0n },
    ]);
    expect(openTransactionsOf(6n, described)).toEqual([]);
  });

  it("groups the aborts by epochs, each partition under its own topic", () => {
    const open = (topic: string, partition: number, producerEpoch: number, coordinatorEpoch: number) => ({
      topic,
      partition,
      producerId: 4n,
      producerEpoch,
      coordinatorEpoch,
      firstOffset: 1n,
    });
    expect(
      abortMarkersFor([
        open("out", 0, 0, 1),
        open("log", 1, 0, 1),
        open("out", 2, 0, 1),
        open("out", 1, 0, 2),
      ]),
    ).toEqual([
      {
        producerId: 4n,
        producerEpoch: 0,
        coordinatorEpoch: 1,
        topics: [
          { topic: "out", partitions: [0, 2] },
          { topic: "log", partitions: [1] },
        ],
      },
      { producerId: 4n, producerEpoch: 0, coordinatorEpoch: 2, topics: [{ topic: "out", partitions: [1] }] },
    ]);
  });
});
