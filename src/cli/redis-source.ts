// stedi redis-source: flags → config → the Redis-to-Kafka source connector.

import { type Command, Option } from "commander";
import {
  type CommonFlags,
  type Environment,
  type MetricsFlags,
  resolveCommonConfig,
  resolveMetricsConfig,
} from "../config/config.js";
import { type RedisSourceFlags, resolveRedisSourceConfig } from "../config/redis-source.js";
import { defaultRedisUrl, redisUrlEnvironmentHelp } from "../config/redis-url.js";
import { publishedCommands } from "../core/connector/command-record.js";
import { withSignals } from "../pipelines/lifecycle.js";
import { addCommonOptions, addMetricsOptions, helpFooter, hideOptions, reporterFor } from "./common.js";

/** Common options that mean nothing to a source: accepted, not shown. */
const unusedCommonOptions = [
  "--events-topic",
  "--output-topic",
  "--from",
  "--group",
  "--log-dir",
  "--no-log",
];

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

export function addRedisSource(program: Command, env: Environment): void {
  const command = program
    .command("redis-source")
    .description(
      "publish every write made to Redis to the redis-server topic, as the original Redis source connector did",
    );
  addMetricsOptions(hideOptions(addCommonOptions(command), unusedCommonOptions))
    .addOption(
      new Option(
        "--redis <url>",
        `Redis to replicate from; password and TLS (rediss://) in the URL (env REDIS_URL, default ${defaultRedisUrl})`,
      ),
    )
    .addOption(
      new Option(
        "--snapshot",
        "publish the keys Redis holds first (snapshot records), then its writes; starts over instead of resuming",
      ),
    )
    .addOption(
      new Option(
        "--offsets-topic <topic>",
        "compacted topic keeping the replication position (default <redis-topic>-offsets)",
      ),
    )
    .addHelpText(
      "after",
      [
        "",
        "Attaches to Redis as a replica and publishes one record per write, in the original",
        "connector's JSON, keyed by its command class name. Records and the replication position",
        "commit in one Kafka transaction: a restart continues where the last run stopped, with",
        "nothing lost or repeated. When Redis cannot continue (it restarted without persistence),",
        "the keys it holds are published as snapshot records first. --json prints each record.",
        ...wrap(`Published: ${publishedCommands.join(", ")}; other writes are skipped and counted.`, 90),
        helpFooter(
          [
            "stedi redis-source",
            "stedi redis-source --snapshot --exit-on-idle 5000",
            "REDIS_URL=rediss://:secret@redis-host:6380 stedi redis-source --brokers kafka1:9092",
            "stedi redis-source --json | jq .key",
          ],
          [redisUrlEnvironmentHelp("redis-source")],
        ),
      ].join("\n"),
    )
    .action(async (flags: CommonFlags & RedisSourceFlags & MetricsFlags) => {
      const common = resolveCommonConfig(flags, env);
      const source = resolveRedisSourceConfig(flags, env, common.redisTopic);
      const metrics = resolveMetricsConfig(flags);
      const { runRedisSource } = await import("../pipelines/redis-source.js");
      await withSignals((lifecycle) =>
        runRedisSource({ common, source, reporter: reporterFor(flags, env), lifecycle, metrics }),
      );
    });
}
