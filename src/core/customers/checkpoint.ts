// A checkpoint of the customer table: its arrays and the customer topic's position they cover, as
// bytes for a local file, and the rule that says whether a checkpoint read back may be used. A bad
// checkpoint is a value with a reason, never an exception: it costs a rebuild, never correctness.
//
// Layout (little-endian): "STEDICKP", u32 format version, u32 header length, the header (JSON:
// topic, positions, array sizes), the email chunks, the addresses (u32 each), the birth years (i16
// each), the hash index (i32 per slot), and a CRC32 of everything before it.

import { z } from "zod";
import { accept, type Decoded, reject } from "../result.js";
import { CustomerTable, type CustomerTableState, customerTableChunkSize } from "./customer-table.js";

/**
 * CRC32 (the zlib polynomial) of `data`, continuing from `previous`. Passed in rather than imported:
 * the core has no I/O and no platform modules, and node:zlib already has a fast one.
 */
export type Crc32 = (data: Uint8Array, previous?: number) => number;

/** Identifies one record of the customer topic, so that a topic deleted and recreated is noticed. */
export type RecordFingerprint = {
  offset: string;
  /** The record's timestamp, ms since the epoch as decimal text. */
  timestamp: string;
  /** CRC32 of the key and value (with their lengths, so that null, empty and a moved boundary differ). */
  hash: number;
};

/** How far the checkpoint covers one partition of the customer topic. */
export type PartitionCheckpoint = {
  partition: number;
  /** The next offset to read: the table holds everything below it (and maybe a few records after). */
  resumeAt: number;
  /** The last record the table took from this partition; absent when it took none. */
  lastRecord: RecordFingerprint | undefined;
};

export type Checkpoint = {
  /** The customer topic the table was read from. */
  topic: string;
  /** When the checkpoint was taken, ms since the epoch (for messages only). */
  takenAt: number;
  partitions: PartitionCheckpoint[];
  table: CustomerTable;
};

export const checkpointFormatVersion = 1;
const magic = new TextEncoder().encode("STEDICKP");
const prefixBytes = magic.length + 8;
const crcBytes = 4;
const hostIsLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const fingerprintSchema = z.object({
  offset: z.string().regex(/^\d+$/),
  timestamp: z.string().regex(/^-?\d+$/),
  hash: z.number().int().min(0).max(0xffffffff),
});

const headerSchema = z.object({
  topic: z.string(),
  // Within what a Date can show: the time goes into a log line.
  takenAt: z.number().int().min(0).max(8.64e15),
  littleEndian: z.boolean(),
  partitions: z.array(
    z.object({
      partition: z.number().int().min(0),
      resumeAt: z.number().int().min(0),
      lastRecord: fingerprintSchema.optional(),
    }),
  ),
  customers: z.number().int().min(0),
  chunks: z.number().int().min(0),
  lastChunkBytes: z.number().int().min(0).max(customerTableChunkSize),
  slots: z.number().int().min(0),
});

const bytesOf = (array: Uint32Array | Int16Array | Int32Array) =>
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

/** The fingerprint of a record of the customer topic. */
export function fingerprintOf(
  record: { key: Uint8Array | null; value: Uint8Array | null; offset: string; timestamp: string },
  crc32: Crc32,
): RecordFingerprint {
  const lengths = new DataView(new ArrayBuffer(8));
  lengths.setInt32(0, record.key === null ? -1 : record.key.length, true);
  lengths.setInt32(4, record.value === null ? -1 : record.value.length, true);
  let hash = crc32(new Uint8Array(lengths.buffer));
  if (record.key !== null) hash = crc32(record.key, hash);
  if (record.value !== null) hash = crc32(record.value, hash);
  return { offset: record.offset, timestamp: record.timestamp, hash };
}

/**
 * The checkpoint as parts to write one after the other (the email chunks are the table's own, not
 * copies: see CustomerTable.exportState). Their concatenation is what `decodeCheckpoint` reads.
 */
export function encodeCheckpoint(
  checkpoint: {
    topic: string;
    takenAt: number;
    partitions: PartitionCheckpoint[];
    table: CustomerTableState;
  },
  crc32: Crc32,
): Uint8Array[] {
  const { table } = checkpoint;
  const header = new TextEncoder().encode(
    JSON.stringify({
      topic: checkpoint.topic,
      takenAt: checkpoint.takenAt,
      littleEndian: hostIsLittleEndian,
      partitions: checkpoint.partitions.map(({ partition, resumeAt, lastRecord }) => ({
        partition,
        resumeAt,
        ...(lastRecord === undefined ? {} : { lastRecord }),
      })),
      customers: table.addresses.length,
      chunks: table.chunks.length,
      lastChunkBytes: table.chunks.at(-1)?.length ?? 0,
      slots: table.slots.length,
    }),
  );
  const prefix = new Uint8Array(prefixBytes);
  prefix.set(magic);
  const view = new DataView(prefix.buffer);
  view.setUint32(magic.length, checkpointFormatVersion, true);
  view.setUint32(magic.length + 4, header.length, true);
  // Empty parts are left out: node:zlib's crc32 answers 0 for a view of an empty buffer, whatever
  // the value it continues from.
  const parts = [
    prefix,
    header,
    ...table.chunks,
    bytesOf(table.addresses),
    bytesOf(table.years),
    bytesOf(table.slots),
  ].filter((part) => part.length > 0);
  let crc = 0;
  for (const part of parts) crc = crc32(part, crc);
  const trailer = new Uint8Array(crcBytes);
  new DataView(trailer.buffer).setUint32(0, crc, true);
  return [...parts, trailer];
}

/**
 * Reads a checkpoint of `topic` back. Rejects, with the reason, anything but an intact checkpoint
 * of this format and topic: truncated, wrong magic or version, checksum mismatch, another topic,
 * sizes that do not add up, arrays that do not make a table. Never throws on bad bytes.
 */
export function decodeCheckpoint(bytes: Uint8Array, topic: string, crc32: Crc32): Decoded<Checkpoint> {
  if (bytes.length < prefixBytes + crcBytes) return reject(`truncated: ${bytes.length} bytes`);
  for (let i = 0; i < magic.length; i += 1)
    if (bytes[i] !== magic[i]) return reject("not a stedi customer checkpoint (bad magic)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(magic.length, true);
  if (version !== checkpointFormatVersion)
    return reject(`format version ${version}, this stedi reads ${checkpointFormatVersion}`);
  const body = bytes.length - crcBytes;
  if (crc32(bytes.subarray(0, body)) !== view.getUint32(body, true)) return reject("checksum mismatch");

  const headerBytes = view.getUint32(magic.length + 4, true);
  if (prefixBytes + headerBytes > body) return reject("truncated header");
  let json: unknown;
  try {
    json = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(prefixBytes, prefixBytes + headerBytes),
      ),
    );
  } catch {
    return reject("unreadable header");
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) return reject("malformed header");
  const header = parsed.data;
  if (header.topic !== topic) return reject(`taken of topic ${header.topic}, not ${topic}`);
  if (header.littleEndian !== hostIsLittleEndian) return reject("written on a host of another byte order");
  if (header.chunks === 0 && header.lastChunkBytes !== 0) return reject("malformed header");

  const chunkBytes =
    header.chunks === 0 ? 0 : (header.chunks - 1) * customerTableChunkSize + header.lastChunkBytes;
  const expected = prefixBytes + headerBytes + chunkBytes + header.customers * 6 + header.slots * 4;
  if (expected !== body) return reject(`sizes do not add up: ${body} bytes, the header says ${expected}`);

  let at = prefixBytes + headerBytes;
  const chunks: Uint8Array[] = [];
  for (let index = 0; index < header.chunks; index += 1) {
    const size = index === header.chunks - 1 ? header.lastChunkBytes : customerTableChunkSize;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  // Copied into fresh arrays: the file's bytes need not be aligned for a typed-array view.
  const addresses = new Uint32Array(header.customers);
  bytesOf(addresses).set(bytes.subarray(at, at + addresses.byteLength));
  at += addresses.byteLength;
  const years = new Int16Array(header.customers);
  bytesOf(years).set(bytes.subarray(at, at + years.byteLength));
  at += years.byteLength;
  const slots = new Int32Array(header.slots);
  bytesOf(slots).set(bytes.subarray(at, at + slots.byteLength));

  const table = CustomerTable.fromState({ chunks, addresses, years, slots });
  if (!table.ok) return reject(`inconsistent table: ${table.reason}`);
  return accept({
    topic: header.topic,
    takenAt: header.takenAt,
    partitions: header.partitions.map(({ partition, resumeAt, lastRecord }) => ({
      partition,
      resumeAt,
      lastRecord,
    })),
    table: table.value,
  });
}

/** A partition's first offset and its end for read_committed readers (exclusive), as the topic has them now. */
export type TopicRange = { low: number; high: number };

/**
 * The records whose fingerprints decide whether the checkpoint still describes the topic (by
 * partition: the offset of the last record the table took), or why it cannot be used without
 * looking: partitions added or missing, positions outside what the topic holds now.
 */
export function recordsToVerify(
  partitions: readonly PartitionCheckpoint[],
  ranges: ReadonlyMap<number, TopicRange>,
): Decoded<Map<number, string>> {
  if (partitions.length !== ranges.size)
    return reject(`the topic has ${ranges.size} partitions, the checkpoint ${partitions.length}`);
  const byPartition = new Map(partitions.map((entry) => [entry.partition, entry]));
  const offsets = new Map<number, string>();
  for (const [partition, range] of ranges) {
    const entry = byPartition.get(partition);
    if (entry === undefined) return reject(`partition ${partition} is not in the checkpoint`);
    // Nothing taken from this partition: it is read whole, so nothing needs to match.
    if (entry.lastRecord === undefined) continue;
    const last = Number(entry.lastRecord.offset);
    if (entry.resumeAt > range.high || last >= range.high)
      return reject(
        `partition ${partition}: the checkpoint reaches offset ${Math.max(entry.resumeAt, last + 1)}, past the topic's end ${range.high}`,
      );
    if (entry.resumeAt < range.low || last < range.low)
      return reject(
        `partition ${partition}: records from offset ${Math.min(entry.resumeAt, last)} are gone (the topic starts at ${range.low})`,
      );
    offsets.set(partition, entry.lastRecord.offset);
  }
  return accept(offsets);
}

/**
 * Whether the checkpoint may seed the table: by partition, the offset to read the customer topic
 * from; or why it must be rebuilt from the topic. `found` holds the fingerprints of the records now
 * at the offsets `recordsToVerify` named (undefined where no record is there any more).
 */
export function decideCheckpointUse(
  partitions: readonly PartitionCheckpoint[],
  ranges: ReadonlyMap<number, TopicRange>,
  found: ReadonlyMap<number, RecordFingerprint | undefined>,
): Decoded<Map<number, number>> {
  const toVerify = recordsToVerify(partitions, ranges);
  if (!toVerify.ok) return toVerify;
  const resumeAt = new Map<number, number>();
  for (const entry of partitions) {
    const { partition, lastRecord } = entry;
    if (lastRecord === undefined) {
      resumeAt.set(partition, ranges.get(partition)?.low ?? 0);
      continue;
    }
    const now = found.get(partition);
    if (now === undefined)
      return reject(`partition ${partition}: no record at offset ${lastRecord.offset} any more`);
    if (
      now.offset !== lastRecord.offset ||
      now.timestamp !== lastRecord.timestamp ||
      now.hash !== lastRecord.hash
    )
      return reject(
        `partition ${partition}: the record at offset ${lastRecord.offset} is not the one the checkpoint was taken after (the topic was recreated?)`,
      );
    resumeAt.set(partition, entry.resumeAt);
  }
  return accept(resumeAt);
}
