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
