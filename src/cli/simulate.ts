// stedi simulate: flags → config → the simulated seniors' pipeline.

import { type Command, Option } from "commander";
import {
  type CommonFlags,
  type Environment,
  type MetricsFlags,
  resolveCommonConfig,
  resolveMetricsConfig,
} from "../config/config.js";
import { defaultRedisUrl, redisUrlEnvironmentHelp } from "../config/redis-url.js";
import { resolveSimulateConfig, type SimulateFlags, simulateDefaults } from "../config/simulate.js";
import { withSignals } from "../pipelines/lifecycle.js";
import { addCommonOptions, addMetricsOptions, helpFooter, hideOptions, reporterFor } from "./common.js";

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

export function addSimulate(program: Command, env: Environment): void {
  const command = program
    .command("simulate")
    .description(
      "simulated seniors as the STEDI app: customers and rapid step tests into Redis, risk scores to stedi-events",
    );
  addMetricsOptions(hideOptions(addCommonOptions(command), unusedCommonOptions))
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
        helpFooter(
          [
            "stedi simulate",
            "stedi simulate --speed 60 --rounds 10",
            "stedi simulate --customers 5 --rounds 5 --speed 600 --seed 42 --json",
            "REDIS_URL=redis://:secret@redis-host:6379/0 stedi simulate --brokers kafka1:9092",
          ],
          [redisUrlEnvironmentHelp("simulate")],
        ),
      ].join("\n"),
    )
    .action(async (flags: CommonFlags & SimulateFlags & MetricsFlags) => {
      const common = resolveCommonConfig(flags, env);
      const simulate = resolveSimulateConfig(flags, env);
      const metrics = resolveMetricsConfig(flags);
      const { runSimulate } = await import("../pipelines/simulate.js");
      await withSignals((lifecycle) =>
        runSimulate({ common, simulate, reporter: reporterFor(flags, env), lifecycle, metrics }),
      );
    });
}
