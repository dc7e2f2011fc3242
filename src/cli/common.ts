// The options every command shares, and the help text that lists them with the environment.

import { type Command, Option } from "commander";
import { createReporter, type Reporter } from "../adapters/terminal.js";
import { type CommonFlags, defaults, type Environment, environmentHelp } from "../config/config.js";
import { logFormats, resolveLogFormat } from "../config/log-format.js";

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
        "--log-format <format>",
        "diagnostics on stderr as readable lines, or as one JSON object per line (level, time, msg, fields) for log collectors (env STEDI_LOG_FORMAT, default text)",
      ).choices(logFormats),
    )
    .addOption(new Option("--ssl", "connect to Kafka over TLS (env KAFKA_SSL)"))
    .addOption(
      new Option(
        "--ssl-ca <file>",
        "PEM file of the CA that signed the brokers' certificates (env KAFKA_SSL_CA)",
      ),
    )
    .addOption(new Option("--ssl-cert <file>", "PEM client certificate for mutual TLS (env KAFKA_SSL_CERT)"))
    .addOption(new Option("--ssl-key <file>", "PEM private key of --ssl-cert (env KAFKA_SSL_KEY)"))
    .addOption(
      new Option(
        "--sasl-mechanism <name>",
        "plain, scram-sha-256 or scram-sha-512 (env KAFKA_SASL_MECHANISM)",
      ),
    )
    .addOption(new Option("--sasl-username <name>", "SASL user (env KAFKA_SASL_USERNAME)"))
    .addOption(
      new Option(
        "--sasl-password-file <file>",
        "file holding the SASL password; or set KAFKA_SASL_PASSWORD (a password flag would show in ps)",
      ),
    )
    .addOption(
      new Option(
        "--connect-timeout <ms>",
        `give up reaching Kafka after <ms> (env STEDI_CONNECT_TIMEOUT, default ${defaults.connectTimeoutMs})`,
      ),
    );
}

/** Keeps options a command accepts but ignores (shared ones that mean nothing to it) out of --help. */
export function hideOptions(command: Command, longNames: readonly string[]): Command {
  for (const option of command.options) if (longNames.includes(option.long ?? "")) option.hideHelp();
  return command;
}

/**
 * Help text after the options: examples, then the environment variables, the shared ones first and
 * then the command's own (`ownEnvironment`), aligned as one list.
 */
export function helpFooter(examples: string[], ownEnvironment: [string, string][] = []): string {
  const environment = [...environmentHelp, ...ownEnvironment];
  const width = Math.max(...environment.map(([name]) => name.length));
  return [
    "",
    "Examples:",
    ...examples.map((example) => `  $ ${example}`),
    "",
    "Environment:",
    ...environment.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
  ].join("\n");
}

/** --metrics-port and --metrics-host, for the commands that run until stopped. */
export function addMetricsOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--metrics-port <port>",
        "serve Prometheus /metrics, liveness /healthz and readiness /ready on this port (0: any free)",
      ),
    )
    .addOption(
      new Option("--metrics-host <address>", `address to serve metrics on (default ${defaults.metricsHost})`),
    );
}

/**
 * The reporter for a command's diagnostics, in the format of --log-format, else STEDI_LOG_FORMAT.
 * Throws a config error (exit 2) for a format other than text or json.
 */
export const reporterFor = (flags: CommonFlags, env: Environment): Reporter =>
  createReporter({ format: resolveLogFormat(flags.logFormat, env) });
