// stedi simulate: flags → config → the simulated seniors' pipeline.

import { randomInt } from "node:crypto";
import { type Command, Option } from "commander";
import { z } from "zod";
import { createReporter } from "../adapters/terminal.js";
import {
  type CommonFlags,
  type Environment,
  environmentHelp,
  parseOrThrow,
  resolveCommonConfig,
} from "../config/config.js";
import { defaultRedisUrl, parseRedisUrl } from "../config/redis-url.js";
import { customersPerActivation, seedFromText } from "../core/simulation.js";
import { Lifecycle, stopOnSignals } from "../pipelines/lifecycle.js";
import { runSimulate, type SimulateConfig } from "../pipelines/simulate.js";
import { addCommonOptions, helpFooter } from "./common.js";

export type SimulateFlags = {
  customers?: string;
  rounds?: string;
  speed?: string;
  seed?: string;
  redis?: string;
  customerKey?: string;
  testKey?: string;
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

export const simulateConfigSchema = z.object({
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
    redisUrl: flags.redis ?? env.REDIS_URL ?? defaultRedisUrl,
    customerKey: flags.customerKey ?? simulateDefaults.customerKey,
    testKey: flags.testKey ?? simulateDefaults.testKey,
  });
  parseRedisUrl(config.redisUrl);
  return config;
}

/** Common options that mean nothing to a producer of simulated data: accepted, not shown. */
const unusedCommonOptions = [
  "--redis-topic",
  "--output-topic",
  "--from",
  "--group",
  "--exit-on-idle",
  "--log-dir",
  "--no-log",
];

/** REDIS_URL under the shared environment list, aligned with it, unless the list names it already. */
function redisUrlHelp(): string[] {
  if (environmentHelp.some(([name]) => name === "REDIS_URL")) return [];
  const width = Math.max(...environmentHelp.map(([name]) => name.length));
  return [`  ${"REDIS_URL".padEnd(width)}  Redis URL for simulate (default ${defaultRedisUrl})`];
}

export function addSimulate(program: Command, env: Environment): void {
  const command = program
    .command("simulate")
    .description(
      "simulated seniors as the STEDI app: customers and rapid step tests into Redis, risk scores to stedi-events",
    );
  addCommonOptions(command);
  for (const option of command.options)
    if (unusedCommonOptions.includes(option.long ?? "")) option.hideHelp();
  command
    .addOption(
      new Option(
        "--customers <n>",
        `customers to create, born 1965 down to 1937 and round again (default ${simulateDefaults.customers})`,
      ),
    )
    .addOption(
      new Option("--rounds <n>", "rounds of one test per customer, then exit (default: until stopped)"),
    )
    .addOption(
      new Option(
        "--speed <factor>",
        "time compression: 1 is real time (2 s per test, a round of 29 takes a minute), 60 runs a minute in a second (default 1)",
      ),
    )
    .addOption(new Option("--seed <seed>", "names and durations from this seed: the same seed repeats a run"))
    .addOption(new Option("--redis <url>", `Redis to write to (env REDIS_URL, default ${defaultRedisUrl})`))
    .addOption(
      new Option(
        "--customer-key <key>",
        `sorted set for customers (default ${simulateDefaults.customerKey}; another name isolates tests on a shared Redis)`,
      ),
    )
    .addOption(
      new Option("--test-key <key>", `sorted set for rapid step tests (default ${simulateDefaults.testKey})`),
    )
    .addHelpText(
      "after",
      [
        "",
        "Each round records one rapid step test per customer, 2 s apart, and publishes",
        "{customer,score,riskDate} from a customer's 4th test on (--json also prints each one).",
        "The records' clock starts at the real time and advances 2 s per test; --speed only makes",
        "that happen faster. Emails already in the customer set are never generated again, so a",
        "seed repeats a run (same names, durations and scores) on a Redis without them.",
        helpFooter([
          "stedi simulate",
          "stedi simulate --speed 60 --rounds 10",
          "stedi simulate --customers 5 --rounds 5 --speed 600 --seed 42 --json",
          "REDIS_URL=redis://:secret@redis-host:6379/0 stedi simulate --brokers kafka1:9092",
        ]),
        ...redisUrlHelp(),
      ].join("\n"),
    )
    .action(async (flags: CommonFlags & SimulateFlags) => {
      const common = resolveCommonConfig(flags, env);
      const simulate = resolveSimulateConfig(flags, env);
      const lifecycle = new Lifecycle();
      const unwire = stopOnSignals(lifecycle);
      try {
        await runSimulate({ common, simulate, reporter: createReporter(), lifecycle });
      } finally {
        unwire();
      }
    });
}
