// Decodes `stedi-events` records: the STEDI app's risk scores (contracts §2).

import { z } from "zod";
import { yearOfDate } from "./calendar.js";
import { describeIssues, parseJson } from "./customer.js";
import { accept, type Decoded, reject } from "./result.js";

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

export const riskEventSchema = z.object({
  customer: z.string().min(1, "customer is empty"),
  score: z.number(),
  riskDate: z
    .string()
    .refine(
      // Date.parse rolls 31 February over into March, so the calendar date is checked on its own.
      (text) =>
        isoInstant.test(text) &&
        yearOfDate(text.slice(0, 10)) !== undefined &&
        !Number.isNaN(Date.parse(text)),
      "riskDate is not an ISO-8601 instant",
    )
    .optional(),
});

export type RiskEvent = z.infer<typeof riskEventSchema>;

/** Decodes one risk score; the customer is the email the join matches on. */
export function decodeRiskEvent(text: string): Decoded<RiskEvent> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const parsed = riskEventSchema.safeParse(json.value);
  if (!parsed.success) return reject(`risk event ${describeIssues(parsed.error)}`);
  return accept(parsed.data);
}
