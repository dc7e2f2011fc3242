// kafkajs's fetch path, replaced by kafkajs-patches.ts: the decoder of a fetched record batch. It keeps
// kafkajs's contract; the bytes are decoded by record-batch-decoding.ts.

import { createRequire } from "node:module";
import { type DecodedRecord, decodeRecordBatchHeader, decodeRecords } from "./record-batch-decoding.js";

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
