// The join's changelog: events waiting for their customer, and how far customer dead letters have gone,
// written in the same transaction as the outputs so that a restart restores exactly what was committed.

import type { RecordBytes } from "./dead-letter.js";

/** An event waiting for its customer, as stored: enough to join it later or dead-letter it unchanged. */
export type StoredPending = {
  offset: string;
  email: string;
  score: number;
  since: number;
  record: RecordBytes;
};

export type PendingLogEntry =
  | { kind: "waiting"; event: StoredPending }
  | { kind: "resolved"; offset: string }
  | { kind: "dead-letter-mark"; partition: number; nextOffset: string }
  | { kind: "position"; nextOffset: string }
  | { kind: "unknown"; key: string };

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

const toBase64 = (value: Buffer | string) =>
  (typeof value === "string" ? Buffer.from(value) : value).toString("base64");

function encodeHeaders(headers: RecordBytes["headers"]): Record<string, string | string[]> {
  const encoded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    encoded[name] = Array.isArray(value) ? value.map(toBase64) : toBase64(value);
  }
  return encoded;
}

function decodeHeaders(encoded: unknown): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  if (typeof encoded !== "object" || encoded === null) return headers;
  for (const [name, value] of Object.entries(encoded)) {
    if (typeof value === "string") headers[name] = Buffer.from(value, "base64");
    else if (Array.isArray(value)) headers[name] = value.map((item) => Buffer.from(String(item), "base64"));
  }
  return headers;
}

export const waitingKey = (offset: string) => `event:${offset}`;
export const positionKey = "position";
export const deadLetterMarkKey = (partition: number) => `redis-dlq:${partition}`;

/** The changelog record that stores a waiting event (key, value). */
export function encodeWaiting(event: StoredPending): { key: string; value: string } {
  return {
    key: waitingKey(event.offset),
    value: JSON.stringify({
      email: event.email,
      score: event.score,
      since: event.since,
      key: event.record.key === null ? null : event.record.key.toString("base64"),
      value: event.record.value === null ? null : event.record.value.toString("base64"),
      headers: encodeHeaders(event.record.headers),
    }),
  };
}

/** The tombstone that marks a waiting event as joined or dead-lettered. */
export const encodeResolved = (offset: string): { key: string; value: null } => ({
  key: waitingKey(offset),
  value: null,
});

/** How far the customer topic's bad records have been dead-lettered (the next offset to consider). */
export const encodeDeadLetterMark = (partition: number, nextOffset: string) => ({
  key: deadLetterMarkKey(partition),
  value: nextOffset,
});

/**
 * The next input offset, written in every transaction that consumes input. The group's committed
 * offset says the same, but an offset fetch right after a failover can return the offset before a
 * transaction that has just completed (Kafka's fix, fetching only stable offsets, is a protocol
 * version stedi's Kafka client does not speak); the changelog, read to its end, cannot.
 */
export const encodePosition = (nextOffset: string) => ({ key: positionKey, value: nextOffset });

/** Reads one changelog record back. Unknown keys are reported, not fatal: a newer stedi may add kinds. */
export function decodePendingLogEntry(key: string, value: Buffer | null): PendingLogEntry {
  if (key.startsWith("event:")) {
    const offset = key.slice("event:".length);
    if (value === null) return { kind: "resolved", offset };
    const stored = JSON.parse(value.toString("utf8")) as {
      email: string;
      score: number;
      since: number;
      key: string | null;
      value: string | null;
      headers?: unknown;
    };
    return {
      kind: "waiting",
      event: {
        offset,
        email: stored.email,
        score: stored.score,
        since: stored.since,
        record: {
          key: stored.key === null ? null : Buffer.from(stored.key, "base64"),
          value: stored.value === null ? null : Buffer.from(stored.value, "base64"),
          headers: decodeHeaders(stored.headers),
        },
      },
    };
  }
  if (key === positionKey && value !== null) return { kind: "position", nextOffset: value.toString() };
  if (key.startsWith("redis-dlq:") && value !== null) {
    return {
      kind: "dead-letter-mark",
      partition: Number(key.slice("redis-dlq:".length)),
      nextOffset: value.toString(),
    };
  }
  return { kind: "unknown", key };
}

/**
 * The state a changelog partition describes, replayed in order: waiting events by offset and the
 * customer dead-letter marks. Pure, so a restore is the same whoever does it.
 */
export class PendingLogReplica {
  readonly waiting = new Map<string, StoredPending>();
  readonly deadLetterMarks = new Map<number, string>();
  /** The next input offset as of the last committed transaction, if any. */
  position: string | undefined;

  apply(entry: PendingLogEntry): void {
    if (entry.kind === "position") this.position = entry.nextOffset;
    if (entry.kind === "waiting") this.waiting.set(entry.event.offset, entry.event);
    else if (entry.kind === "resolved") this.waiting.delete(entry.offset);
    else if (entry.kind === "dead-letter-mark") this.deadLetterMarks.set(entry.partition, entry.nextOffset);
  }
}
