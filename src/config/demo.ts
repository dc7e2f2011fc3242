// demo's own options, resolved once: flags > REDIS_URL > defaults (the shared options are resolved by
// config.ts).

import { z } from "zod";
import { type Environment, parseDuration, parseOrThrow } from "./config.js";
import { resolveRedisUrl } from "./redis-url.js";

export type DemoFlags = {
  port?: string;
  speed?: string;
  customers?: string;
  redis?: string;
  stack?: boolean;
  keepStack?: boolean;
  runFor?: string;
};

export type DemoConfig = {
  port: number;
  speed: number;
  customers: number;
  redisUrl: string;
  /** Start (and afterwards stop) the local stack when it is not running. */
  manageStack: boolean;
  keepStack: boolean;
  /** Stop by itself after this long (for scripts and tests). */
  runForMs?: number | undefined;
};

export const demoDefaults = { port: 4567, speed: 30, customers: 29 } as const;

const demoSchema = z.object({
  port: z.coerce.number().int().min(0, "--port must be 0..65535").max(65_535, "--port must be 0..65535"),
  speed: z.coerce.number({ error: "--speed must be a number" }).positive("--speed must be positive"),
  customers: z.coerce.number().int().positive("--customers must be positive"),
  redisUrl: z.string().min(1),
  manageStack: z.boolean(),
  keepStack: z.boolean(),
  runForMs: z.number({ error: "--run-for must be a duration such as 90s or 2m" }).int().positive().optional(),
});

/** Throws a config error (exit 2) on invalid values. */
export const resolveDemoConfig = (flags: DemoFlags, env: Environment): DemoConfig =>
  parseOrThrow(demoSchema, {
    port: flags.port ?? demoDefaults.port,
    speed: flags.speed ?? demoDefaults.speed,
    customers: flags.customers ?? demoDefaults.customers,
    redisUrl: resolveRedisUrl(flags.redis, env),
    manageStack: flags.stack !== false,
    keepStack: flags.keepStack ?? false,
    runForMs: flags.runFor === undefined ? undefined : parseDuration(flags.runFor),
  });
