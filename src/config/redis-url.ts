// Parses redis://[user:password@]host[:port][/db] and rediss:// (TLS), as Redis clients commonly do.

import { configError } from "../errors.js";

export type RedisEndpoint = {
  host: string;
  port: number;
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
  db: number;
};

export const defaultRedisUrl = "redis://127.0.0.1:6379";

/** The Redis URL a command uses: its --redis flag, else REDIS_URL, else the local default. */
export const resolveRedisUrl = (flag: string | undefined, env: { REDIS_URL?: string | undefined }) =>
  flag ?? env.REDIS_URL ?? defaultRedisUrl;

/** REDIS_URL's entry in the --help environment list of a command that uses Redis. */
export const redisUrlEnvironmentHelp = (command: string): [string, string] => [
  "REDIS_URL",
  `Redis URL for ${command} (default ${defaultRedisUrl})`,
];

/** Throws a config error for anything that is not a redis:// or rediss:// URL. */
export function parseRedisUrl(text: string): RedisEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError(
      `invalid Redis URL ${JSON.stringify(redactRedisUrl(text))}`,
      "use redis://host:port or rediss://…",
    );
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw configError(`Redis URL must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  const dbText = url.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw configError(`invalid Redis database ${JSON.stringify(dbText)} in URL`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: url.port === "" ? 6379 : Number(url.port),
    tls: url.protocol === "rediss:",
    username: url.username === "" ? undefined : decodeURIComponent(url.username),
    password: url.password === "" ? undefined : decodeURIComponent(url.password),
    db,
  };
}

/** The URL with any password replaced, safe for logs and error messages. */
export function redactRedisUrl(text: string): string {
  return text.replace(/^(rediss?:\/\/[^:@/]*:)[^@]*@/, "$1***@");
}

export const describeEndpoint = (endpoint: RedisEndpoint) =>
  `${endpoint.tls ? "rediss" : "redis"}://${endpoint.host}:${endpoint.port}${endpoint.db ? `/${endpoint.db}` : ""}`;
