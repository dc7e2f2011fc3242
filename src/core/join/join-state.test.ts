import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { decodeCustomer } from "../customers/customer.js";
import { encodeGraphRecord } from "../graph/graph-record.js";
import { decodeRiskEvent } from "../risk-events/risk-event.js";
import { JoinState } from "./join-state.js";

const readLines = (...parts: string[]) =>
  readFileSync(dataPath(...parts), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

const wait = 60_000;

describe("JoinState", () => {
  it("emits at once when the customer is already known", () => {
    const join = new JoinState<number>(wait);
    expect(join.upsertCustomer("a@test.com", "1950")).toEqual([]);
    expect(join.addRiskEvent("a@test.com", 7, 1, 0)).toEqual({
      record: { customer: "a@test.com", score: "7.0", email: "a@test.com", birthYear: "1950" },
      origin: 1,
    });
    expect(join.waitingCount).toBe(0);
  });

  it("holds events until their customer arrives, then emits each once in arrival order", () => {
    const join = new JoinState<number>(wait);
    expect(join.addRiskEvent("a@test.com", 1.5, 1, 0)).toBeUndefined();
    expect(join.addRiskEvent("a@test.com", -2, 2, 10)).toBeUndefined();
    expect(join.addRiskEvent("b@test.com", 3, 3, 20)).toBeUndefined();
    expect(join.waitingCount).toBe(3);
    const released = join.upsertCustomer("a@test.com", "1960");
    expect(released.map((output) => [output.origin, output.record.score, output.record.birthYear])).toEqual([
      [1, "1.5", "1960"],
      [2, "-2.0", "1960"],
    ]);
    expect(join.waitingCount).toBe(1);
    // A second arrival of the same customer releases nothing more.
    expect(join.upsertCustomer("a@test.com", "1960")).toEqual([]);
  });

  it("uses the latest customer record when a customer is updated", () => {
    const join = new JoinState<number>(wait);
    join.upsertCustomer("a@test.com", "1950");
    join.upsertCustomer("a@test.com", "1951");
    expect(join.addRiskEvent("a@test.com", 1, 1, 0)?.record.birthYear).toBe("1951");
    expect(join.customerCount).toBe(1);
  });

  it("emits one output per event, duplicates included", () => {
    const join = new JoinState<number>(wait);
    join.upsertCustomer("a@test.com", "1950");
    const first = join.addRiskEvent("a@test.com", 1, 1, 0);
    const second = join.addRiskEvent("a@test.com", 1, 2, 0);
    expect([first?.origin, second?.origin]).toEqual([1, 2]);
  });

  it("expires events whose customer does not arrive within the wait, and only those", () => {
    const join = new JoinState<string>(1000);
    join.addRiskEvent("gone@test.com", 1, "old", 0);
    join.addRiskEvent("gone@test.com", 2, "young", 600);
    join.addRiskEvent("other@test.com", 3, "other", 100);
    expect(join.expire(999)).toEqual([]);
    const expired = join.expire(1000);
    expect(expired.map((entry) => entry.event.origin)).toEqual(["old"]);
    expect(expired[0]?.reason).toContain('no customer with email "gone@test.com" within 1000 ms');
    expect(join.expire(1100).map((entry) => entry.event.origin)).toEqual(["other"]);
    expect(join.waitingEvents().map((event) => event.origin)).toEqual(["young"]);
    expect(join.waitingCount).toBe(1);
    expect(join.upsertCustomer("gone@test.com", "1940").map((output) => output.origin)).toEqual(["young"]);
  });

  it("gives the same outputs whichever side arrives first", () => {
    const customers: [string, string][] = [
      ["a@test.com", "1950"],
      ["b@test.com", "1960"],
    ];
    const events: [string, number][] = [
      ["a@test.com", 1],
      ["b@test.com", 2],
      ["a@test.com", 3],
    ];
    const customersFirst = new JoinState<number>(wait);
    for (const [email, year] of customers) customersFirst.upsertCustomer(email, year);
    const fromCustomersFirst = events.map(([email, score], index) =>
      customersFirst.addRiskEvent(email, score, index, 0),
    );

    const eventsFirst = new JoinState<number>(wait);
    for (const [index, [email, score]] of events.entries()) eventsFirst.addRiskEvent(email, score, index, 0);
    const fromEventsFirst = customers.flatMap(([email, year]) => eventsFirst.upsertCustomer(email, year));

    const sortByOrigin = (outputs: ({ origin: number } | undefined)[]) =>
      [...outputs].sort((left, right) => (left?.origin ?? 0) - (right?.origin ?? 0));
    expect(sortByOrigin(fromEventsFirst)).toEqual(sortByOrigin(fromCustomersFirst));
  });

  it("reproduces what the seed's Spark job published in a complete real run", () => {
    const run = ["real-data", "runs", "glorian-2021-04-02"];
    const join = new JoinState<number>(wait);
    for (const line of readLines(...run, "customer-members.jsonl")) {
      const customer = decodeCustomer(line);
      if (!customer.ok) throw new Error(customer.reason);
      join.upsertCustomer(customer.value.email, customer.value.birthYear);
    }
    const outputs = readLines(...run, "stedi-events.jsonl").map((line, index) => {
      const event = decodeRiskEvent(line);
      if (!event.ok) throw new Error(event.reason);
      const output = join.addRiskEvent(event.value.customer, event.value.score, index, 0);
      if (!output) throw new Error(`no customer for ${line}`);
      return encodeGraphRecord(output.record);
    });
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
  it("lets each partition's state release its own waiting events", async () => {
    const { CustomerTable } = await import("../customers/customer-table.js");
    const table = new CustomerTable();
    const left = new JoinState<string>(wait, table);
    const right = new JoinState<string>(wait, table);
    left.addRiskEvent("a@test.com", 1, "left", 0);
    right.addRiskEvent("a@test.com", 2, "right", 0);
    table.upsert("a@test.com", "1950");
    expect(left.release("a@test.com").map((output) => output.origin)).toEqual(["left"]);
    expect(right.releaseKnown().map((output) => output.origin)).toEqual(["right"]);
    expect(left.release("a@test.com")).toEqual([]);
  });

  it("restores a waiting event with its original waiting time", () => {
    const state = new JoinState<string>(1000);
    state.hold({ email: "a@test.com", score: 1, origin: "restored", since: 500 });
    expect(state.expire(1499)).toEqual([]);
    expect(state.expire(1500).map((entry) => entry.event.origin)).toEqual(["restored"]);
  });
});

describe("encodeGraphRecord", () => {
  it("escapes what JSON needs escaped, and only that", async () => {
    const { encodeGraphRecord } = await import("../graph/graph-record.js");
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
