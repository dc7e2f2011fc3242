// Dead letters: the original record, untouched, with headers that say where it came from and why.

import type { SourcePosition } from "./join-state.js";

export type RecordBytes = {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
};

export const deadLetterHeaders = {
  reason: "stedi.dlq.reason",
  topic: "stedi.dlq.topic",
  partition: "stedi.dlq.partition",
  offset: "stedi.dlq.offset",
} as const;

/** The record to write to the dead-letter topic: same key and value, original headers kept. */
export function toDeadLetter(record: RecordBytes, from: SourcePosition, reason: string): RecordBytes {
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [deadLetterHeaders.reason]: reason,
      [deadLetterHeaders.topic]: from.topic,
      [deadLetterHeaders.partition]: String(from.partition),
      [deadLetterHeaders.offset]: from.offset,
    },
  };
}
