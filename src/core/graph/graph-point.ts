// Decodes `stedi-graph` records (contracts §3) into the points the risk graph plots.

import { z } from "zod";
import { describeIssues, parseJson } from "../customers/customer.js";
import { accept, type Decoded, reject } from "../result.js";

/** One plotted point: x is the birth year, y the risk score change. */
export type GraphPoint = { x: number; y: number; customer: string; email: string };

// Java's Double.toString forms ("28.5", "-0.0", "1.0E7") and plain decimals; not "NaN", "0x1A" or "".
const decimalText = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const yearText = /^\d{4}$/;

const scoreSchema = z.union([z.number(), z.string()], {
  error: "score must be a number or a numeric string",
});
const birthYearSchema = z.union([z.number(), z.string()], {
  error: "birthYear must be a year or a year string",
});

// The seed writes strings; captured runs of the original also carry score as a JSON number.
export const graphRecordSchema = z.object({
  customer: z.string().min(1, "customer is empty"),
  score: scoreSchema,
  email: z.string().optional(),
  birthYear: birthYearSchema,
});

function scoreOf(value: number | string): number | undefined {
  const number =
    typeof value === "number" ? value : decimalText.test(value.trim()) ? Number(value) : Number.NaN;
  return Number.isFinite(number) ? number : undefined;
}

function yearOf(value: number | string): number | undefined {
  if (typeof value === "number")
    return Number.isInteger(value) && value >= 0 && value <= 9999 ? value : undefined;
  return yearText.test(value) ? Number(value) : undefined;
}

/**
 * Decodes one record of the graph topic, whatever its key order. A missing email falls back to the
 * customer (which the join sets to the email anyway). Rejects with the reason when the record cannot
 * be plotted: not JSON, no customer, a score that is not a finite number, a birth year that is not
 * four digits.
 */
export function decodeGraphPoint(text: string): Decoded<GraphPoint> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const parsed = graphRecordSchema.safeParse(json.value);
  if (!parsed.success) return reject(`graph record ${describeIssues(parsed.error)}`);
  const { customer, email, score, birthYear } = parsed.data;
  const y = scoreOf(score);
  if (y === undefined) return reject(`graph record score is not a finite number: ${JSON.stringify(score)}`);
  const x = yearOf(birthYear);
  if (x === undefined) return reject(`graph record birthYear is not a year: ${JSON.stringify(birthYear)}`);
  return accept({ x, y, customer, email: email ?? customer });
}
