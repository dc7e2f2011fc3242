import { describe, expect, it } from "vitest";
import {
  decodePendingLogEntry,
  encodeDeadLetterMark,
  encodePosition,
  encodeResolved,
  encodeWaiting,
  PendingLogReplica,
  type StoredPending,
} from "./pending-log.js";

const event: StoredPending = {
  offset: "42",
  email: "late@test.com",
  score: -2.5,
  since: 1700000000000,
  record: {
    key: Buffer.from([0, 1, 2, 255]),
    value: Buffer.from('{"customer":"late@test.com","score":-2.5}'),
    headers: { trace: "t" },
  },
};

const roundTrip = (record: { key: string; value: string | null }) =>
  decodePendingLogEntry(record.key, record.value === null ? null : Buffer.from(record.value));

describe("the pending-event changelog", () => {
  it("stores a waiting event with its original bytes and reads it back", () => {
    const decoded = roundTrip(encodeWaiting(event));
    expect(decoded).toEqual({
      kind: "waiting",
      event: { ...event, record: { ...event.record, headers: { trace: Buffer.from("t") } } },
    });
  });

  it("keeps a record without key or value", () => {
    const decoded = roundTrip(encodeWaiting({ ...event, record: { key: null, value: null } }));
    expect(decoded).toMatchObject({ kind: "waiting", event: { record: { key: null, value: null } } });
  });

  it("replays puts, tombstones and marks into the committed state", () => {
    const replica = new PendingLogReplica();
    for (const record of [
      encodeWaiting(event),
      encodeWaiting({ ...event, offset: "43" }),
      encodeResolved("42"),
      encodeDeadLetterMark(0, "10"),
      encodeDeadLetterMark(0, "12"),
      encodePosition("44"),
    ]) {
      replica.apply(roundTrip(record));
    }
    expect([...replica.waiting.keys()]).toEqual(["43"]);
    expect(replica.deadLetterMarks.get(0)).toBe("12");
    expect(replica.position).toBe("44");
  });

  it("reports keys it does not know", () => {
    expect(decodePendingLogEntry("other:1", Buffer.from("x"))).toEqual({ kind: "unknown", key: "other:1" });
  });
});
