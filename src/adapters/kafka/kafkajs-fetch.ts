// kafkajs's fetch path, replaced by kafkajs-patches.ts: the decoder of a fetched record batch and the
// Batch a consumer hands to eachBatch. Both keep kafkajs's contracts; the bytes are decoded by
// record-batch-decoding.ts.

import { createRequire } from "node:module";
import {
  containsControlRecord,
  type DecodedRecord,
  decodeRecordBatchHeader,
  decodeRecords,
  indexOfFirstAtOrAfter,
} from "./record-batch-decoding.js";

const require = createRequire(import.meta.url);

type Codec = { decompress(compressed: Buffer): Promise<Buffer> };

const { KafkaJSPartialMessageError } = require("kafkajs/src/errors.js") as {
  KafkaJSPartialMessageError: new (message: string) => Error;
};
// kafkajs's lookup, so that codecs registered with kafkajs (Snappy, LZ4, ZSTD) decompress here too.
const { lookupCodecByAttributes } = require("kafkajs/src/protocol/message/compression/index.js") as {
  lookupCodecByAttributes(attributes: number): Codec | null;
};

/** kafkajs's protocol Decoder, as far as decoding a record batch uses it. */
export type FetchDecoder = { buffer: Buffer; offset: number };

/**
 * Decodes the record batch at the decoder's offset and moves the decoder past it, as kafkajs's
 * recordBatch/v0/decoder.js does, and gives what that gives: the batch's fields and its records.
 * A batch the fetch cut off throws KafkaJSPartialMessageError after the decoder moved past it: the
 * Fetch response's decoder catches that error by name and ends the fetch's records there.
 */
export async function decodeRecordBatch(fetchDecoder: FetchDecoder) {
  const { buffer } = fetchDecoder;
  const header = decodeRecordBatchHeader(buffer, fetchDecoder.offset);
  fetchDecoder.offset = header.end;
  if (header.partial) {
    throw new KafkaJSPartialMessageError(
      `Tried to decode a partial record batch: remainingBytes(${header.available}) < recordBatchLength(${header.length})`,
    );
  }
  const codec = lookupCodecByAttributes(header.attributes);
  let records: DecodedRecord[];
  if (codec === null) {
    records = decodeRecords(buffer, header.recordsStart, header.end, header.recordCount, header);
  } else if (header.recordCount <= 0) {
    records = [];
  } else {
    const decompressed = await codec.decompress(buffer.subarray(header.recordsStart, header.end));
    records = decodeRecords(decompressed, 0, decompressed.length, header.recordCount, header);
  }
  const { context } = header;
  return {
    firstOffset: context.firstOffset,
    firstTimestamp: context.firstTimestamp,
    partitionLeaderEpoch: context.partitionLeaderEpoch,
    inTransaction: context.inTransaction,
    isControlBatch: context.isControlBatch,
    lastOffsetDelta: context.lastOffsetDelta,
    producerId: context.producerId,
    producerEpoch: context.producerEpoch,
    firstSequence: context.firstSequence,
    maxTimestamp: context.maxTimestamp,
    timestampType: context.timestampType,
    records,
  };
}

/** One partition of a Fetch response, as kafkajs decodes it. */
export type FetchedPartition = {
  partition: number;
  /** An int64 as decimal text. */
  highWatermark: string;
  messages: DecodedRecord[];
  abortedTransactions?: { producerId: string; firstOffset: string }[] | null;
};

type AbortedFilter = (args: {
  messages: DecodedRecord[];
  abortedTransactions?: FetchedPartition["abortedTransactions"];
}) => DecodedRecord[];

let abortedFilter: AbortedFilter | undefined;
/** Loaded through kafkajs's module path on first use, so that it is the filter kafkajs-patches.ts installed. */
const filterAbortedMessages: AbortedFilter = (args) => {
  abortedFilter ??= require("kafkajs/src/consumer/filterAbortedMessages.js") as AbortedFilter;
  return abortedFilter(args);
};

const isControlRecord = (record: DecodedRecord) => record.isControlRecord;

/**
 * The records of one partition's fetch, as kafkajs's consumer/batch.js gives them to eachBatch:
 * `messages` are those at or after the fetched offset (a compressed batch may start before it), minus
 * aborted transactions and control records. The records of a fetch are in offset order, so those
 * before the fetched offset are found without parsing the rest, and an array nothing is dropped from
 * is passed on as it is.
 */
export class FetchedBatch {
  readonly fetchedOffset: string;
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: string;
  readonly rawMessages: DecodedRecord[];
  readonly messagesWithinOffset: DecodedRecord[];
  readonly messages: DecodedRecord[];

  constructor(topic: string, fetchedOffset: string, partitionData: FetchedPartition) {
    this.fetchedOffset = fetchedOffset;
    const { abortedTransactions, messages } = partitionData;
    this.topic = topic;
    this.partition = partitionData.partition;
    this.highWatermark = partitionData.highWatermark;
    this.rawMessages = messages;
    // A fetch may return records before the offset asked for; Kafka's consumer drops them too.
    const first = indexOfFirstAtOrAfter(messages, String(fetchedOffset));
    this.messagesWithinOffset = first === 0 ? messages : messages.slice(first);
    const committed = filterAbortedMessages({ messages: this.messagesWithinOffset, abortedTransactions });
    this.messages = containsControlRecord(committed)
      ? committed.filter((record) => !record.isControlRecord)
      : committed;
  }

  isEmpty(): boolean {
    return this.messages.length === 0;
  }

  isEmptyIncludingFiltered(): boolean {
    return this.messagesWithinOffset.length === 0;
  }

  /** Records were fetched, but none is left for the application (control records, aborted, compacted). */
  isEmptyDueToFiltering(): boolean {
    return this.isEmpty() && this.rawMessages.length > 0;
  }

  isEmptyControlRecord(): boolean {
    return this.isEmpty() && this.messagesWithinOffset.some(isControlRecord);
  }

  /** Records were fetched, all of them before the fetched offset. */
  isEmptyDueToLogCompactedMessages(): boolean {
    return this.rawMessages.length > 0 && this.isEmptyIncludingFiltered();
  }

  firstOffset(): string | null {
    return this.isEmptyIncludingFiltered() ? null : (this.messagesWithinOffset[0] as DecodedRecord).offset;
  }

  /** The last offset this fetch covered: the fetched offset, or before the high watermark when it had none. */
  lastOffset(): string {
    if (this.isEmptyDueToLogCompactedMessages()) return this.fetchedOffset;
    if (this.isEmptyIncludingFiltered()) return String(BigInt(this.highWatermark) - 1n);
    return (this.messagesWithinOffset[this.messagesWithinOffset.length - 1] as DecodedRecord).offset;
  }

  /** How far the partition's last offset is past this batch's last offset. */
  offsetLag(): string {
    return String(BigInt(this.highWatermark) - 1n - BigInt(this.lastOffset()));
  }

  /** How far the partition's last offset is past this batch's first offset. */
  offsetLagLow(): string {
    const first = this.firstOffset();
    if (first === null) return "0";
    return String(BigInt(this.highWatermark) - 1n - BigInt(first));
  }
}
