// Entry point: runs the program and maps every failure to one line and an exit code.

import { chalkStderr as colour } from "chalk";
import { buildProgram, CommanderError, fromCommanderError } from "./cli/program.js";
import { describeCause, StediError } from "./errors.js";

function report(error: StediError): void {
  const hint = error.hint ? colour.dim(` (${error.hint})`) : "";
  process.stderr.write(`${colour.red("stedi:")} ${error.message}${hint}\n`);
}

export async function main(argv: string[]): Promise<number> {
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
