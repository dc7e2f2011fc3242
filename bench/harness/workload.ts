// Seeded benchmark inputs in the original formats: customers as connector ZADDs, risk events as the app writes them.

import { commandClassName } from "../../src/core/connector/command-record.js";
import { encodeBase64 } from "../../src/core/formats/base64.js";
import { formatJavaDouble } from "../../src/core/formats/java-double.js";

/** A small, fast, seeded PRNG (xorshift32): the same seed gives the same workload. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

export const benchEmail = (index: number) => `Bench.Customer${index}@test.com`;

/** The index in a bench customer's email; undefined for any other text. */
export function benchCustomerIndex(email: string): number | undefined {
  const digits = /^Bench\.Customer(0|[1-9]\d{0,8})@test\.com$/.exec(email)?.[1];
  return digits === undefined ? undefined : Number(digits);
}

/** The `redis-server` record of one customer, byte-compatible with the Redis source connector. */
export function customerRecord(index: number, birthYear: number): string {
  const member = `{"customerName":"Bench Customer${index}","email":"${benchEmail(index)}","phone":"8015551212","birthDay":"${birthYear}-01-01"}`;
  const entries = `[{"element":"${encodeBase64(member)}","score":0.0}]`;
  return `{"key":"Q3VzdG9tZXI=","existType":"NONE","ch":false,"incr":false,"zSetEntries":${entries},"zsetEntries":${entries}}`;
}

export const customerBirthYear = (index: number) => 1937 + (index % 29);

/**
 * The record key the connector gives a ZADD (its command's class name; contracts §1). stedi ignores
 * keys and the bench's customer records have none, except when Kafka Streams runs: Kafka Streams
 * skips null-key records when it bootstraps a global store through a processor.
 */
export const customerRecordKey = commandClassName("ZAddCommand");

/** One risk event for a random known customer, as `stedi simulate` (and the STEDI app) writes it. */
export function riskEventRecord(
  random: () => number,
  customers: number,
  time: number,
): { email: string; value: string } {
  const index = Math.floor(random() * customers);
  const score = Math.round((random() * 80 - 40) * 2) / 2;
  const email = benchEmail(index);
  return {
    email,
    value: `{"customer":"${email}","score":${formatJavaDouble(score)},"riskDate":"${new Date(time).toISOString()}"}`,
  };
}

/** Scores of latency probes carry the event's sequence number: score = seq / 100, unique within a run. */
export const scoreOfSequence = (seq: number): number => seq / 100;

/**
 * The risk event with sequence number `seq`: a random known customer, and `seq` encoded in the score
 * so that the joined output (which keeps the score but not the input's headers) can be matched to it.
 */
export function sequencedEventRecord(
  random: () => number,
  customers: number,
  seq: number,
  time: number,
): string {
  const email = benchEmail(Math.floor(random() * customers));
  return `{"customer":"${email}","score":${formatJavaDouble(scoreOfSequence(seq))},"riskDate":"${new Date(time).toISOString()}"}`;
}

/** The sequence number in a joined record's score string; undefined when it is not one. */
export function sequenceOfScore(score: string): number | undefined {
  const value = Number(score);
  if (!Number.isFinite(value) || value < 0) return undefined;
  const seq = Math.round(value * 100);
  return Math.abs(seq / 100 - value) < 1e-9 ? seq : undefined;
}

/**
 * The `score` field of a record's JSON without parsing the rest: a joined record's string score, or a
 * risk event's number (what the copy-only pipe passes through). Undefined when absent.
 */
export function scoreOfGraphRecord(json: string): string | undefined {
  return /"score":(?:"([^"]*)"|([-0-9.eE+]+))/
    .exec(json)
    ?.slice(1)
    .find((part) => part !== undefined);
}
