// The join's fast path over customer records. Reading the customer topic is most of the join's
// start-up; the general decoder (redis-record.ts) parses two JSON documents and builds objects per
// record. The connector writes a Customer ZADD in one fixed compact layout, and the STEDI app a
// customer in one fixed key order, so those are recognised by a single pass over the record's bytes
// that builds no strings at all. Whatever the scan does not recognise in full goes to the general
// decoder, which accepts exactly the same documents: a record the scan accepts is valid JSON by
// construction and decodes there to the same emails and birth years.

import { isRealDate } from "./calendar.js";

const ascii = (text: string) => Buffer.from(text, "latin1");

const recordStart = ascii('{"key":"Q3VzdG9tZXI=","existType":"');
const existTypes = [ascii('NONE","ch":'), ascii('NX","ch":'), ascii('XX","ch":')];
const trueText = ascii("true");
const falseText = ascii("false");
const incrField = ascii(',"incr":');
const entriesField = ascii(',"zSetEntries":');
const sameEntriesField = ascii(',"zsetEntries":');
const elementStart = ascii('{"element":"');
const scoreField = ascii('","score":');
const customerStart = ascii('{"customerName":"');
const emailField = ascii('","email":"');
const phoneField = ascii('","phone":"');
const birthDayField = ascii('","birthDay":"');

const quote = 0x22;
const backslash = 0x5c;

/** Index after `literal` if `bytes` hold it at `at`, else -1. */
function expect(bytes: Uint8Array, at: number, literal: Uint8Array): number {
  if (at < 0 || at + literal.length > bytes.length) return -1;
  for (let i = 0; i < literal.length; i += 1) if (bytes[at + i] !== literal[i]) return -1;
  return at + literal.length;
}

/** Index after the byte `code` at `at`, else -1. */
const expectByte = (bytes: Uint8Array, at: number, code: number) =>
  at >= 0 && bytes[at] === code ? at + 1 : -1;

/** Index of the quote closing a plain string (printable ASCII, no escapes) that starts at `at`, else -1. */
function plainStringEnd(bytes: Uint8Array, at: number, end: number): number {
  if (at < 0) return -1;
  for (let i = at; i < end; i += 1) {
    const code = bytes[i] as number;
    if (code === quote) return i;
    if (code < 0x20 || code >= 0x7f || code === backslash) return -1;
  }
  return -1;
}

const isDigit = (code: number | undefined) => code !== undefined && code >= 0x30 && code <= 0x39;

/** Index after a JSON number starting at `at`, else -1. */
function numberEnd(bytes: Uint8Array, at: number): number {
  if (at < 0) return -1;
  let i = at;
  if (bytes[i] === 0x2d) i += 1;
  if (bytes[i] === 0x30) i += 1;
  else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i += 1;
  else return -1;
  if (bytes[i] === 0x2e) {
    i += 1;
    if (!isDigit(bytes[i])) return -1;
    while (isDigit(bytes[i])) i += 1;
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i += 1;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i += 1;
    if (!isDigit(bytes[i])) return -1;
    while (isDigit(bytes[i])) i += 1;
  }
  return i;
}

/** Index after `true` or `false` at `at`, else -1. */
const booleanEnd = (bytes: Uint8Array, at: number) => {
  const afterTrue = expect(bytes, at, trueText);
  return afterTrue >= 0 ? afterTrue : expect(bytes, at, falseText);
};

/** Base64 digit values by character code; -1 for anything else. */
const base64Values = new Int8Array(128).fill(-1);
for (const [index, character] of [
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
].entries())
  base64Values[character.charCodeAt(0)] = index;

/**
 * Decodes canonical padded base64 from `bytes` at `at` up to a closing quote into `out` at
 * `outAt`. Returns the quote's index and the end of the decoded bytes, or undefined.
 */
function decodeBase64String(
  bytes: Uint8Array,
  at: number,
  out: Uint8Array,
  outAt: number,
): { end: number; outEnd: number } | undefined {
  let i = at;
  let o = outAt;
  for (;;) {
    const a = base64Values[bytes[i] as number] ?? -1;
    if (a < 0) break;
    const b = base64Values[bytes[i + 1] as number] ?? -1;
    if (b < 0) return undefined;
    const thirdCode = bytes[i + 2];
    const fourthCode = bytes[i + 3];
    const c = base64Values[thirdCode as number] ?? -1;
    const d = base64Values[fourthCode as number] ?? -1;
    if (o + 3 > out.length) return undefined;
    out[o++] = (a << 2) | (b >> 4);
    if (c < 0) {
      // "xx==": one byte, and the string ends here.
      if (thirdCode !== 0x3d || fourthCode !== 0x3d) return undefined;
      i += 4;
      break;
    }
    out[o++] = ((b & 0xf) << 4) | (c >> 2);
    if (d < 0) {
      // "xxx=": two bytes, and the string ends here.
      if (fourthCode !== 0x3d) return undefined;
      i += 4;
      break;
    }
    out[o++] = ((c & 0x3) << 6) | d;
    i += 4;
  }
  return bytes[i] === quote ? { end: i, outEnd: o } : undefined;
}

/** Reads `digits` ASCII digits at `at` as a number, or -1. */
function digitsAt(bytes: Uint8Array, at: number, digits: number): number {
  let value = 0;
  for (let i = at; i < at + digits; i += 1) {
    const code = bytes[i];
    if (!isDigit(code)) return -1;
    value = value * 10 + (code as number) - 0x30;
  }
  return value;
}

/** Where a customer's email lies in a decoded buffer, and its birth year. */
type ScannedCustomer = { emailStart: number; emailEnd: number; birthYear: number };

/**
 * A customer in the STEDI app's layout,
 * `{"customerName":"…","email":"…","phone":"…","birthDay":"yyyy-MM-dd"}`, in `bytes[start, end)`,
 * with plain strings, a non-empty email and a real date; undefined for anything else.
 */
function scanCustomer(bytes: Uint8Array, start: number, end: number): ScannedCustomer | undefined {
  let at = expect(bytes, start, customerStart);
  at = plainStringEnd(bytes, at, end);
  at = expect(bytes, at, emailField);
  const emailStart = at;
  at = plainStringEnd(bytes, at, end);
  if (at <= emailStart) return undefined;
  const emailEnd = at;
  at = expect(bytes, at, phoneField);
  at = plainStringEnd(bytes, at, end);
  at = expect(bytes, at, birthDayField);
  if (at < 0 || at + 12 !== end || bytes[at + 10] !== quote || bytes[at + 11] !== 0x7d) return undefined;
  if (bytes[at + 4] !== 0x2d || bytes[at + 7] !== 0x2d) return undefined;
  const year = digitsAt(bytes, at, 4);
  const month = digitsAt(bytes, at + 5, 2);
  const day = digitsAt(bytes, at + 8, 2);
  if (year < 0 || month < 0 || day < 0 || !isRealDate(year, month, day)) return undefined;
  return { emailStart, emailEnd, birthYear: year };
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
  let at = expect(bytes, 0, recordStart);
  if (at < 0) return false;
  const existType = existTypes.find((candidate) => expect(bytes, at, candidate) >= 0);
  if (existType === undefined) return false;
  at = booleanEnd(bytes, at + existType.length);
  at = expect(bytes, at, incrField);
  at = booleanEnd(bytes, at);
  at = expect(bytes, at, entriesField);
  const entriesStart = at;
  at = expectByte(bytes, at, 0x5b);
  const customers: ScannedCustomer[] = [];
  let decodedEnd = 0;
  for (;;) {
    at = expect(bytes, at, elementStart);
    if (at < 0) return false;
    const decoded = decodeBase64String(bytes, at, scratch, decodedEnd);
    if (decoded === undefined) return false;
    const customer = scanCustomer(scratch, decodedEnd, decoded.outEnd);
    if (customer === undefined) return false;
    customers.push(customer);
    decodedEnd = decoded.outEnd;
    at = expect(bytes, decoded.end, scoreField);
    at = numberEnd(bytes, at);
    at = expectByte(bytes, at, 0x7d);
    if (at < 0) return false;
    if (bytes[at] === 0x5d) break;
    at = expectByte(bytes, at, 0x2c);
  }
  at += 1;
  const entriesEnd = at;
  at = expect(bytes, at, sameEntriesField);
  const length = entriesEnd - entriesStart;
  if (at < 0 || at + length + 1 !== bytes.length || bytes[bytes.length - 1] !== 0x7d) return false;
  for (let i = 0; i < length; i += 1) if (bytes[at + i] !== bytes[entriesStart + i]) return false;
  for (const { emailStart, emailEnd, birthYear } of customers)
    found(scratch.subarray(emailStart, emailEnd), birthYear);
  return true;
}
