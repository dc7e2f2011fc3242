import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { decodeGraphPoint } from "./graph-point.js";

const readLines = (...parts: string[]) =>
  readFileSync(dataPath(...parts), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

describe("decodeGraphPoint", () => {
  it("decodes the contract's example", () => {
    const text =
      '{"customer":"Santosh.Fibonnaci@test.com","score":"28.5","email":"Santosh.Fibonnaci@test.com","birthYear":"1963"}';
    expect(decodeGraphPoint(text)).toEqual({
      ok: true,
      value: {
        x: 1963,
        y: 28.5,
        customer: "Santosh.Fibonnaci@test.com",
        email: "Santosh.Fibonnaci@test.com",
      },
    });
  });

  // Captured runs of the original: string and number scores, three key orders.
  it.each([
    ["real-data", "stedi-graph.jsonl"],
    ["real-data", "stedi-graph-sequence.jsonl"],
  ])("decodes every captured record in %s/%s", (...parts) => {
    const lines = readLines(...parts);
    expect(lines.length).toBeGreaterThan(50);
    for (const line of lines) {
      const raw = JSON.parse(line) as {
        customer: string;
        score: string | number;
        email: string;
        birthYear: string;
      };
      expect(decodeGraphPoint(line), line).toEqual({
        ok: true,
        value: { x: Number(raw.birthYear), y: Number(raw.score), customer: raw.customer, email: raw.email },
      });
    }
  });

  it.each([
    ["a string score", '{"customer":"a","score":"-13.5","email":"a","birthYear":"1938"}', -13.5, 1938],
    ["a number score", '{"customer":"a","score":19.5,"email":"a","birthYear":"1963"}', 19.5, 1963],
    ["keys in another order", '{"email":"a","birthYear":"1901","customer":"a","score":"0.0"}', 0, 1901],
    ["Java's exponent form", '{"customer":"a","score":"1.0E7","email":"a","birthYear":"2001"}', 1e7, 2001],
    ["negative zero", '{"customer":"a","score":"-0.0","email":"a","birthYear":"2001"}', -0, 2001],
    ["a number birth year", '{"customer":"a","score":"1","email":"a","birthYear":1950}', 1, 1950],
    ["extra fields", '{"customer":"a","score":"2.5","email":"a","birthYear":"1950","x":1}', 2.5, 1950],
  ])("accepts %s", (_name, text, y, x) => {
    expect(decodeGraphPoint(text)).toEqual({ ok: true, value: { x, y, customer: "a", email: "a" } });
  });

  it("falls back to the customer when email is missing", () => {
    expect(decodeGraphPoint('{"customer":"a@b.c","score":"1.5","birthYear":"1950"}')).toEqual({
      ok: true,
      value: { x: 1950, y: 1.5, customer: "a@b.c", email: "a@b.c" },
    });
  });

  it("keeps a customer containing HTML as plain text (rendering escapes it, not decoding)", () => {
    const customer = '<img src=x onerror="window.__pwned=1">';
    const decoded = decodeGraphPoint(
      JSON.stringify({ customer, score: "1.0", email: "e", birthYear: "1950" }),
    );
    expect(decoded).toMatchObject({ ok: true, value: { customer } });
  });

  it.each([
    ["not JSON", "Santosh", "not JSON"],
    ["null", "null", "graph record"],
    ["an array", "[]", "graph record"],
    ["no customer", '{"score":"1.0","birthYear":"1950"}', "customer"],
    ["an empty customer", '{"customer":"","score":"1.0","birthYear":"1950"}', "customer is empty"],
    ["no score", '{"customer":"a","birthYear":"1950"}', "score"],
    [
      "a word for a score",
      '{"customer":"a","score":"high","birthYear":"1950"}',
      "score is not a finite number",
    ],
    ["an empty score", '{"customer":"a","score":"","birthYear":"1950"}', "score is not a finite number"],
    ["NaN", '{"customer":"a","score":"NaN","birthYear":"1950"}', "score is not a finite number"],
    ["Infinity", '{"customer":"a","score":"Infinity","birthYear":"1950"}', "score is not a finite number"],
    ["a hex score", '{"customer":"a","score":"0x1A","birthYear":"1950"}', "score is not a finite number"],
    ["a boolean score", '{"customer":"a","score":true,"birthYear":"1950"}', "score"],
    ["no birth year", '{"customer":"a","score":"1.0"}', "birthYear"],
    [
      "a date for a birth year",
      '{"customer":"a","score":"1.0","birthYear":"1950-01-01"}',
      "birthYear is not a year",
    ],
    [
      "a fractional birth year",
      '{"customer":"a","score":"1.0","birthYear":1950.5}',
      "birthYear is not a year",
    ],
    ["a numeric email", '{"customer":"a","score":"1.0","email":7,"birthYear":"1950"}', "email"],
  ])("rejects %s", (_name, text, reason) => {
    const decoded = decodeGraphPoint(text);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toContain(reason);
  });
});
