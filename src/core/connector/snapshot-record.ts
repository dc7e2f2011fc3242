// The records of a snapshot: one per key of the RDB, in the shape the original connector published
// for redis-replicator's KeyValuePair events (contracts §1, "Snapshot records").

import type { RdbEntry } from "../redis/rdb.js";
import type { ConnectorRecord } from "./command-record.js";
import { bean, JavaObject, type JavaValue, writeJava } from "./jackson.js";

const datatypePackage = "com.moilioncircle.redis.replicator.rdb.datatype.";

const classNames = {
  string: "KeyStringValueString",
  list: "KeyStringValueList",
  set: "KeyStringValueSet",
  zset: "KeyStringValueZSet",
  hash: "KeyStringValueHash",
} as const;

function javaValue(value: Exclude<RdbEntry["value"], { type: "unsupported" }>): JavaValue {
  switch (value.type) {
    case "string":
      return value.value;
    case "list":
    case "set":
      return value.value;
    case "zset":
      return value.value.map(({ element, score }) => bean({ element, score }));
    case "hash":
      // A Map<byte[], byte[]>: field names as base64, like every other byte array.
      return new JavaObject(value.value.map(([field, text]) => [field.toString("base64"), text]));
  }
}

/**
 * One snapshot record for an RDB entry; undefined for values the connector cannot show (streams,
 * modules). Field order is KeyValuePair's: its fields, then the getters expiredSeconds (Java's
 * `(int)` of expiredValue, truncation included) and expiredMs.
 */
export function encodeSnapshotRecord(entry: RdbEntry): ConnectorRecord | undefined {
  if (entry.value.type === "unsupported") return undefined;
  const expiredValue = entry.expiry?.value ?? null;
  const value = bean({
    db: bean({ dbNumber: BigInt(entry.db.dbNumber), dbsize: entry.db.dbsize, expires: entry.db.expires }),
    valueRdbType: BigInt(entry.valueRdbType),
    expiredType: entry.expiry?.type ?? "NONE",
    expiredValue,
    evictType: entry.evict?.type ?? "NONE",
    evictValue: entry.evict?.value ?? null,
    key: entry.key,
    value: javaValue(entry.value),
    expiredSeconds: expiredValue === null ? null : BigInt.asIntN(32, expiredValue),
    expiredMs: expiredValue,
  });
  return { key: `${datatypePackage}${classNames[entry.value.type]}`, value: writeJava(value) };
}

/**
 * The largest snapshot record (key and value bytes) published whole: one record must fit a produce
 * request of the Kafka port (768 KiB) and so the broker's default 1 MiB record batch.
 */
export const maxSnapshotRecordBytes = 700_000;

type Collection = Extract<RdbEntry["value"], { type: "list" | "set" | "zset" | "hash" }>;

const isCollection = (value: RdbEntry["value"]): value is Collection =>
  value.type === "list" || value.type === "set" || value.type === "zset" || value.type === "hash";

const withItems = (value: Collection, from: number, to: number): Collection =>
  ({ ...value, value: value.value.slice(from, to) }) as Collection;

const recordBytes = (record: ConnectorRecord) =>
  Buffer.byteLength(record.key) + Buffer.byteLength(record.value);

/**
 * The snapshot records of an RDB entry: one, as the original connector wrote, unless it would exceed
 * `maxBytes` (the broker would refuse it). Then a collection's items are split, in order, over
 * consecutive records of the same shape, each a snapshot of a part of the key: readers that take
 * every entry (the join upserts customers) see the same customers. What cannot be split — a string,
 * or one item, over the limit — is left out and counted. No records for unsupported values.
 */
export function encodeSnapshotRecords(
  entry: RdbEntry,
  maxBytes = maxSnapshotRecordBytes,
): { records: ConnectorRecord[]; leftOut: number } {
  const whole = encodeSnapshotRecord(entry);
  if (!whole) return { records: [], leftOut: 0 };
  const size = recordBytes(whole);
  if (size <= maxBytes) return { records: [whole], leftOut: 0 };
  const { value } = entry;
  if (!isCollection(value) || value.value.length < 2) return { records: [], leftOut: 1 };
  // Equal parts by count, as many as the size calls for; a part still too large is split again.
  const items = value.value.length;
  const parts = Math.min(items, Math.ceil(size / maxBytes) + 1);
  const records: ConnectorRecord[] = [];
  let leftOut = 0;
  for (let part = 0; part < parts; part += 1) {
    const from = Math.floor((part * items) / parts);
    const to = Math.floor(((part + 1) * items) / parts);
    if (from === to) continue;
    const split = encodeSnapshotRecords({ ...entry, value: withItems(value, from, to) }, maxBytes);
    records.push(...split.records);
    leftOut += split.leftOut;
  }
  return { records, leftOut };
}
