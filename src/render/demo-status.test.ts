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
    expect(renderStatus(rates)).toBe("simulate → stedi-events 30 (10.0/s) · join → stedi-graph 5 (2.50/s)");
  });
});
