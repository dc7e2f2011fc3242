import { describe, expect, it } from "vitest";
import { renderStatus, stageRates } from "./demo-status.js";

describe("the demo status line", () => {
  it("shows totals and per-second rates between readings", () => {
    const first = { at: 1000, records: { "simulate → stedi-events": 10, "join → stedi-graph": 0 } };
    const second = { at: 3000, records: { "simulate → stedi-events": 30, "join → stedi-graph": 5 } };
    expect(stageRates(undefined, first).map((stage) => stage.perSecond)).toEqual([0, 0]);
    const rates = stageRates(first, second);
    expect(rates).toEqual([
      { name: "simulate → stedi-events", total: 30, perSecond: 10 },
      { name: "join → stedi-graph", total: 5, perSecond: 2.5 },
    ]);
    expect(renderStatus(rates)).toBe(
      "records: simulate → stedi-events 30 (10.0/s) · join → stedi-graph 5 (2.50/s)",
    );
  });

  it("counts a stage missing from the earlier reading from zero, and never shows a negative rate", () => {
    const before = { at: 0, records: { "join → stedi-graph": 50 } };
    const now = { at: 10_000, records: { "join → stedi-graph": 40, "dead letters": 1234 } };
    const rates = stageRates(before, now);
    expect(rates).toEqual([
      { name: "join → stedi-graph", total: 40, perSecond: 0 },
      { name: "dead letters", total: 1234, perSecond: 123.4 },
    ]);
    expect(renderStatus(rates)).toBe("records: join → stedi-graph 40 (0.00/s) · dead letters 1234 (123/s)");
  });

  it("averages over a whole run for the closing line", () => {
    const started = { at: 0, records: { "simulate → stedi-events": 0, "join → stedi-graph": 0 } };
    const end = { at: 60_000, records: { "simulate → stedi-events": 600, "join → stedi-graph": 598 } };
    expect(renderStatus(stageRates(started, end))).toBe(
      "records: simulate → stedi-events 600 (10.0/s) · join → stedi-graph 598 (9.97/s)",
    );
  });
});
