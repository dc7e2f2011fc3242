// Entry point: runs the program and maps every failure to one line and an exit code.

import { writeProcessWarningsAsJson } from "./adapters/json-log.js";
import { reportFailure } from "./adapters/terminal.js";
import { buildProgram, CommanderError, fromCommanderError } from "./cli/program.js";
import { findLogFormat } from "./config/log-format.js";
import { describeCause, StediError } from "./errors.js";

export async function main(argv: string[]): Promise<number> {
  // Read before parsing, so that usage errors and Node's own warnings come in the same format.
  const format = findLogFormat(argv.slice(2), process.env);
  if (format === "json") writeProcessWarningsAsJson();
  const report = (error: StediError) => reportFailure(error, format);
  try {
    await buildProgram(process.env).parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      const usage = fromCommanderError(error);
      if (!usage) return 0;
      report(usage);
      return usage.exitCode;
    }
    if (error instanceof StediError) {
      report(error);
      return error.exitCode;
    }
    report(
      new StediError("internal", `unexpected failure: ${describeCause(error)}`, {
        hint: "please report this",
      }),
    );
    if (process.env.STEDI_DEBUG) console.error(error);
    return 1;
  }
}

// Kafka clients may keep sockets open a moment after disconnect; the exit code is final here.
main(process.argv).then((code) => process.exit(code));
