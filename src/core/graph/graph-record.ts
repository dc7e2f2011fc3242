// The joined record the risk graph plots, on `stedi-graph` (contracts §3): string values, keyed by email.

import { formatJavaDouble } from "../formats/java-double.js";

export type GraphRecord = { customer: string; score: string; email: string; birthYear: string };

export function toGraphRecord(email: string, score: number, birthYear: string): GraphRecord {
  return { customer: email, score: formatJavaDouble(score), email, birthYear };
}

// Characters JSON must escape; emails and scores almost never hold one, so quoting is usually enough.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON escapes.
const needsEscape = /["\\\u0000-\u001f\u2028\u2029]/;
const quote = (text: string) => (needsEscape.test(text) ? JSON.stringify(text) : `"${text}"`);

/** The exact bytes the seed's job wrote: fields in the order customer, score, email, birthYear. */
export const encodeGraphRecord = (record: GraphRecord): string => {
  const email = quote(record.email);
  const customer = record.customer === record.email ? email : quote(record.customer);
  return `{"customer":${customer},"score":${quote(record.score)},"email":${email},"birthYear":${quote(record.birthYear)}}`;
};

// The record's bytes around its four values, in encodeGraphRecord's order.
const open = '{"customer":"';
const afterCustomer = '","score":"';
const afterScore = '","email":"';
const afterEmail = '","birthYear":"';
const close = '"}';
const fixedBytes = open.length + afterCustomer.length + afterScore.length + afterEmail.length + close.length;

// Printable ASCII but the two characters JSON escapes: one byte each, written as they are.
const plainAscii = /^[\u0020\u0021\u0023-\u005b\u005d-\u007e]*$/;

const isPlain = (record: GraphRecord) =>
  plainAscii.test(record.email) &&
  (record.customer === record.email || plainAscii.test(record.customer)) &&
  plainAscii.test(record.score) &&
  plainAscii.test(record.birthYear);

/**
 * encodeGraphRecord for many records at once, as views of one buffer: the same bytes, without
 * building a string per record (the join writes hundreds of thousands a second, and each string is
 * garbage as soon as the Produce request holds its bytes).
 */
export function encodeGraphRecords(records: readonly GraphRecord[]): Buffer[] {
  // Values to escape, or not ASCII, take encodeGraphRecord's path.
  const texts = records.map((record) => (isPlain(record) ? undefined : encodeGraphRecord(record)));
  let size = 0;
  for (let index = 0; index < records.length; index += 1) {
    const record = records[index] as GraphRecord;
    const text = texts[index];
    size +=
      text === undefined
        ? fixedBytes +
          record.customer.length +
          record.score.length +
          record.email.length +
          record.birthYear.length
        : Buffer.byteLength(text);
  }
  const arena = Buffer.allocUnsafe(size);
  const values: Buffer[] = new Array(records.length);
  let at = 0;
  for (let index = 0; index < records.length; index += 1) {
    const record = records[index] as GraphRecord;
    const start = at;
    const text = texts[index];
    if (text === undefined) {
      at += arena.write(open, at, "latin1");
      at += arena.write(record.customer, at, "latin1");
      at += arena.write(afterCustomer, at, "latin1");
      at += arena.write(record.score, at, "latin1");
      at += arena.write(afterScore, at, "latin1");
      at += arena.write(record.email, at, "latin1");
      at += arena.write(afterEmail, at, "latin1");
      at += arena.write(record.birthYear, at, "latin1");
      at += arena.write(close, at, "latin1");
    } else {
      at += arena.write(text, at, "utf8");
    }
    values[index] = arena.subarray(start, at);
  }
  return values;
}
