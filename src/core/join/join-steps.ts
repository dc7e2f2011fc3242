// The join's decisions, one step at a time: what a batch of risk events, arriving customers, the
// passing of time or a take-over make a partition's task write, in one transaction. Deterministic:
// each step reads and updates only the state it is given, and takes time as an argument.

import type { GraphRecord } from "../graph/graph-record.js";
import { decodeRiskScore } from "../risk-events/risk-event.js";
import { type RecordBytes, toDeadLetter } from "./dead-letter.js";
import type { JoinOutput, JoinState, SourcePosition } from "./join-state.js";
import {
  encodeDeadLetterMark,
  encodePosition,
  encodeResolved,
  encodeWaiting,
  type StoredPending,
} from "./pending-log.js";

/** Where a risk event came from, kept while it waits so that it can be dead-lettered with its bytes. */
export type EventOrigin = SourcePosition & { record: RecordBytes };

/** An input record as read from its partition. */
export type InputRecord = RecordBytes & { offset: string };

/** A bad record of the customer topic, dead-lettered by the owner of events partition 0. */
export type BadCustomerRecord = { position: SourcePosition; record: RecordBytes; reason: string };

/** A record of the changelog partition of the task that writes it. */
export type ChangelogRecord = { key: string; value: string | null };

/** What one step makes a task write, all in one transaction. */
export type JoinEffects = {
  outputs: GraphRecord[];
  deadLetters: RecordBytes[];
  changelog: ChangelogRecord[];
  /** The next input offset, committed with the transaction; only steps that consume input set it. */
  nextOffset?: string;
  /** Input records consumed. */
  events: number;
  /** Why each dead letter of bad input was written, for the user. */
  problems: { where: SourcePosition; reason: string }[];
};

const noEffects = (): JoinEffects => ({
  outputs: [],
  deadLetters: [],
  changelog: [],
  events: 0,
  problems: [],
});

/** True when a step has nothing to write (no transaction is needed). */
export const isEmpty = (effects: JoinEffects): boolean =>
  effects.outputs.length === 0 &&
  effects.deadLetters.length === 0 &&
  effects.changelog.length === 0 &&
  effects.nextOffset === undefined;

const bytesOf = (record: RecordBytes): RecordBytes => ({
  key: record.key,
  value: record.value,
  headers: record.headers,
});

/**
 * Joins a fetched batch of one risk-event partition: outputs for known customers, dead letters for
 * records that are not risk events, waiting entries for events whose customer is unknown, and the
 * next offset. Records below `from` were committed before (a consumer's position may be older than
 * the task's) and are skipped; when every record is, nothing is written.
 */
export function stepEvents(
  state: JoinState<EventOrigin>,
  input: {
    topic: string;
    partition: number;
    records: readonly InputRecord[];
    from: string | undefined;
    now: number;
  },
): JoinEffects {
  const { topic, partition, records, now } = input;
  const effects = noEffects();
  // A batch is in offset order: the skip stops at the first record to process (about one
  // comparison per batch, so exact int64 comparison costs nothing).
  let first = 0;
  if (input.from !== undefined) {
    const from = BigInt(input.from);
    while (first < records.length && BigInt((records[first] as InputRecord).offset) < from) first += 1;
  }
  const last = records.at(-1);
  if (last === undefined || first === records.length) return effects;
  for (let index = first; index < records.length; index += 1) {
    const record = records[index] as InputRecord;
    const decoded = decodeRiskScore(record.value);
    if (!decoded.ok) {
      const where = { topic, partition, offset: record.offset };
      effects.problems.push({ where, reason: decoded.reason });
      effects.deadLetters.push(toDeadLetter(bytesOf(record), where, decoded.reason));
      continue;
    }
    const { customer: email, score } = decoded.value;
    const joined = state.joinNow(email, score);
    if (joined !== undefined) {
      effects.outputs.push(joined);
      continue;
    }
    const origin: EventOrigin = { topic, partition, offset: record.offset, record: bytesOf(record) };
    state.hold({ email, score, origin, since: now });
    effects.changelog.push(encodeWaiting(storedOf(origin, email, score, now)));
  }
  effects.events = records.length - first;
  effects.nextOffset = String(BigInt(last.offset) + 1n);
  effects.changelog.push(encodePosition(effects.nextOffset));
  return effects;
}

const storedOf = (origin: EventOrigin, email: string, score: number, since: number): StoredPending => ({
  offset: origin.offset,
  email,
  score,
  since,
  record: origin.record,
});

/** Outputs of released waiting events, and the tombstones that resolve them in the changelog. */
function released(outputs: JoinOutput<EventOrigin>[]): JoinEffects {
  const effects = noEffects();
  for (const { record, origin } of outputs) {
    effects.outputs.push(record);
    effects.changelog.push(encodeResolved(origin.offset));
  }
  return effects;
}

/** Joins the events waiting for customers that have just arrived in the table. */
export function stepCustomersArrived(state: JoinState<EventOrigin>, emails: readonly string[]): JoinEffects {
  // Nothing waits in the common case: the arrivals are not walked for nothing.
  if (state.waitingCount === 0) return noEffects();
  return released(emails.flatMap((email) => state.release(email)));
}

/**
 * Takes over a partition's committed waiting events (from its changelog), and joins at once those
 * whose customer the table knows by now.
 */
export function stepRestore(
  state: JoinState<EventOrigin>,
  input: { topic: string; partition: number; waiting: readonly StoredPending[] },
): JoinEffects {
  for (const stored of input.waiting) {
    state.hold({
      email: stored.email,
      score: stored.score,
      since: stored.since,
      origin: {
        topic: input.topic,
        partition: input.partition,
        offset: stored.offset,
        record: stored.record,
      },
    });
  }
  return released(state.releaseKnown());
}

/** Dead-letters the events that have waited longer than the wait bound at `now`. */
export function stepExpiry(state: JoinState<EventOrigin>, now: number): JoinEffects {
  const effects = noEffects();
  for (const { event, reason } of state.expire(now)) {
    effects.problems.push({ where: event.origin, reason });
    effects.deadLetters.push(toDeadLetter(event.origin.record, event.origin, reason));
    effects.changelog.push(encodeResolved(event.origin.offset));
  }
  return effects;
}

/**
 * Dead-letters the customer topic's bad records at or past the marks (the next offset per customer
 * partition that no earlier owner dead-lettered), and moves the marks in the same transaction.
 * Returns the effects and the marks as they are once committed.
 */
export function stepCustomerDeadLetters(
  marks: ReadonlyMap<number, string>,
  records: readonly BadCustomerRecord[],
): { effects: JoinEffects; marks: Map<number, string> } {
  const effects = noEffects();
  const next = new Map(marks);
  for (const { position, record, reason } of records) {
    if (BigInt(position.offset) < BigInt(marks.get(position.partition) ?? "0")) continue;
    effects.deadLetters.push(toDeadLetter(record, position, reason));
    const after = String(BigInt(position.offset) + 1n);
    if (BigInt(after) > BigInt(next.get(position.partition) ?? "0")) next.set(position.partition, after);
  }
  for (const [partition, offset] of next) {
    if (marks.get(partition) !== offset) effects.changelog.push(encodeDeadLetterMark(partition, offset));
  }
  return { effects, marks: next };
}
