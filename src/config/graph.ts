// The graph command's own settings (host, port, window), resolved like the common ones: flags > env > defaults.

import { z } from "zod";
import { type Environment, parseOrThrow } from "./config.js";

export const graphDefaults = { host: "127.0.0.1", port: 4567, window: 300 } as const;

/** Environment variables the graph reads besides the common ones; listed in its --help. */
export const graphEnvironmentHelp: [string, string][] = [
  ["STEDI_GRAPH_PORT", `port of the graph's web server (default ${graphDefaults.port})`],
];

const wholeNumber = (what: string) =>
  z.coerce.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`);

export const graphConfigSchema = z.object({
  host: z.string().trim().min(1, "--host is empty"),
  // 0 lets the system pick a free port; the URL printed at start names the one chosen.
  port: wholeNumber("--port").min(0, "--port must be 0 to 65535").max(65_535, "--port must be 0 to 65535"),
  window: wholeNumber("--window")
    .min(1, "--window must be positive")
    .max(100_000, "--window must be at most 100000 (a browser draws every point)"),
});

export type GraphConfig = z.infer<typeof graphConfigSchema>;

export type GraphFlags = { host?: string; port?: string; window?: string };

/** Throws a config error (exit 2) on invalid values. */
export const resolveGraphConfig = (flags: GraphFlags, env: Environment): GraphConfig =>
  parseOrThrow(graphConfigSchema, {
    host: flags.host ?? graphDefaults.host,
    port: flags.port ?? env.STEDI_GRAPH_PORT ?? graphDefaults.port,
    window: flags.window ?? graphDefaults.window,
  });
