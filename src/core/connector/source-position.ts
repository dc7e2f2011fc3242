// The replication position redis-source keeps in its compacted Kafka topic: which source, and where
// in the master's history the records published so far end.

import { z } from "zod";
import { describeIssues, parseJson } from "../customers/customer.js";
import { accept, type Decoded, reject } from "../result.js";

export type StoredPosition = { replid: string; offset: number };

const storedPositionSchema = z.object({
  replid: z.string().regex(/^[0-9a-f]{40}$/, "replid must be 40 hex digits"),
  offset: z.number().int().nonnegative(),
});

/**
 * The key of a source's position: one Redis server feeding one topic. The host is as given in the
 * URL; credentials and the database never appear (replication is server-wide).
 */
export const positionKey = (source: { host: string; port: number; topic: string }) =>
  `${source.host}:${source.port}|${source.topic}`;

export const encodePosition = (position: StoredPosition): string =>
  JSON.stringify({ replid: position.replid, offset: position.offset });

/** Decodes a stored position; rejects anything else with the reason. */
export function decodePosition(text: string): Decoded<StoredPosition> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const parsed = storedPositionSchema.safeParse(json.value);
  return parsed.success ? accept(parsed.data) : reject(describeIssues(parsed.error));
}
