// Decodes `redis-server` records (the Redis source connector's JSON, contracts §1) into customers.

import { type Customer, decodeCustomer, parseJson } from "../customers/customer.js";
import { decodeBase64Text } from "../formats/base64.js";
import { accept, type Decoded, reject } from "../result.js";

export const customerSetKey = "Customer";

/**
 * What one connector record means to stedi:
 * - `customers`: a ZADD to `Customer`, or a snapshot of that sorted set; every entry decoded (bad
 *   entries listed in `rejected`);
 * - `skipped`: a record that is not a customer write (other keys, other commands, snapshots of
 *   other types).
 */
export type RedisRecord =
  | { kind: "customers"; customers: Customer[]; rejected: string[] }
  | { kind: "skipped"; reason: string };

type ZSetEntry = { element?: unknown; score?: unknown };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isSortedSetSnapshot = (record: Record<string, unknown>) =>
  "valueRdbType" in record &&
  Array.isArray(record.value) &&
  record.value.every((entry) => isObject(entry) && "element" in entry);

/**
 * Decodes one record value. Rejects what cannot be a connector record at all (not JSON, not an
 * object, a key that is not base64 text); a Customer ZADD with no usable entry is rejected too,
 * with every entry's reason.
 */
export function decodeRedisRecord(text: string): Decoded<RedisRecord> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const record = json.value;
  if (!isObject(record)) return reject("record is not a JSON object");
  if (!("key" in record)) return accept({ kind: "skipped", reason: "no key (not a single-key command)" });
  if (typeof record.key !== "string") return reject("key is not a base64 string");
  const key = decodeBase64Text(record.key);
  if (key === undefined) return reject("key is not valid base64 UTF-8");
  if (key !== customerSetKey) return accept({ kind: "skipped", reason: `key ${key}` });
  // A ZADD carries zSetEntries; a snapshot of the whole sorted set (after a full resync, or with
  // redis-source --snapshot) carries the same {element, score} entries as its value.
  const entries =
    record.zSetEntries ?? record.zsetEntries ?? (isSortedSetSnapshot(record) ? record.value : undefined);
  if (entries === undefined)
    return accept({ kind: "skipped", reason: "Customer record without zSetEntries" });
  if (!Array.isArray(entries)) return reject("zSetEntries is not an array");

  const customers: Customer[] = [];
  const rejected: string[] = [];
  entries.forEach((entry: ZSetEntry, index) => {
    const element = isObject(entry) ? entry.element : undefined;
    const text = typeof element === "string" ? decodeBase64Text(element) : undefined;
    if (text === undefined) {
      rejected.push(`zSetEntries[${index}].element is not valid base64 UTF-8`);
      return;
    }
    const customer = decodeCustomer(text);
    if (customer.ok) customers.push(customer.value);
    else rejected.push(`zSetEntries[${index}]: ${customer.reason}`);
  });
  if (customers.length === 0 && rejected.length > 0) return reject(rejected.join("; "));
  return accept({ kind: "customers", customers, rejected });
}
