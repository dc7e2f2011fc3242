import { describe, expect, it } from "vitest";
import { JoinState } from "./join-state.js";
import {
  type BadCustomerRecord,
  type ChangelogRecord,
  type EventOrigin,
  type InputRecord,
  isEmpty,
  stepCustomerDeadLetters,
  stepCustomersArrived,
  stepEvents,
  stepExpiry,
  stepRestore,
} from "./join-steps.js";
import { decodePendingLogEntry, type StoredPending } from "./pending-log.js";

const wait = 1000;
const topic = "stedi-events";
const known = "known@test.com";
const late = "late@test.com";

const riskEvent = (email: string, score: number) => JSON.stringify({ customer: email, score });

const inputRecord = (offset: string | number, value: string | null, headers = {}): InputRecord => ({
  key: Buffer.from(`key-${offset}`),
  value: value === null ? null : Buffer.from(value),
  headers,
  offset: String(offset),
});

/** A state whose table already knows `known` (and not `late`). */
function stateKnowing(waitMs = wait): JoinState<EventOrigin> {
  const state = new JoinState<EventOrigin>(waitMs);
  state.customers.upsert(known, "1950");
  return state;
}

const events = (
  state: JoinState<EventOrigin>,
  records: InputRecord[],
  options: { from?: string; now?: number; partition?: number } = {},
) =>
  stepEvents(state, {
    topic,
    partition: options.partition ?? 0,
    records,
    from: options.from,
    now: options.now ?? 0,
  });

/** Changelog records as a restore reads them back. */
const decoded = (changelog: ChangelogRecord[]) =>
  changelog.map(({ key, value }) => decodePendingLogEntry(key, value === null ? null : Buffer.from(value)));

/** The offsets of the waiting entries a step wrote. */
const waitingOffsets = (changelog: ChangelogRecord[]) =>
  decoded(changelog).flatMap((entry) => (entry.kind === "waiting" ? [entry.event.offset] : []));

const dlqHeaders = (reason: unknown, where: { topic: string; partition: number; offset: string }) => ({
  "stedi.dlq.reason": reason,
  "stedi.dlq.topic": where.topic,
  "stedi.dlq.partition": String(where.partition),
  "stedi.dlq.offset": where.offset,
});

describe("stepEvents", () => {
  it("writes a waiting entry per held event, with the stored event, then the position", () => {
    const state = stateKnowing();
    const held = inputRecord(11, riskEvent(late, -2.5), { trace: "t1" });
    const effects = events(
      state,
      [inputRecord(10, riskEvent(known, 1)), held, inputRecord(12, riskEvent("other@test.com", 3))],
      { now: 1234 },
    );
    expect(effects.outputs.map((record) => record.email)).toEqual([known]);
    expect(decoded(effects.changelog)).toEqual([
      {
        kind: "waiting",
        event: {
          offset: "11",
          email: late,
          score: -2.5,
          since: 1234,
          // Headers come back as bytes, which is how a dead letter writes them either way.
          record: { key: held.key, value: held.value, headers: { trace: Buffer.from("t1") } },
        },
      },
      expect.objectContaining({ kind: "waiting", event: expect.objectContaining({ offset: "12" }) }),
      { kind: "position", nextOffset: "13" },
    ]);
    expect(effects.changelog.map((entry) => entry.key)).toEqual(["event:11", "event:12", "position"]);
    expect(effects.nextOffset).toBe("13");
    expect(effects.events).toBe(3);
    expect(state.waitingCount).toBe(2);
  });

  it("writes the position even when every event joins at once", () => {
    const effects = events(stateKnowing(), [inputRecord(0, riskEvent(known, 1))]);
    expect(decoded(effects.changelog)).toEqual([{ kind: "position", nextOffset: "1" }]);
  });

  it.each<{ what: string; value: string | null }>([
    { what: "not JSON", value: "{bad" },
    { what: "no score", value: `{"customer":"${known}"}` },
    { what: "a score that is not a number", value: `{"customer":"${known}","score":"high"}` },
    { what: "an empty customer", value: '{"customer":"","score":1}' },
    { what: "no value at all", value: null },
  ])("dead-letters an event with $what, unchanged and with where and why", ({ value }) => {
    const state = stateKnowing();
    const bad = inputRecord(41, value, { trace: "t1" });
    const effects = events(state, [bad], { partition: 2 });
    const where = { topic, partition: 2, offset: "41" };
    expect(effects.problems).toEqual([{ where, reason: expect.any(String) }]);
    const reason = effects.problems[0]?.reason;
    expect(reason).not.toBe("");
    expect(effects.deadLetters).toEqual([
      { key: bad.key, value: bad.value, headers: { trace: "t1", ...dlqHeaders(reason, where) } },
    ]);
    // Consumed all the same: nothing waits and the position moves past it.
    expect(effects.outputs).toEqual([]);
    expect(decoded(effects.changelog)).toEqual([{ kind: "position", nextOffset: "42" }]);
    expect(state.waitingCount).toBe(0);
  });

  it("lists every bad record of a batch once, in offset order", () => {
    const effects = events(stateKnowing(), [
      inputRecord(0, "{bad"),
      inputRecord(1, riskEvent(known, 1)),
      inputRecord(2, "[]"),
      inputRecord(3, riskEvent(late, 1)),
    ]);
    expect(effects.problems.map((problem) => problem.where.offset)).toEqual(["0", "2"]);
    expect(effects.deadLetters.map((letter) => letter.headers?.["stedi.dlq.offset"])).toEqual(["0", "2"]);
  });

  it.each<{ from: string | undefined; processed: string[] }>([
    { from: undefined, processed: ["5", "6", "7"] },
    { from: "5", processed: ["5", "6", "7"] },
    { from: "7", processed: ["7"] },
    { from: "8", processed: [] },
    { from: "100", processed: [] },
  ])("skips the records below from = $from", ({ from, processed }) => {
    const state = stateKnowing();
    // Events for an unknown customer, so that each one processed shows as a waiting entry.
    const records = [5, 6, 7].map((offset) => inputRecord(offset, riskEvent(late, offset)));
    const effects = events(state, records, { from });
    expect(waitingOffsets(effects.changelog)).toEqual(processed);
    expect(effects.events).toBe(processed.length);
    expect(state.waitingCount).toBe(processed.length);
    // With every record skipped there is nothing to commit, not even the position.
    expect(isEmpty(effects)).toBe(processed.length === 0);
    expect(effects.nextOffset).toBe(processed.length === 0 ? undefined : "8");
  });

  it("writes nothing for an empty batch", () => {
    expect(isEmpty(events(stateKnowing(), []))).toBe(true);
  });

  it.each<{ offsets: string[]; next: string }>([
    { offsets: ["9007199254740991", "9007199254740992"], next: "9007199254740993" },
    { offsets: ["9007199254740993"], next: "9007199254740994" },
    { offsets: ["9223372036854775805", "9223372036854775806"], next: "9223372036854775807" },
  ])("keeps offsets beyond 2^53 exact: $offsets then $next", ({ offsets, next }) => {
    const effects = events(
      stateKnowing(),
      offsets.map((offset) => inputRecord(offset, riskEvent(late, 1))),
    );
    expect(effects.nextOffset).toBe(next);
    expect(waitingOffsets(effects.changelog)).toEqual(offsets);
    expect(decoded(effects.changelog).at(-1)).toEqual({ kind: "position", nextOffset: next });
  });

  it("skips records below `from` exactly beyond 2^53, where doubles round", () => {
    const effects = events(
      stateKnowing(),
      ["9007199254740992", "9007199254740993"].map((offset) => inputRecord(offset, riskEvent(late, 1))),
      { from: "9007199254740993" },
    );
    expect(effects.events).toBe(1);
    expect(waitingOffsets(effects.changelog)).toEqual(["9007199254740993"]);
  });

  it("names an undecodable record's exact offset beyond 2^53", () => {
    const effects = events(stateKnowing(), [inputRecord("9007199254740993", "{bad")]);
    expect(effects.deadLetters[0]?.headers?.["stedi.dlq.offset"]).toBe("9007199254740993");
    expect(effects.problems.map((problem) => problem.where.offset)).toEqual(["9007199254740993"]);
  });
});

describe("stepCustomersArrived", () => {
  it("joins the events waiting for the arrivals and tombstones their waiting entries", () => {
    const state = stateKnowing();
    events(state, [
      inputRecord(0, riskEvent(late, 1)),
      inputRecord(1, riskEvent("other@test.com", 2)),
      inputRecord(2, riskEvent(late, 3)),
    ]);
    state.customers.upsert(late, "1960");
    const effects = stepCustomersArrived(state, [late]);
    expect(effects.outputs.map((record) => [record.email, record.score])).toEqual([
      [late, "1.0"],
      [late, "3.0"],
    ]);
    expect(decoded(effects.changelog)).toEqual([
      { kind: "resolved", offset: "0" },
      { kind: "resolved", offset: "2" },
    ]);
    // No input was consumed: the position and the committed offset stay where they are.
    expect(effects.nextOffset).toBeUndefined();
    expect(effects.events).toBe(0);
    expect(state.waitingCount).toBe(1);
  });

  it("has nothing to write when nothing waits for the arrivals", () => {
    const state = stateKnowing();
    events(state, [inputRecord(0, riskEvent(late, 1))]);
    state.customers.upsert("new@test.com", "1970");
    expect(isEmpty(stepCustomersArrived(state, ["new@test.com", known]))).toBe(true);
    expect(isEmpty(stepCustomersArrived(stateKnowing(), [known]))).toBe(true);
  });
});

describe("stepExpiry", () => {
  it.each<{ now: number; expired: string[] }>([
    { now: 1999, expired: [] },
    { now: 2000, expired: ["0"] },
    { now: 2499, expired: ["0"] },
    { now: 2500, expired: ["0", "1"] },
  ])("at $now dead-letters only the events overdue by then: $expired", ({ now, expired }) => {
    const state = stateKnowing();
    const records = [inputRecord(0, riskEvent(late, 1), { trace: "t0" }), inputRecord(1, riskEvent(late, 2))];
    events(state, [records[0] as InputRecord], { now: 1000 });
    events(state, [records[1] as InputRecord], { now: 1500 });
    const effects = stepExpiry(state, now);
    const reason = `no customer with email "${late}" within ${wait} ms`;
    expect(effects.problems).toEqual(
      expired.map((offset) => ({ where: expect.objectContaining({ topic, partition: 0, offset }), reason })),
    );
    expect(effects.deadLetters).toEqual(
      expired.map((offset) => {
        const original = records[Number(offset)] as InputRecord;
        const headers = { ...original.headers, ...dlqHeaders(reason, { topic, partition: 0, offset }) };
        return { key: original.key, value: original.value, headers };
      }),
    );
    expect(decoded(effects.changelog)).toEqual(expired.map((offset) => ({ kind: "resolved", offset })));
    expect(effects.nextOffset).toBeUndefined();
    expect(state.waitingCount).toBe(2 - expired.length);
    // An expired event is dead-lettered once: a later expiry does not see it again.
    expect(stepExpiry(state, now).deadLetters).toEqual([]);
  });
});

describe("stepRestore", () => {
  const stored = (offset: string, email: string, since: number): StoredPending => ({
    offset,
    email,
    score: 1,
    since,
    record: { key: Buffer.from(`key-${offset}`), value: Buffer.from(riskEvent(email, 1)), headers: {} },
  });

  it("joins the restored events whose customer is known and keeps the others with their since", () => {
    const state = stateKnowing();
    const effects = stepRestore(state, {
      topic,
      partition: 3,
      waiting: [stored("20", known, 100), stored("21", late, 200)],
    });
    expect(effects.outputs.map((record) => record.email)).toEqual([known]);
    expect(decoded(effects.changelog)).toEqual([{ kind: "resolved", offset: "20" }]);
    expect(effects.nextOffset).toBeUndefined();
    expect(state.waitingCount).toBe(1);

    // The wait runs from when the event first started waiting, not from the restore.
    expect(isEmpty(stepExpiry(state, 200 + wait - 1))).toBe(true);
    const expired = stepExpiry(state, 200 + wait);
    const where = { topic, partition: 3, offset: "21" };
    expect(expired.deadLetters).toEqual([
      {
        key: Buffer.from("key-21"),
        value: Buffer.from(riskEvent(late, 1)),
        headers: dlqHeaders(expect.any(String), where),
      },
    ]);
    expect(expired.problems.map((problem) => problem.where)).toEqual([expect.objectContaining(where)]);
  });

  it("resolves a restored event under its original offset when its customer arrives later", () => {
    const state = stateKnowing();
    expect(isEmpty(stepRestore(state, { topic, partition: 0, waiting: [stored("9", late, 0)] }))).toBe(true);
    state.customers.upsert(late, "1960");
    expect(decoded(stepCustomersArrived(state, [late]).changelog)).toEqual([
      { kind: "resolved", offset: "9" },
    ]);
  });

  it("has nothing to write when nothing is restored", () => {
    expect(isEmpty(stepRestore(stateKnowing(), { topic, partition: 0, waiting: [] }))).toBe(true);
  });
});

describe("stepCustomerDeadLetters", () => {
  const customersTopic = "redis-server";
  const bad = (partition: number, offset: string): BadCustomerRecord => ({
    position: { topic: customersTopic, partition, offset },
    record: { key: Buffer.from(`customer-${offset}`), value: Buffer.from("{bad"), headers: { trace: "t" } },
    reason: `bad customer at ${partition}:${offset}`,
  });

  it.each<{
    name: string;
    marks: [number, string][];
    records: BadCustomerRecord[];
    letters: string[];
    after: [number, string][];
  }>([
    {
      name: "with no marks, every record, marks just past each partition's last",
      marks: [],
      records: [bad(0, "3"), bad(0, "7"), bad(1, "0")],
      letters: ["0:3", "0:7", "1:0"],
      after: [
        [0, "8"],
        [1, "1"],
      ],
    },
    {
      name: "nothing below the mark, which an earlier owner dead-lettered",
      marks: [[0, "8"]],
      records: [bad(0, "3"), bad(0, "7")],
      letters: [],
      after: [[0, "8"]],
    },
    {
      name: "the records at the mark and past it",
      marks: [[0, "7"]],
      records: [bad(0, "6"), bad(0, "7"), bad(0, "9")],
      letters: ["0:7", "0:9"],
      after: [[0, "10"]],
    },
    {
      name: "per partition: a mark moves only with its own partition's records",
      marks: [
        [0, "8"],
        [1, "2"],
      ],
      records: [bad(0, "3"), bad(1, "2")],
      letters: ["1:2"],
      after: [
        [0, "8"],
        [1, "3"],
      ],
    },
    {
      name: "offsets beyond 2^53 compared exactly",
      marks: [[0, "9007199254740993"]],
      records: [bad(0, "9007199254740992"), bad(0, "9007199254740993")],
      letters: ["0:9007199254740993"],
      after: [[0, "9007199254740994"]],
    },
  ])("dead-letters $name", ({ marks, records, letters, after }) => {
    const before = new Map(marks);
    const { effects, marks: next } = stepCustomerDeadLetters(before, records);
    expect(
      effects.deadLetters.map(
        (letter) => `${letter.headers?.["stedi.dlq.partition"]}:${letter.headers?.["stedi.dlq.offset"]}`,
      ),
    ).toEqual(letters);
    expect([...next]).toEqual(after);
    // A mark entry is written only for a partition whose mark moved.
    const moved = after.filter(([partition, offset]) => before.get(partition) !== offset);
    expect(decoded(effects.changelog)).toEqual(
      moved.map(([partition, nextOffset]) => ({ kind: "dead-letter-mark", partition, nextOffset })),
    );
    expect(isEmpty(effects)).toBe(letters.length === 0);
    // The marks given are the committed ones: the step leaves them for the caller to replace.
    expect([...before]).toEqual(marks);
    // The state reader reported these records when it read them; the dead letters do not again.
    expect(effects.problems).toEqual([]);
  });

  it("writes the original record with where and why", () => {
    const record = bad(1, "4");
    const { effects } = stepCustomerDeadLetters(new Map(), [record]);
    expect(effects.deadLetters).toEqual([
      {
        key: record.record.key,
        value: record.record.value,
        headers: { trace: "t", ...dlqHeaders(record.reason, record.position) },
      },
    ]);
  });
});
