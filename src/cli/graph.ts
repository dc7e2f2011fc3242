// stedi graph: flags → config → the live risk graph pipeline.

import { type Command, Option } from "commander";
import {
  type CommonFlags,
  defaults,
  type Environment,
  type MetricsFlags,
  resolveCommonConfig,
  resolveMetricsConfig,
} from "../config/config.js";
import { type GraphFlags, graphDefaults, graphEnvironmentHelp, resolveGraphConfig } from "../config/graph.js";
import { withSignals } from "../pipelines/lifecycle.js";
import { addCommonOptions, addMetricsOptions, helpFooter, reporterFor } from "./common.js";

export function addGraph(program: Command, env: Environment): void {
  const command = program
    .command("graph")
    .description(`serve the live risk graph: score by birth year from ${defaults.outputTopic}, in a browser`);
  addMetricsOptions(addCommonOptions(command))
    .addOption(new Option("--host <address>", `address to serve on (default ${graphDefaults.host})`))
    .addOption(
      new Option(
        "--port <n>",
        `port to serve on, 0 for any free one (env STEDI_GRAPH_PORT, default ${graphDefaults.port})`,
      ),
    )
    .addOption(
      new Option(
        "--window <n>",
        `how many of the latest points the graph shows (default ${graphDefaults.window})`,
      ),
    )
    .addHelpText(
      "after",
      helpFooter(
        [
          "stedi graph                        # then open http://127.0.0.1:4567",
          "stedi graph --from latest --window 60",
          "stedi graph --host 0.0.0.0 --port 8080 --output-topic customer-risk",
        ],
        graphEnvironmentHelp,
      ),
    )
    .action(async (flags: CommonFlags & GraphFlags & MetricsFlags) => {
      const common = resolveCommonConfig(flags, env);
      const graph = resolveGraphConfig(flags, env);
      const metrics = resolveMetricsConfig(flags);
      const { runGraph } = await import("../pipelines/graph.js");
      await withSignals((lifecycle) =>
        runGraph({ common, graph, reporter: reporterFor(flags, env), lifecycle, metrics }),
      );
    });
}
