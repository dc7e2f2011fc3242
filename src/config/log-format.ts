// How diagnostics on stderr are written: readable lines for people, or JSON lines for log collectors.

import { configError } from "../errors.js";

export const logFormats = ["text", "json"] as const;
export type LogFormat = (typeof logFormats)[number];

const isLogFormat = (text: string | undefined): text is LogFormat =>
  text !== undefined && (logFormats as readonly string[]).includes(text);

/**
 * --log-format, else STEDI_LOG_FORMAT, else text. Throws a config error (exit 2) for any other value,
 * naming where it came from.
 */
export function resolveLogFormat(
  flag: string | undefined,
  env: { STEDI_LOG_FORMAT?: string | undefined },
): LogFormat {
  const text = flag ?? env.STEDI_LOG_FORMAT ?? "text";
  if (isLogFormat(text)) return text;
  const source = flag === undefined ? "STEDI_LOG_FORMAT" : "--log-format";
  throw configError(`${source} must be text or json, got ${JSON.stringify(text)}`, "see --help");
}

/**
 * The format a command line asks for, read before commander parses it, so that a usage error is
 * written in that format too. The last --log-format wins, as in commander; arguments after `--` are
 * not options. Never throws: an invalid value gives text (the command then fails on it, in text).
 */
export function findLogFormat(
  args: readonly string[],
  env: { STEDI_LOG_FORMAT?: string | undefined },
): LogFormat {
  let flag: string | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === "--") break;
    if (arg === "--log-format") flag = args[index + 1] ?? "";
    else if (arg.startsWith("--log-format=")) flag = arg.slice("--log-format=".length);
  }
  const text = flag ?? env.STEDI_LOG_FORMAT;
  return isLogFormat(text) ? text : "text";
}
