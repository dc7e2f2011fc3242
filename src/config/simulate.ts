// simulate's own options, resolved once: flags > REDIS_URL > defaults (the shared options are resolved
// by config.ts).

import { randomInt } from "node:crypto";
import { z } from "zod";
import { customersPerActivation, seedFromText } from "../core/simulation/simulation.js";
import { type Environment, parseOrThrow } from "./config.js";
import { parseRedisUrl, resolveRedisUrl } from "./redis-url.js";

export type SimulateFlags = {
  customers?: string;
  rounds?: string;
  speed?: string;
  seed?: string;
  redis?: string;
  customerKey?: string;
  testKey?: string;
};

export type SimulateConfig = {
  customers: number;
  /** Rounds to run; undefined runs until stopped. */
  rounds?: number | undefined;
  /** Time compression: 1 is real time, 60 makes a simulated minute last a second. */
  speed: number;
  seed: number;
  redisUrl: string;
  customerKey: string;
  testKey: string;
};

export const simulateDefaults = {
  customers: customersPerActivation,
  speed: 1,
  customerKey: "Customer",
  testKey: "RapidStepTest",
} as const;

const wholeNumber = (what: string, max: number) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be positive`)
    .max(max, `${what} must be at most ${max}`);

const simulateConfigSchema = z.object({
  customers: wholeNumber("--customers", 100_000),
  rounds: wholeNumber("--rounds", Number.MAX_SAFE_INTEGER).optional(),
  speed: z.coerce
    .number({ error: "--speed must be a number" })
    .positive("--speed must be positive")
    .max(1_000_000, "--speed must be at most 1000000"),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  redisUrl: z.string().min(1, "--redis is empty"),
  customerKey: z.string().min(1, "--customer-key is empty"),
  testKey: z.string().min(1, "--test-key is empty"),
});

/**
 * Merges the simulate flags over REDIS_URL and the defaults; a run without --seed gets a random
 * one (reported at start, so it can be repeated). Throws a config error (exit 2) on invalid values.
 */
export function resolveSimulateConfig(flags: SimulateFlags, env: Environment): SimulateConfig {
  const config = parseOrThrow(simulateConfigSchema, {
    customers: flags.customers ?? simulateDefaults.customers,
    rounds: flags.rounds,
    speed: flags.speed ?? simulateDefaults.speed,
    seed: flags.seed === undefined ? randomInt(0, 2 ** 32) : seedFromText(flags.seed),
    redisUrl: resolveRedisUrl(flags.redis, env),
    customerKey: flags.customerKey ?? simulateDefaults.customerKey,
    testKey: flags.testKey ?? simulateDefaults.testKey,
  });
  parseRedisUrl(config.redisUrl);
  return config;
}
