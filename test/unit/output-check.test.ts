import { describe, expect, it } from "vitest";
import { checkJoinOutput, createJoinOutputChecker, type RawRecord } from "../support/output-check.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const customer = (offset: number, email: string, birthDay: string): RawRecord => ({
  topic: "r",
  partition: 0,
  offset: String(offset),
  key: null,
  value: `{"key":"${b64("Customer")}","zSetEntries":[{"element":"${b64(JSON.stringify({ email, birthDay }))}","score":0.0}]}`,
});
const event = (offset: number, value: string): RawRecord => ({
  topic: "e",
  partition: 0,
  offset: String(offset),
  key: null,
  value,
});
const out = (value: string): RawRecord => ({ topic: "o", partition: 0, offset: "0", key: null, value });
const graph = (email: string, score: string, year: string) =>
  `{"customer":"${email}","score":"${score}","email":"${email}","birthYear":"${year}"}`;

describe("checkJoinOutput", () => {
  const customers = [customer(0, "a@t", "1950-01-01"), customer(1, "b@t", "1960-02-30")];
  const events = [
    event(0, '{"customer":"a@t","score":1.0}'),
    event(1, '{"customer":"a@t","score":1.0}'),
    event(2, '{"customer":"a@t","score":-2.5}'),
    event(3, '{"customer":"b@t","score":3}'),
    event(4, "garbage"),
  ];

  it("passes an exact output and lists the bad inputs", () => {
    const report = checkJoinOutput({
      customers,
      events,
      output: [
        out(graph("a@t", "1.0", "1950")),
        out(graph("a@t", "-2.5", "1950")),
        out(graph("a@t", "1.0", "1950")),
      ],
    });
    expect(report).toMatchObject({ expected: 3, actual: 3, lost: 0, duplicated: 0, misrouted: 0 });
    expect(report.bad).toEqual(["r[0]@1", "e[0]@3", "e[0]@4"]);
  });

  it("counts lost, duplicated and misrouted records", () => {
    const report = checkJoinOutput({
      customers,
      events,
      output: [
        out(graph("a@t", "1.0", "1950")),
        out(graph("a@t", "1.0", "1950")),
        out(graph("a@t", "1.0", "1950")),
        out(graph("a@t", "-2.5", "1951")),
      ],
    });
    expect(report).toMatchObject({ lost: 1, duplicated: 1, misrouted: 1 });
  });

  it("gives the same report fed in batches as fed whole", () => {
    const output = [
      out(graph("a@t", "1.0", "1950")),
      out(graph("a@t", "1.0", "1950")),
      out(graph("a@t", "1.0", "1950")),
      out(graph("a@t", "-2.5", "1951")),
    ];
    const checker = createJoinOutputChecker();
    checker.addCustomers(customers.slice(0, 1));
    checker.addCustomers(customers.slice(1));
    for (const record of events) checker.addEvents([record]);
    checker.addOutputs(output.slice(0, 2));
    checker.addOutputs(output.slice(2));
    expect(checker.report()).toEqual(checkJoinOutput({ customers, events, output }));
  });

  it("refuses customers after events and events after outputs: the expected lines would be wrong", () => {
    const checker = createJoinOutputChecker();
    checker.addCustomers(customers);
    checker.addEvents(events);
    expect(() => checker.addCustomers(customers)).toThrow(/customers after events/);
    checker.addOutputs([]);
    expect(() => checker.addEvents(events)).toThrow(/events after outputs/);
  });
});
