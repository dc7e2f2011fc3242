// The join's fast path over customer records. Reading the customer topic is most of the join's
// start-up; the general decoder (redis-record.ts) parses two JSON documents and builds objects per
// record. The connector writes a Customer ZADD in one fixed compact layout, and the STEDI app a
// customer in one fixed key order, so those are recognised by a single pass over the record's bytes
// that builds no strings at all. Whatever the scan does not recognise in full goes to the general
// decoder, which accepts exactly the same documents: a record the scan accepts is valid JSON by
// construction and decodes there to the same emails and birth years.

import { decodeBase64Into } from "../formats/base64.js";
import {
  ascii,
  booleanEnd,
  byteEnd,
  dateYearAt,
  literalEnd,
  numberEnd,
  plainStringEnd,
} from "../formats/json-scan.js";

const recordStart = ascii('{"key":"Q3VzdG9tZXI=","existType":"');
const existTypes = [ascii('NONE","ch":'), ascii('NX","ch":'), ascii('XX","ch":')];
const incrField = ascii(',"incr":');
const entriesField = ascii(',"zSetEntries":');
const sameEntriesField = ascii(',"zsetEntries":');
const elementStart = ascii('{"element":"');
const scoreField = ascii('","score":');
const customerStart = ascii('{"customerName":"');
const emailField = ascii('","email":"');
const phoneField = ascii('","phone":"');
const birthDayField = ascii('","birthDay":"');

/** Where a customer's email lies in a decoded buffer, and its birth year. */
type ScannedCustomer = { emailStart: number; emailEnd: number; birthYear: number };

/**
 * A customer in the STEDI app's layout,
 * `{"customerName":"…","email":"…","phone":"…","birthDay":"yyyy-MM-dd"}`, in `bytes[start, end)`,
 * with plain strings, a non-empty email and a real date; undefined for anything else.
 */
function scanCustomer(bytes: Uint8Array, start: number, end: number): ScannedCustomer | undefined {
  let at = literalEnd(bytes, start, customerStart);
  at = plainStringEnd(bytes, at, end);
  at = literalEnd(bytes, at, emailField);
  const emailStart = at;
  at = plainStringEnd(bytes, at, end);
  if (at <= emailStart) return undefined;
  const emailEnd = at;
  at = literalEnd(bytes, at, phoneField);
  at = plainStringEnd(bytes, at, end);
  at = literalEnd(bytes, at, birthDayField);
  // yyyy-MM-dd, its closing quote and the end of the object
  if (at < 0 || at + 12 !== end || bytes[at + 10] !== 0x22 || bytes[at + 11] !== 0x7d) return undefined;
  const birthYear = dateYearAt(bytes, at);
  return birthYear < 0 ? undefined : { emailStart, emailEnd, birthYear };
}

/** Decoded customers of the record being scanned; reused, since the join scans one record at a time. */
let scratch = new Uint8Array(4096);

/**
 * Calls `found` with each customer of a Customer ZADD in the connector's compact layout — every
 * entry a customer in the app's layout, and `zsetEntries` the same array again — and returns true;
 * returns false without calling it for anything else (then the general decoder decides). The email
 * handed to `found` is a view of a reused buffer, valid only during the call.
 */
export function scanCustomerZadd(
  bytes: Uint8Array,
  found: (email: Uint8Array, birthYear: number) => void,
): boolean {
  if (scratch.length < bytes.length) scratch = new Uint8Array(bytes.length * 2);
  let at = literalEnd(bytes, 0, recordStart);
  if (at < 0) return false;
  const existType = existTypes.find((candidate) => literalEnd(bytes, at, candidate) >= 0);
  if (existType === undefined) return false;
  at = booleanEnd(bytes, at + existType.length);
  at = literalEnd(bytes, at, incrField);
  at = booleanEnd(bytes, at);
  at = literalEnd(bytes, at, entriesField);
  const entriesStart = at;
  at = byteEnd(bytes, at, 0x5b);
  const customers: ScannedCustomer[] = [];
  let decodedEnd = 0;
  for (;;) {
    at = literalEnd(bytes, at, elementStart);
    if (at < 0) return false;
    const decoded = decodeBase64Into(bytes, at, scratch, decodedEnd);
    if (decoded === undefined) return false;
    const customer = scanCustomer(scratch, decodedEnd, decoded.outEnd);
    if (customer === undefined) return false;
    customers.push(customer);
    decodedEnd = decoded.outEnd;
    at = literalEnd(bytes, decoded.end, scoreField);
    // Validated only, over the whole grammar: the general decoder ignores the score's value, and
    // JSON.parse reads any number, however large (to ±Infinity) or small (to 0).
    at = numberEnd(bytes, at);
    at = byteEnd(bytes, at, 0x7d);
    if (at < 0) return false;
    if (bytes[at] === 0x5d) break;
    at = byteEnd(bytes, at, 0x2c);
  }
  at += 1;
  const entriesEnd = at;
  at = literalEnd(bytes, at, sameEntriesField);
  const length = entriesEnd - entriesStart;
  if (at < 0 || at + length + 1 !== bytes.length || bytes[bytes.length - 1] !== 0x7d) return false;
  for (let i = 0; i < length; i += 1) if (bytes[at + i] !== bytes[entriesStart + i]) return false;
  for (const { emailStart, emailEnd, birthYear } of customers)
    found(scratch.subarray(emailStart, emailEnd), birthYear);
  return true;
}
