// Transactions of a writer's producer id left open on a partition after the coordinator ended them,
// found and aborted when the writer starts.
//
// A transaction ends with a marker the coordinator writes to each of its partitions. A coordinator
// that finds no leader for a partition takes it for deleted and skips its marker: a single broker
// does this to its own partitions during a controlled shutdown, when none of them has a leader. The
// transaction is then over at the coordinator but still open on the partition, and the producer's
// next commit there makes the abandoned records visible to read_committed readers.
//
// Once InitProducerId has answered, the coordinator has ended every transaction of the producer id,
// so one still open on a partition is such a leftover. The writer closes it with the marker the
// coordinator should have written, as `kafka-transactions.sh abort` does: DescribeProducers to each
// partition's leader, then WriteTxnMarkers with the producer's epoch and coordinator epoch there.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

type KafkajsEncoder = {
  writeInt8(value: number): KafkajsEncoder;
  writeInt16(value: number): KafkajsEncoder;
  writeInt32(value: number): KafkajsEncoder;
  writeInt64(value: string): KafkajsEncoder;
  writeBoolean(value: boolean): KafkajsEncoder;
  writeUVarInt(value: number): KafkajsEncoder;
  writeUVarIntString(value: string): KafkajsEncoder;
  buf: Buffer;
  offset: number;
};
type KafkajsDecoder = {
  readInt16(): number;
  readInt32(): number;
  readInt64(): bigint;
  readUVarInt(): number;
  readUVarIntString(): string | null;
  readUVarIntArray<T>(reader: (decoder: KafkajsDecoder) => T): T[] | null;
  readTaggedFields(): unknown;
};
const Encoder = require("kafkajs/src/protocol/encoder.js") as new () => KafkajsEncoder;
const Decoder = require("kafkajs/src/protocol/decoder.js") as new (buffer: Buffer) => KafkajsDecoder;

export const describeProducersApi = { apiKey: 61, apiVersion: 0, apiName: "DescribeProducers" } as const;
/** Version 1, the oldest a 4.x broker takes; version 2 only adds the transaction version (0 = this one). */
export const writeTxnMarkersApi = { apiKey: 27, apiVersion: 1, apiName: "WriteTxnMarkers" } as const;

export type TopicPartitions = { topic: string; partitions: number[] };

/** A producer's state on one partition, as DescribeProducers reports it. */
export type ProducerState = {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** The first offset of its open transaction there, -1 when none is open. */
  currentTxnStartOffset: bigint;
};

export type DescribedPartition = {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string | null;
  producers: ProducerState[];
};

/** A transaction open on one partition. */
export type OpenTransaction = {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  firstOffset: bigint;
};

/** One abort marker request entry: the same producer, epochs and partitions. */
export type AbortMarker = {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  topics: TopicPartitions[];
};

export type MarkerResult = { topic: string; partition: number; errorCode: number };

/** The body of a flexible request: the header's empty tagged fields (kafkajs writes header v1), then the fields. */
const flexibleBody = () => new Encoder().writeUVarInt(0);

const bodyBytes = (encoder: KafkajsEncoder) => encoder.buf.subarray(0, encoder.offset);

export function encodeDescribeProducersRequest(topics: readonly TopicPartitions[]): Buffer {
  const encoder = flexibleBody().writeUVarInt(topics.length + 1);
  for (const { topic, partitions } of topics) {
    encoder.writeUVarIntString(topic).writeUVarInt(partitions.length + 1);
    for (const partition of partitions) encoder.writeInt32(partition);
    encoder.writeUVarInt(0);
  }
  return bodyBytes(encoder.writeUVarInt(0));
}

/** Decodes a DescribeProducers v0 response after its correlation id (response header v1 onwards). */
export function decodeDescribeProducersResponse(payload: Buffer): DescribedPartition[] {
  const decoder = new Decoder(payload);
  decoder.readTaggedFields();
  decoder.readInt32(); // throttle time
  const described: DescribedPartition[] = [];
  decoder.readUVarIntArray((topicDecoder) => {
    const topic = topicDecoder.readUVarIntString() ?? "";
    topicDecoder.readUVarIntArray((partitionDecoder) => {
      const partition = partitionDecoder.readInt32();
      const errorCode = partitionDecoder.readInt16();
      const errorMessage = partitionDecoder.readUVarIntString();
      const producers =
        partitionDecoder.readUVarIntArray((producerDecoder): ProducerState => {
          const producerId = producerDecoder.readInt64();
          const producerEpoch = producerDecoder.readInt32();
          producerDecoder.readInt32(); // last sequence
          producerDecoder.readInt64(); // last timestamp
          const coordinatorEpoch = producerDecoder.readInt32();
          const currentTxnStartOffset = producerDecoder.readInt64();
          producerDecoder.readTaggedFields();
          return { producerId, producerEpoch, coordinatorEpoch, currentTxnStartOffset };
        }) ?? [];
      partitionDecoder.readTaggedFields();
      described.push({ topic, partition, errorCode, errorMessage, producers });
    });
    topicDecoder.readTaggedFields();
  });
  decoder.readTaggedFields();
  return described;
}

export function encodeWriteTxnMarkersRequest(markers: readonly AbortMarker[]): Buffer {
  const encoder = flexibleBody().writeUVarInt(markers.length + 1);
  for (const marker of markers) {
    encoder
      .writeInt64(marker.producerId.toString())
      .writeInt16(marker.producerEpoch)
      .writeBoolean(false) // the transaction's result: false aborts
      .writeUVarInt(marker.topics.length + 1);
    for (const { topic, partitions } of marker.topics) {
      encoder.writeUVarIntString(topic).writeUVarInt(partitions.length + 1);
      for (const partition of partitions) encoder.writeInt32(partition);
      encoder.writeUVarInt(0);
    }
    encoder.writeInt32(marker.coordinatorEpoch).writeUVarInt(0);
  }
  return bodyBytes(encoder.writeUVarInt(0));
}

/** Decodes a WriteTxnMarkers v1 response after its correlation id: one error code per partition. */
export function decodeWriteTxnMarkersResponse(payload: Buffer): MarkerResult[] {
  const decoder = new Decoder(payload);
  decoder.readTaggedFields();
  const results: MarkerResult[] = [];
  decoder.readUVarIntArray((markerDecoder) => {
    markerDecoder.readInt64(); // producer id
    markerDecoder.readUVarIntArray((topicDecoder) => {
      const topic = topicDecoder.readUVarIntString() ?? "";
      topicDecoder.readUVarIntArray((partitionDecoder) => {
        results.push({
          topic,
          partition: partitionDecoder.readInt32(),
          errorCode: partitionDecoder.readInt16(),
        });
        partitionDecoder.readTaggedFields();
      });
      topicDecoder.readTaggedFields();
    });
    markerDecoder.readTaggedFields();
  });
  decoder.readTaggedFields();
  return results;
}

/** The transactions of one producer id still open on the described partitions. */
export function openTransactionsOf(
  producerId: bigint,
  described: readonly DescribedPartition[],
): OpenTransaction[] {
  const open: OpenTransaction[] = [];
  for (const { topic, partition, errorCode, producers } of described) {
    if (errorCode !== 0) continue;
    for (const state of producers) {
      if (state.producerId !== producerId || state.currentTxnStartOffset < 0n) continue;
      open.push({
        topic,
        partition,
        producerId,
        producerEpoch: state.producerEpoch,
        // A producer that never had a marker on the partition reports -1; markers carry 0 or more.
        coordinatorEpoch: Math.max(0, state.coordinatorEpoch),
        firstOffset: state.currentTxnStartOffset,
      });
    }
  }
  return open;
}

/**
 * The abort markers that close the open transactions: one entry per producer epoch and coordinator
 * epoch, each as the partition reported it, so the marker is neither fenced by the partition nor
 * ahead of the coordinator's own later markers.
 */
export function abortMarkersFor(open: readonly OpenTransaction[]): AbortMarker[] {
  const byEpochs = new Map<string, AbortMarker>();
  for (const transaction of open) {
    const key = `${transaction.producerId}/${transaction.producerEpoch}/${transaction.coordinatorEpoch}`;
    let marker = byEpochs.get(key);
    if (marker === undefined) {
      marker = {
        producerId: transaction.producerId,
        producerEpoch: transaction.producerEpoch,
        coordinatorEpoch: transaction.coordinatorEpoch,
        topics: [],
      };
      byEpochs.set(key, marker);
    }
    addPartition(marker.topics, transaction.topic, transaction.partition);
  }
  return [...byEpochs.values()];
}

/** Adds a partition to a request's list of topics and their partitions. */
export function addPartition(topics: TopicPartitions[], topic: string, partition: number): void {
  const entry = topics.find((candidate) => candidate.topic === topic);
  if (entry) entry.partitions.push(partition);
  else topics.push({ topic, partitions: [partition] });
}
