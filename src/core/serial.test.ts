import { describe, expect, it } from "vitest";
import { createSerial } from "./serial.js";

describe("createSerial", () => {
  it("runs steps one at a time, in call order, even after a failure", async () => {
    const serial = createSerial();
    const trace: string[] = [];
    const step = (name: string, ms: number, fail = false) =>
      serial(async () => {
        trace.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        trace.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step("a", 20), step("b", 1, true), step("c", 1)]);
    expect(trace).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });
});
