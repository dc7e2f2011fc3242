// Decodes `stedi-events` records: the STEDI app's risk scores (contracts §2).

import { z } from "zod";
import { yearOfDate } from "./calendar.js";
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
