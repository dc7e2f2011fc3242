// Decodes `stedi-events` records: the STEDI app's risk scores (contracts §2).

import { z } from "zod";
import { describeIssues, parseJson } from "../customers/customer.js";
import {
  ascii,
  dateYearAt,
  digitsAt,
  literalEnd,
  plainStringEnd,
  shortNumberEnd,
  shortNumberValue,
} from "../formats/json-scan.js";
import { accept, type Decoded, reject } from "../result.js";
import { yearOfDate } from "../simulation/calendar.js";

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
    // JSON.parse turns a number too large for a double into ±Infinity, which the schema rejects.
    Number.isFinite(event.score) &&
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

const eventStart = ascii('{"customer":"');
const scoreField = ascii('","score":');
const riskDateField = ascii(',"riskDate":"');

/** A two-digit field at `at` no greater than `max`. */
const twoDigitsUpTo = (bytes: Uint8Array, at: number, max: number) => {
  const value = digitsAt(bytes, at, 2);
  return value >= 0 && value <= max;
};

/** Whether `bytes` hold `yyyy-MM-ddTHH:mm:ss.SSSZ` at `at`, a real UTC instant. */
const isPlainInstant = (bytes: Uint8Array, at: number) =>
  dateYearAt(bytes, at) >= 0 &&
  bytes[at + 10] === 0x54 &&
  twoDigitsUpTo(bytes, at + 11, 23) &&
  bytes[at + 13] === 0x3a &&
  twoDigitsUpTo(bytes, at + 14, 59) &&
  bytes[at + 16] === 0x3a &&
  twoDigitsUpTo(bytes, at + 17, 59) &&
  bytes[at + 19] === 0x2e &&
  digitsAt(bytes, at + 20, 3) >= 0 &&
  bytes[at + 23] === 0x5a;

/**
 * The STEDI app's layout, `{"customer":"…","score":N,"riskDate":"yyyy-MM-ddTHH:mm:ss.SSSZ"}` (riskDate
 * optional), with a plain ASCII customer and a short plain-decimal score (as the app writes, e.g.
 * `-12.5`); undefined for anything else. Everything it accepts, decodeRiskEvent accepts alike.
 */
export function scanRiskScore(bytes: Buffer): RiskScore | undefined {
  const customerStart = literalEnd(bytes, 0, eventStart);
  const customerEnd = plainStringEnd(bytes, customerStart);
  if (customerEnd <= customerStart) return undefined;
  const scoreStart = literalEnd(bytes, customerEnd, scoreField);
  const scoreEnd = shortNumberEnd(bytes, scoreStart);
  if (scoreEnd < 0) return undefined;
  if (!(scoreEnd + 1 === bytes.length && bytes[scoreEnd] === 0x7d)) {
    // `,"riskDate":"` then 24 characters of instant, its closing quote and the end of the object
    const dateStart = literalEnd(bytes, scoreEnd, riskDateField);
    if (dateStart < 0 || dateStart + 26 !== bytes.length || !isPlainInstant(bytes, dateStart))
      return undefined;
    if (bytes[dateStart + 24] !== 0x22 || bytes[dateStart + 25] !== 0x7d) return undefined;
  }
  return {
    customer: bytes.toString("latin1", customerStart, customerEnd),
    score: shortNumberValue(bytes, scoreStart, scoreEnd),
  };
}

/** A risk event's customer and score for the join: the fast path, else the general decoder. */
export function decodeRiskScore(bytes: Buffer | null): Decoded<RiskScore> {
  const scanned = bytes === null ? undefined : scanRiskScore(bytes);
  if (scanned !== undefined) return accept(scanned);
  const decoded = decodeRiskEvent(bytes?.toString("utf8") ?? "");
  return decoded.ok ? accept({ customer: decoded.value.customer, score: decoded.value.score }) : decoded;
}
