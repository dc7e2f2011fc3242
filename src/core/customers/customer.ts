// The STEDI customer, as stored in the Redis sorted set `Customer` (contracts §1).

import { z } from "zod";
import { accept, type Decoded, reject } from "../result.js";
import { yearOfDate } from "../simulation/calendar.js";

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

const optionalText = (value: unknown) => value === undefined || typeof value === "string";

/**
 * Decodes a customer JSON document; the birth year is the year part of a real calendar `birthDay`.
 * Well-formed customers are recognised without building a zod result (a million of them are read
 * at every start of the join); anything else goes through the schema, which accepts exactly the
 * same documents and explains the rest.
 */
export function decodeCustomer(text: string): Decoded<Customer> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const value = json.value as Record<string, unknown> | null;
  let customer: z.infer<typeof customerSchema>;
  if (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof value.email === "string" &&
    value.email !== "" &&
    typeof value.birthDay === "string" &&
    optionalText(value.customerName) &&
    optionalText(value.phone)
  ) {
    // Same key order as the schema's output, since --json prints customers as they are.
    customer = {
      ...(value.customerName === undefined ? {} : { customerName: value.customerName as string }),
      email: value.email,
      ...(value.phone === undefined ? {} : { phone: value.phone as string }),
      birthDay: value.birthDay,
    };
  } else {
    const parsed = customerSchema.safeParse(value);
    if (!parsed.success) return reject(`customer ${describeIssues(parsed.error)}`);
    customer = parsed.data;
  }
  const birthYear = yearOfDate(customer.birthDay);
  if (birthYear === undefined) {
    return reject(`customer birthDay is not a yyyy-MM-dd date: ${JSON.stringify(customer.birthDay)}`);
  }
  return accept({ ...customer, birthYear });
}
