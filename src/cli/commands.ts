// The three streaming commands: flags → config → pipeline. Nothing here decides how data flows.

import { type Command, Option } from "commander";
import {
  type CommonConfig,
  type CommonFlags,
  type ConsoleConfig,
  type ConsoleFlags,
  defaults,
  type Environment,
  type JoinFlags,
  resolveCommonConfig,
  resolveConsoleConfig,
  resolveJoinConfig,
} from "../config/config.js";
import { withSignals } from "../pipelines/lifecycle.js";
import type { ConsoleView } from "../render/console-views.js";
import {
  customerColumns,
  riskEventColumns,
  viewRedisRecord,
  viewRiskEvent,
} from "../render/console-views.js";
import { addCommonOptions, addMetricsOptions, helpFooter, reporterFor } from "./common.js";

/** The body shared by the console commands: resolve options, then print the chosen view of a topic. */
function consoleAction(
  env: Environment,
  viewFor: (common: CommonConfig, console: ConsoleConfig) => ConsoleView,
) {
  return async (flags: CommonFlags & ConsoleFlags) => {
    const common = resolveCommonConfig(flags, env);
    const consoleConfig = resolveConsoleConfig(flags);
    const { runConsole } = await import("../pipelines/console.js");
    await withSignals((lifecycle) =>
      runConsole({
        common,
        console: consoleConfig,
        reporter: reporterFor(flags, env),
        lifecycle,
        view: viewFor(common, consoleConfig),
      }),
    );
  };
}

const addConsoleOptions = (command: Command) =>
  command
    .addOption(new Option("--rows <n>", `rows shown per micro-batch (default ${defaults.rows})`))
    .addOption(new Option("--no-truncate", "show whole cells instead of cutting them at 20 characters"))
    .addOption(new Option("--trigger <ms>", `micro-batch interval (default ${defaults.triggerMs})`));

export function addEventsConsole(program: Command, env: Environment): void {
  const command = program
    .command("events-console")
    .description("print risk scores from stedi-events as Spark-style micro-batches (customer | score)");
  addConsoleOptions(addCommonOptions(command))
    .addHelpText(
      "after",
      helpFooter([
        "stedi events-console",
        "stedi events-console --from latest --rows 50 --no-truncate",
        "stedi events-console --json --exit-on-idle 2000 | jq .score",
      ]),
    )
    .action(
      consoleAction(env, (common) => ({
        name: "events-console",
        topic: common.eventsTopic,
        logName: "eventstream.log",
        columns: riskEventColumns,
        view: viewRiskEvent,
      })),
    );
}

export function addRedisConsole(program: Command, env: Environment): void {
  const command = program
    .command("redis-console")
    .description(
      "print the customers written to Redis, decoded from the connector's topic (email | birthYear)",
    );
  addConsoleOptions(addCommonOptions(command))
    .addOption(new Option("--all", "also show customerName, phone and birthDay"))
    .addHelpText(
      "after",
      helpFooter([
        "stedi redis-console",
        "stedi redis-console --all --no-truncate",
        "stedi redis-console --json | jq .email",
      ]),
    )
    .action(
      consoleAction(env, (common, consoleConfig) => ({
        name: "redis-console",
        topic: common.redisTopic,
        logName: "redis-kafka.log",
        columns: customerColumns(consoleConfig.all),
        view: (value) => viewRedisRecord(value, consoleConfig.all),
      })),
    );
}

export function addJoin(program: Command, env: Environment): void {
  const command = program
    .command("join")
    .alias("join-to-kafka")
    .description(
      "join risk scores with customers on email and publish {customer,score,email,birthYear} to stedi-graph",
    );
  addMetricsOptions(addCommonOptions(command))
    .addOption(
      new Option(
        "--dlq-topic <topic>",
        `dead-letter topic for records that cannot be used (default ${defaults.dlqTopic})`,
      ),
    )
    .addOption(
      new Option(
        "--wait <duration>",
        "how long an event waits for its customer: ms, or 30s, 2m (default 60s)",
      ),
    )
    .addOption(
      new Option(
        "--console",
        "also print joined rows as Spark-style tables and append them to logs/kafkajoin.log",
      ),
    )
    .addOption(
      new Option(
        "--workers <n>",
        "run n join processes in one consumer group, one per core: each takes its share of the input partitions; with --metrics-port P, worker i serves on P+i (default 1)",
      ),
    )
    .addOption(
      new Option(
        "--state-dir <dir>",
        "keep a checkpoint of the customer table here, so a restart reads only what is new (env STEDI_STATE_DIR, default none)",
      ),
    )
    .addHelpText(
      "after",
      helpFooter([
        "stedi join",
        "stedi join --console",
        "stedi join --state-dir /var/lib/stedi   # restarts start from a customer checkpoint",
        "stedi join --workers 2                  # two processes, one group: both cores",
        "stedi join --group stedi-join --wait 30s --brokers kafka1:9092,kafka2:9092",
        "stedi join --json --exit-on-idle 3000 > joined.jsonl",
        "stedi join --metrics-port 9464    # then: curl 127.0.0.1:9464/metrics",
        "stedi join --log-format json 2>> join.jsonl   # diagnostics for a log collector",
      ]),
    )
    .action(async (flags: CommonFlags & JoinFlags) => {
      const common = resolveCommonConfig(flags, env);
      const joinConfig = resolveJoinConfig(flags, env);
      if (joinConfig.workers > 1) {
        const { runJoinWorkers } = await import("../pipelines/join/workers.js");
        const reporter = reporterFor(flags, env);
        await withSignals((lifecycle) =>
          runJoinWorkers({ count: joinConfig.workers, argv: process.argv.slice(1), reporter, lifecycle }),
        ).finally(() => reporter.close());
        return;
      }
      const { runJoin } = await import("../pipelines/join/join.js");
      await withSignals((lifecycle) => {
        // A worker of `--workers` stops when its supervisor goes away.
        if (joinConfig.worker !== undefined && process.send !== undefined)
          process.once("disconnect", () => lifecycle.stop({ kind: "signal", signal: "disconnect" }));
        return runJoin({ common, join: joinConfig, reporter: reporterFor(flags, env), lifecycle });
      });
    });
}
