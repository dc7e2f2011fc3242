// The STEDI customer, as stored in the Redis sorted set `Customer` (contracts §1).

import { z } from "zod";
import { yearOfDate } from "./calendar.js";
import { accept, type Decoded, reject } from "./result.js";

export const customerSchema = z.object({
  customerName: z.string().optional(),
  email: z.string().min(1, "email is empty"),
  phone: z.string().optional(),
  birthDay: z.string(),
});

export type Customer = z.infer<typeof customerSchema> & { birthYear: string };

/** Summarises zod issues as `path: message; …`, the reason carried by dead letters. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

export function parseJson(text: string): Decoded<unknown> {
  try {
    return accept(JSON.parse(text));
  } catch (error) {
    return reject(`not JSON: ${(error as Error).message}`);
  }
}

/** Decodes a customer JSON document; the birth year is the year part of a real calendar `birthDay`. */
export function decodeCustomer(text: string): Decoded<Customer> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const parsed = customerSchema.safeParse(json.value);
  if (!parsed.success) return reject(`customer ${describeIssues(parsed.error)}`);
  const birthYear = yearOfDate(parsed.data.birthDay);
  if (birthYear === undefined)
    return reject(`customer birthDay is not a yyyy-MM-dd date: ${JSON.stringify(parsed.data.birthDay)}`);
  return accept({ ...parsed.data, birthYear });
}
