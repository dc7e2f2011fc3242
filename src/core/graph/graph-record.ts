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
