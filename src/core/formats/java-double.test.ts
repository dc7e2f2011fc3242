import { describe, expect, it } from "vitest";
import { formatJavaDouble } from "./java-double.js";

describe("formatJavaDouble", () => {
  it.each([
    [0, "0.0"],
    [-0, "-0.0"],
    [7, "7.0"],
    [-31.5, "-31.5"],
    [0.17, "0.17"],
    [100, "100.0"],
    [1.5, "1.5"],
    [1e7, "1.0E7"],
    [12345678.9, "1.23456789E7"],
    [1e-4, "1.0E-4"],
    [0.001, "0.001"],
    [9999999, "9999999.0"],
    [-2.5e-5, "-2.5E-5"],
    [1e21, "1.0E21"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
  ])("%s → %s", (input, expected) => {
    expect(formatJavaDouble(input)).toBe(expected);
  });
});
