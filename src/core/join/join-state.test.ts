import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { decodeCustomer } from "../customers/customer.js";
import { CustomerTable } from "../customers/customer-table.js";
import { encodeGraphRecord } from "../graph/graph-record.js";
import { JoinState } from "./join-state.js";
import {
  type EventOrigin,
  type InputRecord,
  isEmpty,
  type JoinEffects,
  stepCustomersArrived,
  stepEvents,
  stepExpiry,
  stepRestore,
} from "./join-steps.js";

const readLines = (...parts: string[]) =>
  readFileSync(dataPath(...parts), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

const wait = 60_000;
const topic = "stedi-events";

const riskEvent = (email: string, score: number) => JSON.stringify({ customer: email, score });

const inputRecord = (offset: number, value: string): InputRecord => ({
  key: null,
  value: Buffer.from(value),
  headers: {},
  offset: String(offset),
});

/** Feeds one events partition as its task does: batches in offset order, each at its own `now`. */
function eventsPartition(state: JoinState<EventOrigin>, partition = 0) {
  let next = 0;
  return (events: [email: string, score: number][], now = 0): JoinEffects =>
    stepEvents(state, {
      topic,
      partition,
      records: events.map(([email, score]) => inputRecord(next++, riskEvent(email, score))),
      from: undefined,
      now,
    });
}

/** A customer arriving as production handles it: into the shared table, then announced to the state. */
function arrive(state: JoinState<EventOrigin>, email: string, birthYear: string): JoinEffects {
  state.customers.upsert(email, birthYear);
  return stepCustomersArrived(state, [email]);
}

const summary = (effects: JoinEffects) =>
  effects.outputs.map((record) => [record.email, record.score, record.birthYear]);

describe("JoinState driven by the join's steps", () => {
  it("emits at once when the customer is already known", () => {
    const state = new JoinState<EventOrigin>(wait);
    expect(isEmpty(arrive(state, "a@test.com", "1950"))).toBe(true);
    expect(eventsPartition(state)([["a@test.com", 7]]).outputs).toEqual([
      { customer: "a@test.com", score: "7.0", email: "a@test.com", birthYear: "1950" },
    ]);
    expect(state.waitingCount).toBe(0);
  });

  it("holds events until their customer arrives, then emits each once in arrival order", () => {
    const state = new JoinState<EventOrigin>(wait);
    const send = eventsPartition(state);
    expect(send([["a@test.com", 1.5]], 0).outputs).toEqual([]);
    expect(send([["a@test.com", -2]], 10).outputs).toEqual([]);
    expect(send([["b@test.com", 3]], 20).outputs).toEqual([]);
    expect(state.waitingCount).toBe(3);
    expect(summary(arrive(state, "a@test.com", "1960"))).toEqual([
      ["a@test.com", "1.5", "1960"],
      ["a@test.com", "-2.0", "1960"],
    ]);
    expect(state.waitingCount).toBe(1);
    // A second arrival of the same customer releases nothing more.
    expect(isEmpty(arrive(state, "a@test.com", "1960"))).toBe(true);
  });

  it("uses the latest customer record when a customer is updated", () => {
    const state = new JoinState<EventOrigin>(wait);
    arrive(state, "a@test.com", "1950");
    arrive(state, "a@test.com", "1951");
    expect(summary(eventsPartition(state)([["a@test.com", 1]]))).toEqual([["a@test.com", "1.0", "1951"]]);
    expect(state.customers.size).toBe(1);
  });

  it.each([
    { when: "the customer is known", customerFirst: true },
    { when: "the customer arrives later", customerFirst: false },
  ])("emits one output per event, duplicates included, when $when", ({ customerFirst }) => {
    const state = new JoinState<EventOrigin>(wait);
    if (customerFirst) arrive(state, "a@test.com", "1950");
    const sent = eventsPartition(state)([
      ["a@test.com", 1],
      ["a@test.com", 1],
    ]);
    const outputs = customerFirst ? sent.outputs : arrive(state, "a@test.com", "1950").outputs;
    expect(outputs.map(encodeGraphRecord)).toEqual([
      '{"customer":"a@test.com","score":"1.0","email":"a@test.com","birthYear":"1950"}',
      '{"customer":"a@test.com","score":"1.0","email":"a@test.com","birthYear":"1950"}',
    ]);
    expect(state.waitingCount).toBe(0);
  });

  it("expires events whose customer does not arrive within the wait, and only those", () => {
    const state = new JoinState<EventOrigin>(1000);
    const send = eventsPartition(state);
    send([["gone@test.com", 1]], 0);
    send([["other@test.com", 3]], 100);
    send([["gone@test.com", 2]], 600);
    expect(isEmpty(stepExpiry(state, 999))).toBe(true);

    const first = stepExpiry(state, 1000);
    expect(first.deadLetters.map((letter) => letter.value?.toString())).toEqual([
      riskEvent("gone@test.com", 1),
    ]);
    expect(first.problems).toEqual([
      {
        where: expect.objectContaining({ topic, partition: 0, offset: "0" }),
        reason: expect.stringContaining('no customer with email "gone@test.com" within 1000 ms'),
      },
    ]);

    const second = stepExpiry(state, 1100);
    expect(second.deadLetters.map((letter) => letter.value?.toString())).toEqual([
      riskEvent("other@test.com", 3),
    ]);
    expect(state.waitingCount).toBe(1);
    expect(summary(arrive(state, "gone@test.com", "1940"))).toEqual([["gone@test.com", "2.0", "1940"]]);
  });

  type Arrival = ["customer", email: string, birthYear: string] | ["event", email: string, score: number];
  const customerA: Arrival = ["customer", "a@test.com", "1950"];
  const customerB: Arrival = ["customer", "b@test.com", "1960"];
  const events: Arrival[] = [
    ["event", "a@test.com", 1],
    ["event", "b@test.com", 2],
    ["event", "a@test.com", 3],
  ];

  it.each<{ order: string; arrivals: Arrival[] }>([
    { order: "customers first", arrivals: [customerA, customerB, ...events] },
    { order: "events first", arrivals: [...events, customerA, customerB] },
    {
      order: "interleaved",
      arrivals: [events[0], customerA, events[1], events[2], customerB] as Arrival[],
    },
  ])("gives the same outputs whichever side arrives first: $order", ({ arrivals }) => {
    const state = new JoinState<EventOrigin>(wait);
    const send = eventsPartition(state);
    const outputs = arrivals.flatMap((arrival) =>
      arrival[0] === "customer"
        ? arrive(state, arrival[1], arrival[2]).outputs
        : send([[arrival[1], arrival[2]]]).outputs,
    );
    // Each side's order decides the output order; the set of outputs must not depend on it.
    expect(outputs.map(encodeGraphRecord).sort()).toEqual([
      '{"customer":"a@test.com","score":"1.0","email":"a@test.com","birthYear":"1950"}',
      '{"customer":"a@test.com","score":"3.0","email":"a@test.com","birthYear":"1950"}',
      '{"customer":"b@test.com","score":"2.0","email":"b@test.com","birthYear":"1960"}',
    ]);
    expect(state.waitingCount).toBe(0);
  });

  it("reproduces what the seed's Spark job published in a complete real run", () => {
    const run = ["real-data", "runs", "glorian-2021-04-02"];
    const state = new JoinState<EventOrigin>(wait);
    for (const line of readLines(...run, "customer-members.jsonl")) {
      const customer = decodeCustomer(line);
      if (!customer.ok) throw new Error(customer.reason);
      expect(isEmpty(arrive(state, customer.value.email, customer.value.birthYear))).toBe(true);
    }
    const records = readLines(...run, "stedi-events.jsonl").map((line, offset) => inputRecord(offset, line));
    const effects = stepEvents(state, { topic, partition: 0, records, from: undefined, now: 0 });
    // Every event's customer was known: nothing waits and nothing is dead-lettered.
    expect(effects.problems).toEqual([]);
    expect(state.waitingCount).toBe(0);
    const outputs = effects.outputs.map(encodeGraphRecord);
    const published = readLines(...run, "stedi-graph.jsonl");
    // Spark had published all but 13 events when the capture stopped, in its own order within each
    // micro-batch: every published record must be one of ours, byte for byte, each used once.
    expect(outputs).toHaveLength(356);
    const unmatched = [...outputs];
    for (const record of published) {
      const index = unmatched.indexOf(record);
      expect(index, record).toBeGreaterThanOrEqual(0);
      unmatched.splice(index, 1);
    }
    expect(unmatched).toHaveLength(356 - 343);
  });
});

describe("JoinState sharing one customer table", () => {
  it("lets each partition's state release its own waiting events", () => {
    const table = new CustomerTable();
    const left = new JoinState<EventOrigin>(wait, table);
    const right = new JoinState<EventOrigin>(wait, table);
    eventsPartition(left, 0)([["a@test.com", 1]]);
    eventsPartition(right, 1)([["a@test.com", 2]]);
    table.upsert("a@test.com", "1950");
    expect(summary(stepCustomersArrived(left, ["a@test.com"]))).toEqual([["a@test.com", "1.0", "1950"]]);
    expect(summary(stepCustomersArrived(right, ["a@test.com"]))).toEqual([["a@test.com", "2.0", "1950"]]);
    expect(isEmpty(stepCustomersArrived(left, ["a@test.com"]))).toBe(true);
  });

  it("restores a waiting event with its original waiting time", () => {
    const state = new JoinState<EventOrigin>(1000);
    const restored = stepRestore(state, {
      topic,
      partition: 0,
      waiting: [
        {
          offset: "7",
          email: "a@test.com",
          score: 1,
          since: 500,
          record: { key: null, value: Buffer.from(riskEvent("a@test.com", 1)), headers: {} },
        },
      ],
    });
    expect(isEmpty(restored)).toBe(true);
    expect(isEmpty(stepExpiry(state, 1499))).toBe(true);
    expect(stepExpiry(state, 1500).problems.map((problem) => problem.where.offset)).toEqual(["7"]);
  });
});

describe("encodeGraphRecord", () => {
  it("escapes what JSON needs escaped, and only that", () => {
    const record = {
      customer: 'a"b\\c\u0001\u2028@x',
      score: "1.0",
      email: 'a"b\\c\u0001\u2028@x',
      birthYear: "1950",
    };
    expect(JSON.parse(encodeGraphRecord(record))).toEqual(record);
    expect(encodeGraphRecord({ customer: "é@x", score: "-2.5", email: "é@x", birthYear: "0007" })).toBe(
      '{"customer":"é@x","score":"-2.5","email":"é@x","birthYear":"0007"}',
    );
  });
});
