// What the console commands show of each record: the seed's columns, from the shared decoders.

import { decodeRedisRecord } from "../core/connector/record.js";
import { formatJavaDouble } from "../core/formats/java-double.js";
import { decodeRiskEvent } from "../core/risk-events/risk-event.js";

/** What one record shows: table rows plus the same rows as JSON, nothing (skipped), or why it is bad. */
export type ConsoleRecordView =
  | { kind: "rows"; rows: string[][]; json: unknown[]; problems?: string[] }
  | { kind: "skipped" }
  | { kind: "bad"; reason: string };

export type ConsoleView = {
  name: string;
  topic: string;
  logName: string;
  columns: string[];
  view(value: string): ConsoleRecordView;
};

export const riskEventColumns = ["customer", "score"];

/** A risk event as the seed's events job printed it: customer | score. */
export function viewRiskEvent(value: string): ConsoleRecordView {
  const decoded = decodeRiskEvent(value);
  if (!decoded.ok) return { kind: "bad", reason: decoded.reason };
  const { customer, score, riskDate } = decoded.value;
  return { kind: "rows", rows: [[customer, formatJavaDouble(score)]], json: [{ customer, score, riskDate }] };
}

export const customerColumns = (all: boolean) =>
  all ? ["customerName", "email", "phone", "birthDay", "birthYear"] : ["email", "birthYear"];

/** The customers of a connector record as the seed's Redis job printed them: email | birthYear. */
export function viewRedisRecord(value: string, all: boolean): ConsoleRecordView {
  const decoded = decodeRedisRecord(value);
  if (!decoded.ok) return { kind: "bad", reason: decoded.reason };
  if (decoded.value.kind === "skipped") return { kind: "skipped" };
  const { customers, rejected } = decoded.value;
  const rows = customers.map((customer) =>
    all
      ? [
          customer.customerName ?? "",
          customer.email,
          customer.phone ?? "",
          customer.birthDay,
          customer.birthYear,
        ]
      : [customer.email, customer.birthYear],
  );
  const json = customers.map((customer) =>
    all ? customer : { email: customer.email, birthYear: customer.birthYear },
  );
  return { kind: "rows", rows, json, problems: rejected };
}
