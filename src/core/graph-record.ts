// The joined record the risk graph plots, on `stedi-graph` (contracts §3): string values, keyed by email.

import { formatJavaDouble } from "./java-double.js";

export type GraphRecord = { customer: string; score: string; email: string; birthYear: string };

export function toGraphRecord(email: string, score: number, birthYear: string): GraphRecord {
  return { customer: email, score: formatJavaDouble(score), email, birthYear };
}

/** The exact bytes the seed's job wrote: fields in the order customer, score, email, birthYear. */
export const encodeGraphRecord = (record: GraphRecord): string =>
  `{"customer":${JSON.stringify(record.customer)},"score":${JSON.stringify(record.score)},"email":${JSON.stringify(record.email)},"birthYear":${JSON.stringify(record.birthYear)}}`;
