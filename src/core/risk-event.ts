// Decodes `stedi-events` records: the STEDI app's risk scores (contracts §2).

import { z } from "zod";
import { isRealDate, yearOfDate } from "./calendar.js";
import { describeIssues, parseJson } from "./customer.js";
import { accept, type Decoded, reject } from "./result.js";

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

// Date.parse rolls 31 February over into March, so the calendar date is checked on its own.
const isInstant = (text: string) =>
  isoInstant.test(text) && yearOfDate(text.slice(0, 10)) !== undefined && !Number.isNaN(Date.parse(text));

export const riskEventSchema = z.object({
  customer: z.string().min(1, "customer is empty"),
  score: z.number(),
  riskDate: z.string().refine(isInstant, "riskDate is not an ISO-8601 instant").optional(),
});

export type RiskEvent = z.infer<typeof riskEventSchema>;

/**
 * Decodes one risk score; the customer is the email the join matches on. Valid events, the
 * common case on the join's hot path, are recognised without building a zod result; anything
 * else goes through the schema, which accepts exactly the same events and explains the rest.
 */
export function decodeRiskEvent(text: string): Decoded<RiskEvent> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const event = json.value as { customer?: unknown; score?: unknown; riskDate?: unknown } | null;
  if (
    typeof event === "object" &&
    event !== null &&
    !Array.isArray(event) &&
    typeof event.customer === "string" &&
    event.customer !== "" &&
    typeof event.score === "number" &&
    (event.riskDate === undefined || (typeof event.riskDate === "string" && isInstant(event.riskDate)))
  ) {
    return accept(
      event.riskDate === undefined
        ? { customer: event.customer, score: event.score }
        : { customer: event.customer, score: event.score, riskDate: event.riskDate },
    );
  }
  const parsed = riskEventSchema.safeParse(json.value);
  if (!parsed.success) return reject(`risk event ${describeIssues(parsed.error)}`);
  return accept(parsed.data);
}

// --- the join's fast path ------------------------------------------------------------------------

/** What the join takes from a risk event. */
export type RiskScore = { customer: string; score: number };

const eventStart = Buffer.from('{"customer":"', "latin1");
const scoreField = Buffer.from('","score":', "latin1");
const riskDateField = Buffer.from(',"riskDate":"', "latin1");

function literalAt(bytes: Uint8Array, at: number, literal: Uint8Array): number {
  if (at < 0 || at + literal.length > bytes.length) return -1;
  for (let i = 0; i < literal.length; i += 1) if (bytes[at + i] !== literal[i]) return -1;
  return at + literal.length;
}

const digit = (bytes: Uint8Array, at: number) => {
  const code = bytes[at];
  return code !== undefined && code >= 0x30 && code <= 0x39 ? code - 0x30 : -1;
};

/** A two-digit field at `at` no greater than `max`, or -1. */
function twoDigits(bytes: Uint8Array, at: number, max: number): number {
  const tens = digit(bytes, at);
  const ones = digit(bytes, at + 1);
  if (tens < 0 || ones < 0) return -1;
  const value = tens * 10 + ones;
  return value <= max ? value : -1;
}

/** Whether `bytes` hold `yyyy-MM-ddTHH:mm:ss.SSSZ` at `at`, a real UTC instant. */
function isPlainInstant(bytes: Uint8Array, at: number): boolean {
  const year =
    digit(bytes, at) * 1000 + digit(bytes, at + 1) * 100 + digit(bytes, at + 2) * 10 + digit(bytes, at + 3);
  if (Math.min(digit(bytes, at), digit(bytes, at + 1), digit(bytes, at + 2), digit(bytes, at + 3)) < 0)
    return false;
  const month = twoDigits(bytes, at + 5, 12);
  const day = twoDigits(bytes, at + 8, 31);
  return (
    bytes[at + 4] === 0x2d &&
    bytes[at + 7] === 0x2d &&
    bytes[at + 10] === 0x54 &&
    bytes[at + 13] === 0x3a &&
    bytes[at + 16] === 0x3a &&
    bytes[at + 19] === 0x2e &&
    bytes[at + 23] === 0x5a &&
    month > 0 &&
    day > 0 &&
    isRealDate(year, month, day) &&
    twoDigits(bytes, at + 11, 23) >= 0 &&
    twoDigits(bytes, at + 14, 59) >= 0 &&
    twoDigits(bytes, at + 17, 59) >= 0 &&
    Math.min(digit(bytes, at + 20), digit(bytes, at + 21), digit(bytes, at + 22)) >= 0
  );
}

/** Index after a JSON number at `at`, or -1. */
function numberEnd(bytes: Uint8Array, at: number): number {
  let i = at;
  if (bytes[i] === 0x2d) i += 1;
  if (bytes[i] === 0x30) i += 1;
  else if (digit(bytes, i) > 0) while (digit(bytes, i) >= 0) i += 1;
  else return -1;
  if (bytes[i] === 0x2e) {
    i += 1;
    if (digit(bytes, i) < 0) return -1;
    while (digit(bytes, i) >= 0) i += 1;
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i += 1;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i += 1;
    if (digit(bytes, i) < 0) return -1;
    while (digit(bytes, i) >= 0) i += 1;
  }
  return i;
}

/**
 * The STEDI app's layout, `{"customer":"…","score":N,"riskDate":"yyyy-MM-ddTHH:mm:ss.SSSZ"}` (riskDate
 * optional), with a plain ASCII customer, read without building a string for anything but the
 * customer; undefined for anything else. Everything it accepts, decodeRiskEvent accepts alike.
 */
export function scanRiskScore(bytes: Buffer): RiskScore | undefined {
  const customerStart = literalAt(bytes, 0, eventStart);
  if (customerStart < 0) return undefined;
  let at = customerStart;
  for (; at < bytes.length; at += 1) {
    const code = bytes[at] as number;
    if (code === 0x22) break;
    if (code < 0x20 || code >= 0x7f || code === 0x5c) return undefined;
  }
  if (at === customerStart || at >= bytes.length) return undefined;
  const customerEnd = at;
  const scoreStart = literalAt(bytes, at, scoreField);
  if (scoreStart < 0) return undefined;
  const scoreEnd = numberEnd(bytes, scoreStart);
  if (scoreEnd < 0) return undefined;
  if (!(scoreEnd + 1 === bytes.length && bytes[scoreEnd] === 0x7d)) {
    const dateStart = literalAt(bytes, scoreEnd, riskDateField);
    if (dateStart < 0 || dateStart + 26 !== bytes.length || !isPlainInstant(bytes, dateStart))
      return undefined;
    if (bytes[dateStart + 24] !== 0x22 || bytes[dateStart + 25] !== 0x7d) return undefined;
  }
  return {
    customer: bytes.toString("latin1", customerStart, customerEnd),
    score: Number(bytes.toString("latin1", scoreStart, scoreEnd)),
  };
}

/** A risk event's customer and score for the join: the fast path, else the general decoder. */
export function decodeRiskScore(bytes: Buffer | null): Decoded<RiskScore> {
  const scanned = bytes === null ? undefined : scanRiskScore(bytes);
  if (scanned !== undefined) return accept(scanned);
  const decoded = decodeRiskEvent(bytes?.toString("utf8") ?? "");
  return decoded.ok ? accept({ customer: decoded.value.customer, score: decoded.value.score }) : decoded;
}
