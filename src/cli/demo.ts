// stedi demo: flags → config → the whole system on the local stack.

import { type Command, Option } from "commander";
import { type CommonFlags, type Environment, resolveCommonConfig } from "../config/config.js";
import { type DemoFlags, demoDefaults, resolveDemoConfig } from "../config/demo.js";
import { defaultRedisUrl, redisUrlEnvironmentHelp } from "../config/redis-url.js";
import { withSignals } from "../pipelines/lifecycle.js";
import { addCommonOptions, helpFooter, reporterFor } from "./common.js";

export function addDemo(program: Command, env: Environment): void {
  const command = program
    .command("demo")
    .description("run the whole system on the local stack: simulate, redis-source, join and the live graph");
  addCommonOptions(command)
    .addOption(new Option("--dlq-topic <topic>", "dead-letter topic of the join (default stedi-dlq)"))
    .addOption(
      new Option("--port <n>", `port of the live graph, 0 for any free one (default ${demoDefaults.port})`),
    )
    .addOption(
      new Option(
        "--speed <factor>",
        `time compression of the simulated seniors (default ${demoDefaults.speed})`,
      ),
    )
    .addOption(new Option("--customers <n>", `simulated seniors (default ${demoDefaults.customers})`))
    .addOption(new Option("--redis <url>", `Redis to use (env REDIS_URL, default ${defaultRedisUrl})`))
    .addOption(new Option("--no-stack", "do not start the local Kafka and Redis; use the ones given"))
    .addOption(new Option("--keep-stack", "leave the local stack running afterwards if the demo started it"))
    .addOption(new Option("--run-for <duration>", "stop by itself after this long, e.g. 90s or 5m"))
    .addHelpText(
      "after",
      helpFooter(
        [
          "npm run demo                       # the same, from a fresh clone",
          "stedi demo",
          "stedi demo --speed 60 --customers 100 --port 8080",
          "stedi demo --run-for 2m --keep-stack",
        ],
        [redisUrlEnvironmentHelp("demo")],
      ),
    )
    .action(async (flags: CommonFlags & DemoFlags) => {
      const common = resolveCommonConfig(flags, env);
      const demo = resolveDemoConfig(flags, env);
      const { runDemo } = await import("../pipelines/demo.js");
      await withSignals((lifecycle) =>
        runDemo({ common, demo, reporter: reporterFor(flags, env), lifecycle }),
      );
    });
}
