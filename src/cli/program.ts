// Builds the `stedi` program: one command per job, usage errors routed through StediError. Each
// command loads its pipeline when it runs, so a command starts (and holds in memory) only its own code.

import { Command, CommanderError } from "commander";
import type { Environment } from "../config/config.js";
import { StediError } from "../errors.js";
import { addEventsConsole, addJoin, addRedisConsole } from "./commands.js";
import { addDemo } from "./demo.js";
import { addGraph } from "./graph.js";
import { addRedisSource } from "./redis-source.js";
import { addSimulate } from "./simulate.js";

export const version = "0.1.0";

export function buildProgram(env: Environment): Command {
  const program = new Command("stedi")
    .description("STEDI balance-risk streaming on Apache Kafka and Redis")
    .version(version)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  addEventsConsole(program, env);
  addRedisConsole(program, env);
  addJoin(program, env);
  addRedisSource(program, env);
  addSimulate(program, env);
  addGraph(program, env);
  addDemo(program, env);
  program.addHelpText(
    "after",
    [
      "",
      "Examples:",
      "  $ stedi demo                       # everything at once on a local Kafka and Redis",
      "  $ npm run stack:up                 # just the local Kafka and Redis",
      "  $ stedi simulate --speed 60        # simulated seniors into Redis and stedi-events",
      "  $ stedi redis-source               # Redis writes to the redis-server topic",
      "  $ stedi join --console             # join customers with risk scores",
      "  $ stedi graph                      # the live graph on http://127.0.0.1:4567",
      "  $ stedi join --help                # every option of a command",
    ].join("\n"),
  );
  for (const command of program.commands)
    command.exitOverride().configureOutput({ outputError: () => undefined });
  return program;
}

/** Commander's own exits (help, version) are fine; its usage errors become StediErrors. */
export function fromCommanderError(error: CommanderError): StediError | undefined {
  if (
    error.exitCode === 0 ||
    error.code === "commander.helpDisplayed" ||
    error.code === "commander.version"
  ) {
    return undefined;
  }
  return new StediError("usage", error.message.replace(/^error: /, "").replaceAll("\n", " "), {
    hint: "see stedi --help",
  });
}

export { CommanderError };
