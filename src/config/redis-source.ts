// redis-source's own options, resolved once: flags > environment > defaults (the shared options are
// resolved by config.ts).

import { z } from "zod";
import { configError } from "../errors.js";
import { type Environment, parseOrThrow } from "./config.js";
import { parseRedisUrl, type RedisEndpoint, resolveRedisUrl } from "./redis-url.js";

export type RedisSourceFlags = { redis?: string; snapshot?: boolean; offsetsTopic?: string };

export type RedisSourceConfig = {
  endpoint: RedisEndpoint;
  snapshot: boolean;
  /** Compacted topic holding the replication position, written in the same transaction as records. */
  offsetsTopic: string;
};

/** The offsets topic when none is given: beside the records topic. */
export const defaultOffsetsTopic = (redisTopic: string) => `${redisTopic}-offsets`;

const schema = z.object({ snapshot: z.boolean(), offsetsTopic: z.string().min(1) });

/** Throws a config error (exit 2) for an invalid URL (never showing its password) or topic. */
export function resolveRedisSourceConfig(
  flags: RedisSourceFlags,
  env: Environment,
  redisTopic: string,
): RedisSourceConfig {
  const endpoint = parseRedisUrl(resolveRedisUrl(flags.redis, env));
  const options = parseOrThrow(schema, {
    snapshot: flags.snapshot ?? false,
    offsetsTopic: flags.offsetsTopic ?? defaultOffsetsTopic(redisTopic),
  });
  if (options.offsetsTopic === redisTopic) {
    throw configError("invalid options: --offsets-topic must differ from --redis-topic", "see --help");
  }
  return { endpoint, ...options };
}
