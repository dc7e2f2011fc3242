// The terminal: data to stdout, warnings, progress and summaries to stderr, colours only where wanted.

import { chalkStderr as colour } from "chalk";
import type { Ora } from "ora";
import type { LogFormat } from "../config/log-format.js";
import { RateLimiter } from "../core/rate-limit.js";
import type { StediError } from "../errors.js";
import { createJsonLog, createJsonReporter, type JsonLogOptions } from "./json-log.js";

/** Values a JSON line carries beside its message (counts, names); text lines leave them out. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type Reporter = {
  /** A record that could not be used: where it was and why. Rate-limited. */
  badRecord(where: { topic: string; partition: number; offset: string }, reason: string): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  /** A live status line (a spinner on a terminal; silent otherwise). */
  status(text: string): void;
  /** Ends the status line and prints any held-back warnings. */
  close(): void;
};

/**
 * Diagnostics on stderr: readable lines (coloured on a terminal, with a spinner for the status line),
 * or with `format: "json"` JSON lines for log collectors (see json-log.ts).
 */
export function createReporter(options: { quiet?: boolean; format?: LogFormat } = {}): Reporter {
  if (options.format === "json") return createJsonReporter({ quiet: options.quiet });
  const limiter = new RateLimiter(5, 5000);
  // A terminal that reports no width (some pseudo-terminals) would make every spinner frame clear
  // "infinitely" many lines: no spinner there.
  const interactive = process.stderr.isTTY === true && !process.env.CI && (process.stderr.columns ?? 0) > 0;
  let spinner: Ora | undefined;
  // The spinner library takes a noticeable part of start-up to load: only a terminal gets it, and
  // it loads while the command connects (status lines before that are simply not drawn).
  let makeSpinner: typeof import("ora").default | undefined;
  if (interactive && !options.quiet) {
    void import("ora").then((module) => {
      makeSpinner = module.default;
    });
  }

  const write = (line: string) => {
    if (spinner?.isSpinning) spinner.clear();
    process.stderr.write(`${line}\n`);
    if (spinner?.isSpinning) spinner.render();
  };
  const reportHeld = (held: number) => {
    if (held > 0) write(colour.yellow(`… ${held} more bad records not shown (see the counts at exit)`));
  };

  return {
    badRecord(where, reason) {
      const { allowed, heldBack } = limiter.take(Date.now());
      reportHeld(heldBack);
      if (allowed)
        write(colour.yellow(`bad record ${where.topic}[${where.partition}]@${where.offset}: ${reason}`));
    },
    info(message) {
      if (!options.quiet) write(colour.dim(message));
    },
    warn(message) {
      write(colour.yellow(message));
    },
    status(text) {
      if (!interactive || options.quiet) return;
      if (spinner) spinner.text = text;
      else if (makeSpinner)
        spinner = makeSpinner({ text, stream: process.stderr, discardStdin: false }).start();
    },
    close() {
      spinner?.stop();
      spinner = undefined;
      reportHeld(limiter.drain());
    },
  };
}

/**
 * The line a failed command ends with: `stedi: message (hint)`, or in JSON a line at level error
 * with the error's code and exit code as fields.
 */
export function reportFailure(error: StediError, format: LogFormat, json: JsonLogOptions = {}): void {
  if (format === "json") {
    createJsonLog(json).write("error", error.message, {
      code: error.code,
      exitCode: error.exitCode,
      hint: error.hint,
    });
    return;
  }
  const hint = error.hint ? colour.dim(` (${error.hint})`) : "";
  process.stderr.write(`${colour.red("stedi:")} ${error.message}${hint}\n`);
}
