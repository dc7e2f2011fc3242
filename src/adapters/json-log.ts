// Diagnostics as JSON lines for log collectors (--log-format json): one object per line with level,
// time, msg and fields, written by pino, with credentials and secret fields redacted.

import { createRequire } from "node:module";
import type { DestinationStream } from "pino";
import { RateLimiter } from "../core/rate-limit.js";
import type { LogFields, Reporter } from "./terminal.js";

export type JsonLogLevel = "info" | "warn" | "error";

export type JsonLog = {
  /** Writes one line; `fields` sit beside level, time and msg (undefined ones are left out). */
  write(level: JsonLogLevel, message: string, fields?: LogFields): void;
};

export type JsonLogOptions = {
  /** Where lines go; default stderr, written synchronously so nothing is lost at process.exit. */
  destination?: DestinationStream;
  /** The clock for `time`; default Date.now. */
  now?: () => number;
};

// pino takes about 30 ms to load, a noticeable part of a command's start-up: only a command that
// writes JSON lines loads it.
const loadPino = () => createRequire(import.meta.url)("pino") as typeof import("pino");

/** Field names whose values are secrets wherever they appear (top level or one object down). */
const secretFields = ["password", "passphrase", "secret", "token", "authorization", "saslPassword"];

/**
 * Replaces the password of every URL in `text` (`redis://user:hunter2@host` → `redis://user:***@host`),
 * as text messages do for the Redis URL.
 */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@]*@/gi, "$1***@");
}

const redactFields = (fields: Record<string, unknown>): Record<string, unknown> => {
  const redacted: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields))
    redacted[name] = typeof value === "string" ? redactCredentials(value) : value;
  return redacted;
};

/** A JSON-lines writer over pino. */
export function createJsonLog(options: JsonLogOptions = {}): JsonLog {
  const pino = loadPino();
  const now = options.now ?? Date.now;
  const logger = pino(
    {
      // Only what a diagnostic says: no pid or hostname, which a collector adds itself.
      base: null,
      timestamp: () => `,"time":"${new Date(now()).toISOString()}"`,
      // Levels by name ("warn"), which collectors map without a table of pino's numbers.
      formatters: { level: (label) => ({ level: label }), log: redactFields },
      redact: { paths: secretFields.flatMap((name) => [name, `*.${name}`]), censor: "***" },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  return {
    write(level, message, fields) {
      logger[level]({ ...fields }, redactCredentials(message));
    },
  };
}

/**
 * The reporter of --log-format json: info, warnings and bad records (with topic, partition, offset
 * and reason as fields) as JSON lines; no spinner, no colour, and status lines are not written.
 */
export function createJsonReporter(options: JsonLogOptions & { quiet?: boolean } = {}): Reporter {
  const log = createJsonLog(options);
  const now = options.now ?? Date.now;
  const limiter = new RateLimiter(5, 5000);
  const reportHeld = (heldBack: number) => {
    if (heldBack > 0)
      log.write("warn", `${heldBack} more bad records not shown (see the counts at exit)`, { heldBack });
  };
  return {
    badRecord(where, reason) {
      const { allowed, heldBack } = limiter.take(now());
      reportHeld(heldBack);
      if (allowed)
        log.write("warn", "bad record", {
          topic: where.topic,
          partition: where.partition,
          offset: where.offset,
          reason,
        });
    },
    info(message, fields) {
      if (!options.quiet) log.write("info", message, fields);
    },
    warn(message, fields) {
      log.write("warn", message, fields);
    },
    status() {},
    close() {
      reportHeld(limiter.drain());
    },
  };
}

/** Node's own warnings (deprecations and the like) as JSON lines too, instead of Node's plain text. */
export function writeProcessWarningsAsJson(options: JsonLogOptions = {}): void {
  const log = createJsonLog(options);
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error & { code?: string }) =>
    log.write("warn", warning.message, { warning: warning.name, code: warning.code }),
  );
}
