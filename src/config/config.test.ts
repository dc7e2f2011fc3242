import { describe, expect, it } from "vitest";
import { StediError } from "../errors.js";
import {
  parseDuration,
  resolveCommonConfig,
  resolveConsoleConfig,
  parseJoinWorker,
  resolveJoinConfig,
  resolveMetricsConfig,
} from "./config.js";

describe("resolveCommonConfig", () => {
  it("fills defaults", () => {
    expect(resolveCommonConfig({}, {})).toEqual({
      brokers: ["127.0.0.1:9092"],
      redisTopic: "redis-server",
      eventsTopic: "stedi-events",
      outputTopic: "stedi-graph",
      dlqTopic: "stedi-dlq",
      from: "earliest",
      group: undefined,
      exitOnIdleMs: undefined,
      json: false,
      logDir: "logs",
      connectTimeoutMs: 10_000,
      security: { tls: undefined, sasl: undefined },
    });
  });

  it("takes TLS and SASL from flags or the environment, the password only from the environment or a file", () => {
    const env = {
      KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      KAFKA_SASL_USERNAME: "stedi",
      KAFKA_SASL_PASSWORD: "hunter2",
      KAFKA_SSL_CA: "/etc/ca.pem",
    };
    expect(resolveCommonConfig({}, env).security).toEqual({
      tls: { ca: "/etc/ca.pem", cert: undefined, key: undefined },
      sasl: { mechanism: "scram-sha-512", username: "stedi", password: { value: "hunter2" } },
    });
    expect(
      resolveCommonConfig({ saslMechanism: "plain", saslUsername: "u", saslPasswordFile: "/run/pw" }, {})
        .security,
    ).toEqual({
      tls: undefined,
      sasl: { mechanism: "plain", username: "u", password: { file: "/run/pw" } },
    });
    expect(resolveCommonConfig({ ssl: true }, {}).security.tls).toEqual({
      ca: undefined,
      cert: undefined,
      key: undefined,
    });
  });

  it("explains missing SASL settings without echoing any secret", () => {
    expect(() =>
      resolveCommonConfig({ saslMechanism: "scram-sha-256" }, { KAFKA_SASL_PASSWORD: "hunter2" }),
    ).toThrowError(/--sasl-username/);
    expect(() => resolveCommonConfig({ saslMechanism: "scram-sha-256", saslUsername: "u" }, {})).toThrowError(
      /KAFKA_SASL_PASSWORD or --sasl-password-file/,
    );
    expect(() =>
      resolveCommonConfig(
        { saslMechanism: "kerberos", saslUsername: "u" },
        { KAFKA_SASL_PASSWORD: "hunter2" },
      ),
    ).toThrowError(/^(?!.*hunter2).*--sasl-mechanism must be/);
  });

  it("prefers flags over the environment over defaults", () => {
    const env = { KAFKA_BROKERS: "a:1, b:2", STEDI_LOG_DIR: "/tmp/l", STEDI_CONNECT_TIMEOUT: "2000" };
    expect(resolveCommonConfig({}, env)).toMatchObject({
      brokers: ["a:1", "b:2"],
      logDir: "/tmp/l",
      connectTimeoutMs: 2000,
    });
    expect(resolveCommonConfig({ brokers: "c:3", connectTimeout: "500" }, env)).toMatchObject({
      brokers: ["c:3"],
      connectTimeoutMs: 500,
    });
  });

  it.each([
    [{ brokers: "nohost" }, "host:port"],
    [{ brokers: "," }, "at least one broker"],
    [{ from: "middle" }, "--from must be earliest or latest"],
    [{ exitOnIdle: "soon" }, "--exit-on-idle must be a number"],
    [{ exitOnIdle: "-5" }, "--exit-on-idle must be positive"],
  ])("rejects %j with a config error", (flags, message) => {
    expect(() => resolveCommonConfig(flags, {})).toThrowError(message);
    try {
      resolveCommonConfig(flags, {});
    } catch (error) {
      expect(error).toBeInstanceOf(StediError);
      expect((error as StediError).exitCode).toBe(2);
    }
  });
});

describe("console and join options", () => {
  it("defaults to Spark's 20 truncated rows", () => {
    expect(resolveConsoleConfig({})).toEqual({ rows: 20, truncate: true, triggerMs: 500, all: false });
    expect(resolveConsoleConfig({ rows: "5", truncate: false })).toMatchObject({ rows: 5, truncate: false });
  });

  it("reads --wait with units", () => {
    expect(parseDuration("1500")).toBe(1500);
    expect(parseDuration("60s")).toBe(60_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(resolveJoinConfig({})).toEqual({
      waitMs: 60_000,
      console: false,
      workers: 1,
      worker: undefined,
      stateDir: undefined,
      checkpointIntervalMs: 30_000,
      metricsPort: undefined,
      metricsHost: "127.0.0.1",
    });
    expect(resolveJoinConfig({}, { STEDI_STATE_DIR: "/var/lib/stedi" }).stateDir).toBe("/var/lib/stedi");
    expect(resolveJoinConfig({ stateDir: "state" }, { STEDI_STATE_DIR: "/var/lib/stedi" }).stateDir).toBe(
      "state",
    );
    expect(() => resolveJoinConfig({}, { STEDI_STATE_DIR: "" })).toThrowError("--state-dir is empty");
    expect(resolveJoinConfig({ metricsPort: "9400" })).toMatchObject({ metricsPort: 9400 });
    expect(() => resolveJoinConfig({ metricsPort: "70000" })).toThrowError("--metrics-port");
    expect(() => resolveJoinConfig({ wait: "later" })).toThrowError("--wait");
  });

  it("reads --workers, and a worker's place among them from STEDI_JOIN_WORKER", () => {
    expect(resolveJoinConfig({ workers: "2" }).workers).toBe(2);
    expect(() => resolveJoinConfig({ workers: "0" })).toThrowError("--workers must be between 1 and 64");
    expect(() => resolveJoinConfig({ workers: "1.5" })).toThrowError("--workers must be a whole number");
    expect(() => resolveJoinConfig({ workers: "two" })).toThrowError("--workers must be a number");
    expect(() => resolveJoinConfig({ workers: "2", console: true })).toThrowError("use it without --workers");
    expect(() => resolveJoinConfig({ workers: "3", metricsPort: "65534" })).toThrowError("at most 65535");
    // A worker starts no workers, and serves its metrics on the port + its index.
    const worker = resolveJoinConfig({ workers: "3", metricsPort: "9400" }, { STEDI_JOIN_WORKER: "2/3" });
    expect(worker).toMatchObject({ workers: 1, worker: { index: 2, count: 3 }, metricsPort: 9402 });
    expect(resolveJoinConfig({ metricsPort: "0" }, { STEDI_JOIN_WORKER: "1/2" }).metricsPort).toBe(0);
    expect(parseJoinWorker("3/3")).toBeUndefined();
    expect(parseJoinWorker("x")).toBeUndefined();
    expect(parseJoinWorker(undefined)).toBeUndefined();
  });

  it("resolves the metrics options every long-running command shares", () => {
    expect(resolveMetricsConfig({})).toEqual({ metricsPort: undefined, metricsHost: "127.0.0.1" });
    expect(resolveMetricsConfig({ metricsPort: "0", metricsHost: "::1" })).toEqual({
      metricsPort: 0,
      metricsHost: "::1",
    });
    expect(() => resolveMetricsConfig({ metricsPort: "-1" })).toThrowError("--metrics-port");
    expect(() => resolveMetricsConfig({ metricsPort: "abc" })).toThrowError("--metrics-port");
    expect(() => resolveMetricsConfig({ metricsHost: "" })).toThrowError("--metrics-host");
  });
});
