import { describe, expect, it } from "vitest";
import {
  explainOutputCounts,
  parseSetupOutput,
  parseSparkReport,
  processGroupOf,
  residentBytesOf,
} from "./spark.js";

describe("parseSetupOutput", () => {
  it("takes the last python= and jars= lines", () => {
    const out = "noise\npython=/a/venv/bin/python\njars=/j/a.jar,/j/b.jar\n";
    expect(parseSetupOutput(out)).toEqual({ python: "/a/venv/bin/python", jars: ["/j/a.jar", "/j/b.jar"] });
  });
  it("fails clearly without them", () => {
    expect(() => parseSetupOutput("python=/x\n")).toThrow(/python= and jars=/);
  });
});

describe("processGroupOf", () => {
  it.each([
    ["4242 (java) S 4200 4200 4200 0 -1", 4200],
    ["17 (weird ) name) R 1 9 9 0", 9],
    ["garbage", undefined],
  ])("%s", (stat, group) => {
    expect(processGroupOf(stat)).toBe(group);
  });
});

describe("residentBytesOf", () => {
  it("reads VmRSS in bytes, 0 when absent", () => {
    expect(residentBytesOf("Name:\tjava\nVmHWM:\t  900 kB\nVmRSS:\t  512 kB\n")).toBe(512 * 1024);
    expect(residentBytesOf("Name:\tkthreadd\n")).toBe(0);
  });
});

describe("parseSparkReport", () => {
  it("reads join.py's harness lines and ignores the rest", () => {
    expect(parseSparkReport("stedi-spark started 1700000000123")).toEqual({
      event: "started",
      time: 1700000000123,
    });
    expect(parseSparkReport("26/11/23 WARN Utils: something")).toBeUndefined();
  });
});

describe("explainOutputCounts", () => {
  it.each([
    [{ stedi: 100, spark: 100, sparkTimedOut: false }, /^same count/],
    [{ stedi: 100, spark: 110, sparkTimedOut: false }, /10 more: .*every customer record/],
    [{ stedi: 100, spark: 90, sparkTimedOut: true }, /10 fewer: .*timeout/],
    [{ stedi: 100, spark: 90, sparkTimedOut: false }, /10 fewer: .*zSetEntries\[0\]/],
  ])("%o", (counts, expected) => {
    expect(explainOutputCounts(counts)).toMatch(expected);
  });
});
