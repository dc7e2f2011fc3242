// The options every command shares, and the help text that lists them with the environment.

import { type Command, Option } from "commander";
import { defaults, environmentHelp } from "../config/config.js";

export function addCommonOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--brokers <host:port,...>",
        `Kafka bootstrap brokers (env KAFKA_BROKERS, default ${defaults.brokers})`,
      ),
    )
    .addOption(
      new Option(
        "--redis-topic <topic>",
        `customer topic written by redis-source (default ${defaults.redisTopic})`,
      ),
    )
    .addOption(new Option("--events-topic <topic>", `risk-score topic (default ${defaults.eventsTopic})`))
    .addOption(new Option("--output-topic <topic>", `joined output topic (default ${defaults.outputTopic})`))
    .addOption(
      new Option(
        "--from <position>",
        `where to start without committed offsets (default ${defaults.from})`,
      ).choices(["earliest", "latest"]),
    )
    .addOption(
      new Option("--group <id>", "consumer group id; with one, a run resumes where the last one stopped"),
    )
    .addOption(new Option("--exit-on-idle <ms>", "exit 0 once caught up and nothing new arrived for <ms>"))
    .addOption(new Option("--json", "one JSON object per line on stdout instead of tables"))
    .addOption(
      new Option(
        "--log-dir <dir>",
        `folder for console logs (env STEDI_LOG_DIR, default ${defaults.logDir})`,
      ),
    )
    .addOption(new Option("--no-log", "do not append console output to files under --log-dir"))
    .addOption(
      new Option(
        "--connect-timeout <ms>",
        `give up reaching Kafka after <ms> (env STEDI_CONNECT_TIMEOUT, default ${defaults.connectTimeoutMs})`,
      ),
    );
}

/** Help text after the options: examples, then the environment variables. */
export function helpFooter(examples: string[]): string {
  const width = Math.max(...environmentHelp.map(([name]) => name.length));
  return [
    "",
    "Examples:",
    ...examples.map((example) => `  $ ${example}`),
    "",
    "Environment:",
    ...environmentHelp.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
  ].join("\n");
}
