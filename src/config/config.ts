// Resolves every command's configuration once: flags > environment > defaults, validated by zod.

import { z } from "zod";
import { describeIssues } from "../core/customers/customer.js";
import { configError } from "../errors.js";

export const defaults = {
  brokers: "127.0.0.1:9092",
  redisTopic: "redis-server",
  eventsTopic: "stedi-events",
  outputTopic: "stedi-graph",
  dlqTopic: "stedi-dlq",
  from: "earliest",
  logDir: "logs",
  connectTimeoutMs: 10_000,
  joinGroup: "stedi-join",
  waitMs: 60_000,
  /** How often the join rewrites its customer checkpoint when the table changed (with --state-dir). */
  checkpointIntervalMs: 30_000,
  rows: 20,
  triggerMs: 500,
  metricsHost: "127.0.0.1",
} as const;

/** Environment variables that fill flags left unset; listed in every command's --help. */
export const environmentHelp: [string, string][] = [
  ["KAFKA_BROKERS", `bootstrap brokers, host:port[,host:port…] (default ${defaults.brokers})`],
  ["STEDI_LOG_DIR", `folder for console logs (default ${defaults.logDir})`],
  ["STEDI_LOG_FORMAT", "text or json: how diagnostics are written on stderr (default text)"],
  ["STEDI_CONNECT_TIMEOUT", `ms to wait for Kafka before giving up (default ${defaults.connectTimeoutMs})`],
  ["KAFKA_SSL", "true to connect to Kafka over TLS (implied by KAFKA_SSL_CA/CERT/KEY)"],
  ["KAFKA_SSL_CA, KAFKA_SSL_CERT, KAFKA_SSL_KEY", "PEM files: CA bundle, client certificate and key"],
  ["KAFKA_SASL_MECHANISM", "plain, scram-sha-256 or scram-sha-512"],
  ["KAFKA_SASL_USERNAME", "SASL user name"],
  ["KAFKA_SASL_PASSWORD", "SASL password (or --sasl-password-file); never printed"],
  ["NO_COLOR", "disable colours (also off when stderr is not a terminal)"],
];

const brokerPattern = /^[^\s:,]+:\d{1,5}$/;

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be positive`);

export const commonConfigSchema = z.object({
  brokers: z
    .string()
    .transform((text) =>
      text
        .split(",")
        .map((broker) => broker.trim())
        .filter((broker) => broker !== ""),
    )
    .pipe(
      z
        .array(z.string().regex(brokerPattern, "each broker must be host:port"))
        .min(1, "at least one broker is needed"),
    ),
  redisTopic: z.string().min(1),
  eventsTopic: z.string().min(1),
  outputTopic: z.string().min(1),
  dlqTopic: z.string().min(1),
  from: z.enum(["earliest", "latest"], { error: "--from must be earliest or latest" }),
  group: z.string().min(1).optional(),
  exitOnIdleMs: positiveInt("--exit-on-idle").optional(),
  json: z.boolean(),
  /** null when logging to files is off (--no-log). */
  logDir: z.string().min(1).nullable(),
  connectTimeoutMs: positiveInt("--connect-timeout"),
  security: z.object({
    tls: z
      .object({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() })
      .optional(),
    sasl: z
      .object({
        mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"], {
          error: "--sasl-mechanism must be plain, scram-sha-256 or scram-sha-512",
        }),
        username: z.string({ error: "SASL needs --sasl-username (or KAFKA_SASL_USERNAME)" }).min(1),
        /** Either the password itself (from the environment) or a file that holds it. */
        password: z.union([z.object({ value: z.string() }), z.object({ file: z.string() })], {
          error: "SASL needs KAFKA_SASL_PASSWORD or --sasl-password-file",
        }),
      })
      .optional(),
  }),
});

export type CommonConfig = z.infer<typeof commonConfigSchema>;
export type KafkaSecurity = CommonConfig["security"];

/** The flags every command shares, as commander hands them over (unset flags are undefined). */
export type CommonFlags = {
  brokers?: string;
  redisTopic?: string;
  eventsTopic?: string;
  outputTopic?: string;
  dlqTopic?: string;
  from?: string;
  group?: string;
  exitOnIdle?: string;
  json?: boolean;
  logDir?: string;
  log?: boolean;
  /** text or json; checked by resolveLogFormat (log-format.ts), not part of CommonConfig. */
  logFormat?: string;
  connectTimeout?: string;
  ssl?: boolean;
  sslCa?: string;
  sslCert?: string;
  sslKey?: string;
  saslMechanism?: string;
  saslUsername?: string;
  saslPasswordFile?: string;
};

const truthy = (text: string | undefined) => text !== undefined && /^(1|true|yes|on)$/i.test(text);

/** TLS and SASL settings; secrets stay values in memory and are never part of a message. */
function resolveSecurity(flags: CommonFlags, env: Environment) {
  const ca = flags.sslCa ?? env.KAFKA_SSL_CA;
  const cert = flags.sslCert ?? env.KAFKA_SSL_CERT;
  const key = flags.sslKey ?? env.KAFKA_SSL_KEY;
  const tlsWanted =
    flags.ssl === true ||
    truthy(env.KAFKA_SSL) ||
    ca !== undefined ||
    cert !== undefined ||
    key !== undefined;
  const mechanism = flags.saslMechanism ?? env.KAFKA_SASL_MECHANISM;
  const passwordFile = flags.saslPasswordFile ?? env.KAFKA_SASL_PASSWORD_FILE;
  const password =
    passwordFile !== undefined
      ? { file: passwordFile }
      : env.KAFKA_SASL_PASSWORD !== undefined
        ? { value: env.KAFKA_SASL_PASSWORD }
        : undefined;
  return {
    tls: tlsWanted ? { ca, cert, key } : undefined,
    sasl:
      mechanism === undefined
        ? undefined
        : {
            mechanism: mechanism.toLowerCase(),
            username: flags.saslUsername ?? env.KAFKA_SASL_USERNAME,
            password,
          },
  };
}

export type Environment = Record<string, string | undefined>;

/** Validates input against a schema or throws a config error naming every problem. */
export function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw configError(`invalid options: ${describeIssues(parsed.error)}`, "see --help");
  return parsed.data;
}

/** Merges flags over environment over defaults. Throws a config error (exit 2) on invalid values. */
export function resolveCommonConfig(flags: CommonFlags, env: Environment): CommonConfig {
  return parseOrThrow(commonConfigSchema, {
    brokers: flags.brokers ?? env.KAFKA_BROKERS ?? defaults.brokers,
    redisTopic: flags.redisTopic ?? defaults.redisTopic,
    eventsTopic: flags.eventsTopic ?? defaults.eventsTopic,
    outputTopic: flags.outputTopic ?? defaults.outputTopic,
    dlqTopic: flags.dlqTopic ?? defaults.dlqTopic,
    from: flags.from ?? defaults.from,
    group: flags.group,
    exitOnIdleMs: flags.exitOnIdle,
    json: flags.json ?? false,
    logDir: flags.log === false ? null : (flags.logDir ?? env.STEDI_LOG_DIR ?? defaults.logDir),
    connectTimeoutMs: flags.connectTimeout ?? env.STEDI_CONNECT_TIMEOUT ?? defaults.connectTimeoutMs,
    security: resolveSecurity(flags, env),
  });
}

export const consoleConfigSchema = z.object({
  rows: positiveInt("--rows"),
  truncate: z.boolean(),
  triggerMs: positiveInt("--trigger"),
  all: z.boolean(),
});
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export type ConsoleFlags = { rows?: string; truncate?: boolean; trigger?: string; all?: boolean };

export const resolveConsoleConfig = (flags: ConsoleFlags): ConsoleConfig =>
  parseOrThrow(consoleConfigSchema, {
    rows: flags.rows ?? defaults.rows,
    truncate: flags.truncate ?? true,
    triggerMs: flags.trigger ?? defaults.triggerMs,
    all: flags.all ?? false,
  });

const portNumber = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(0, `${what} must be between 0 and 65535`)
    .max(65_535, `${what} must be between 0 and 65535`);

export const metricsConfigSchema = z.object({
  /** Serve /metrics, /healthz and /ready on this port (0: any free port); undefined: no server. */
  metricsPort: portNumber("--metrics-port").optional(),
  metricsHost: z.string().min(1, "--metrics-host is empty"),
});
export type MetricsConfig = z.infer<typeof metricsConfigSchema>;

/** The options of every long-running command. */
export type MetricsFlags = { metricsPort?: string; metricsHost?: string };

const metricsInput = (flags: MetricsFlags) => ({
  metricsPort: flags.metricsPort,
  metricsHost: flags.metricsHost ?? defaults.metricsHost,
});

/** Throws a config error (exit 2) for a port outside 0-65535 or an empty host. */
export const resolveMetricsConfig = (flags: MetricsFlags): MetricsConfig =>
  parseOrThrow(metricsConfigSchema, metricsInput(flags));

export const joinConfigSchema = z
  .object({
    waitMs: positiveInt("--wait"),
    console: z.boolean(),
    /** Join processes to run in one consumer group (1: this process alone). */
    workers: z.coerce
      .number({ error: "--workers must be a number" })
      .int("--workers must be a whole number")
      .min(1, "--workers must be between 1 and 64")
      .max(64, "--workers must be between 1 and 64"),
    /** Set in a process started by `--workers`: which of how many it is. */
    worker: z.object({ index: z.number().int().min(0), count: z.number().int().min(1) }).optional(),
    /** Where the customer checkpoint lives; undefined: none is kept, every start reads the topic whole. */
    stateDir: z.string().min(1, "--state-dir is empty").optional(),
    checkpointIntervalMs: positiveInt("the checkpoint interval"),
    ...metricsConfigSchema.shape,
  })
  .refine((config) => !(config.console && config.workers > 1), {
    message: "--console prints the rows of one process: use it without --workers",
  })
  .refine((config) => (config.metricsPort ?? 0) + config.workers - 1 <= 65_535, {
    message: "--metrics-port: worker i serves on the port + i, which must stay at most 65535",
  });
export type JoinConfig = z.infer<typeof joinConfigSchema>;

export type JoinFlags = {
  wait?: string;
  console?: boolean;
  stateDir?: string;
  workers?: string;
} & MetricsFlags;

/** `STEDI_JOIN_WORKER=i/n`, set by a join started with `--workers n` in each of its processes. */
export function parseJoinWorker(value: string | undefined): { index: number; count: number } | undefined {
  const match = value === undefined ? null : /^(\d+)\/(\d+)$/.exec(value);
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return index < count ? { index, count } : undefined;
}

/** `--wait` takes milliseconds or a unit: 500ms, 60s, 2m. */
export function parseDuration(text: string): number | string {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) return text;
  const factor = { ms: 1, s: 1000, m: 60_000 }[(match[2] ?? "ms") as "ms" | "s" | "m"];
  return Math.round(Number(match[1]) * factor);
}

/**
 * A process started by `--workers n` runs as one of them: it starts no workers of its own, and
 * worker i serves its metrics on the given port + i. All share the customer checkpoint (each writes
 * it whole, by rename, and the table is the same for all).
 */
export function resolveJoinConfig(flags: JoinFlags, env: Environment = {}): JoinConfig {
  const worker = parseJoinWorker(env.STEDI_JOIN_WORKER);
  const config = parseOrThrow(joinConfigSchema, {
    waitMs: flags.wait === undefined ? defaults.waitMs : parseDuration(flags.wait),
    console: flags.console ?? false,
    workers: flags.workers ?? 1,
    worker,
    stateDir: flags.stateDir ?? env.STEDI_STATE_DIR,
    checkpointIntervalMs: defaults.checkpointIntervalMs,
    ...metricsInput(flags),
  });
  if (worker === undefined) return config;
  const metricsPort =
    config.metricsPort === undefined || config.metricsPort === 0
      ? config.metricsPort
      : config.metricsPort + worker.index;
  return { ...config, workers: 1, metricsPort };
}
