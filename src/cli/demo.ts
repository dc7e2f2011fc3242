// stedi demo: flags → config → the whole system on the local stack.

import { type Command, Option } from "commander";
import { z } from "zod";
import { createReporter } from "../adapters/terminal.js";
import {
  type CommonFlags,
  type Environment,
  parseDuration,
  parseOrThrow,
  resolveCommonConfig,
} from "../config/config.js";
import { defaultRedisUrl } from "../config/redis-url.js";
import { runDemo } from "../pipelines/demo.js";
import { withSignals } from "../pipelines/lifecycle.js";
import { addCommonOptions, helpFooter } from "./common.js";

type DemoFlags = {
  port?: string;
  speed?: string;
  customers?: string;
  redis?: string;
  stack?: boolean;
  keepStack?: boolean;
  runFor?: string;
};

const demoSchema = z.object({
  port: z.coerce.number().int().min(0, "--port must be 0..65535").max(65_535, "--port must be 0..65535"),
  speed: z.coerce.number({ error: "--speed must be a number" }).positive("--speed must be positive"),
  customers: z.coerce.number().int().positive("--customers must be positive"),
  redisUrl: z.string().min(1),
  manageStack: z.boolean(),
  keepStack: z.boolean(),
  runForMs: z.number({ error: "--run-for must be a duration such as 90s or 2m" }).int().positive().optional(),
});

export function addDemo(program: Command, env: Environment): void {
  const command = program
    .command("demo")
    .description("run the whole system on the local stack: simulate, redis-source, join and the live graph");
  addCommonOptions(command)
    .addOption(new Option("--dlq-topic <topic>", "dead-letter topic of the join (default stedi-dlq)"))
    .addOption(new Option("--port <n>", "port of the live graph, 0 for any free one (default 4567)"))
    .addOption(new Option("--speed <factor>", "time compression of the simulated seniors (default 30)"))
    .addOption(new Option("--customers <n>", "simulated seniors (default 29)"))
    .addOption(new Option("--redis <url>", `Redis to use (env REDIS_URL, default ${defaultRedisUrl})`))
    .addOption(new Option("--no-stack", "do not start the local Kafka and Redis; use the ones given"))
    .addOption(new Option("--keep-stack", "leave the local stack running afterwards if the demo started it"))
    .addOption(new Option("--run-for <duration>", "stop by itself after this long, e.g. 90s or 5m"))
    .addHelpText(
      "after",
      helpFooter([
        "npm run demo                       # the same, from a fresh clone",
        "stedi demo",
        "stedi demo --speed 60 --customers 100 --port 8080",
        "stedi demo --run-for 2m --keep-stack",
      ]),
    )
    .action(async (flags: CommonFlags & DemoFlags) => {
      const common = resolveCommonConfig(flags, env);
      const demo = parseOrThrow(demoSchema, {
        port: flags.port ?? 4567,
        speed: flags.speed ?? 30,
        customers: flags.customers ?? 29,
        redisUrl: flags.redis ?? env.REDIS_URL ?? defaultRedisUrl,
        manageStack: flags.stack !== false,
        keepStack: flags.keepStack ?? false,
        runForMs: flags.runFor === undefined ? undefined : parseDuration(flags.runFor),
      });
      await withSignals((lifecycle) => runDemo({ common, demo, reporter: createReporter(), lifecycle }));
    });
}
