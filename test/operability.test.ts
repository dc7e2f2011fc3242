import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "./data.js";
import { connectorZadd, customerJson, exampleRiskEvent, riskEventJson } from "./fixtures.js";
import { type Running, runStedi, startStedi } from "./support/cli.js";
import { joinArgs } from "./support/join-args.js";
import { brokers, freshTopic, produce, waitForRecords } from "./support/kafka.js";
import { startPrivateRedis } from "./support/redis-server.js";

// scripts/stack.sh adds a SASL_PLAINTEXT listener beside the plain one, with user stedi.
const saslBroker = `127.0.0.1:${Number(process.env.KAFKA_PORT ?? "9092") + 2}`;
const password = "stedi-secret";

describe("secured clusters", () => {
  it.each(["scram-sha-256", "scram-sha-512", "plain"])(
    "reads through SASL %s with the password from the environment",
    async (mechanism) => {
      const topic = await freshTopic(`sasl-${mechanism}`);
      await produce(topic, [exampleRiskEvent()]);
      const result = await runStedi(
        [
          "events-console",
          "--brokers",
          saslBroker,
          "--events-topic",
          topic,
          "--sasl-mechanism",
          mechanism,
          "--sasl-username",
          "stedi",
          "--json",
          "--no-log",
          "--exit-on-idle",
          "1500",
        ],
        { env: { KAFKA_SASL_PASSWORD: password } },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ customer: "Jason.Mitra@test.com" });
    },
  );

  it("reads the password from a file", async () => {
    const topic = await freshTopic("sasl-file");
    await produce(topic, [exampleRiskEvent()]);
    const file = join(mkdtempSync(join(tmpdir(), "stedi-secret-")), "password");
    writeFileSync(file, `${password}\n`);
    const result = await runStedi([
      "events-console",
      "--brokers",
      saslBroker,
      "--events-topic",
      topic,
      "--sasl-mechanism",
      "scram-sha-256",
      "--sasl-username",
      "stedi",
      "--sasl-password-file",
      file,
      "--json",
      "--no-log",
      "--exit-on-idle",
      "1500",
    ]);
    expect(result.code, result.stderr).toBe(0);
  });

  it("fails a wrong password with one line that names no secret", async () => {
    const wrong = "not-the-Secret-42";
    const result = await runStedi(
      [
        "join",
        "--brokers",
        saslBroker,
        "--sasl-mechanism",
        "scram-sha-256",
        "--sasl-username",
        "stedi",
        "--connect-timeout",
        "5000",
      ],
      { env: { KAFKA_SASL_PASSWORD: wrong } },
    );
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
    expect(result.stderr).toMatch(/authentication failed|Authentication failed/i);
    expect(result.stderr).not.toContain(wrong);
  });

  it("never shows secrets in --help", async () => {
    const result = await runStedi(["join", "--help"], { env: { KAFKA_SASL_PASSWORD: "hunter2-in-env" } });
    expect(result.stdout).toContain("--sasl-mechanism");
    expect(result.stdout).not.toContain("hunter2-in-env");
  });
});

describe("TLS", () => {
  // scripts/stack.sh adds a mutual-TLS listener too, with certificates from its own CA.
  const kafkaPort = Number(process.env.KAFKA_PORT ?? "9092");
  const tlsBroker = `127.0.0.1:${kafkaPort + 3}`;
  const tls = join(projectRoot, ".stack", `kafka-${kafkaPort}`, "tls");

  it("reads through TLS with the CA and a client certificate", async () => {
    const topic = await freshTopic("tls");
    await produce(topic, [exampleRiskEvent()]);
    const result = await runStedi([
      "events-console",
      "--brokers",
      tlsBroker,
      "--events-topic",
      topic,
      "--ssl-ca",
      join(tls, "ca.pem"),
      "--ssl-cert",
      join(tls, "client.pem"),
      "--ssl-key",
      join(tls, "client.key"),
      "--json",
      "--no-log",
      "--exit-on-idle",
      "1500",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ customer: "Jason.Mitra@test.com" });
  });

  it("gives one line and exit 3 when the broker wants a client certificate and gets none", async () => {
    const result = await runStedi([
      "join",
      "--brokers",
      tlsBroker,
      "--ssl-ca",
      join(tls, "ca.pem"),
      "--connect-timeout",
      "3000",
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
  });

  it("names a missing certificate file in one line with exit 2", async () => {
    const result = await runStedi(["join", "--brokers", tlsBroker, "--ssl-ca", "/nonexistent/ca.pem"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cannot read --ssl-ca /nonexistent/ca.pem: ENOENT");
  });
});

/** The metrics server's base URL, once the command has announced it. */
async function metricsBase(running: Running): Promise<string> {
  await running.waitFor(/metrics on (http:\/\/[^/]+)\/metrics/);
  return /metrics on (http:\/\/[^/\s]+)\/metrics/.exec(running.stderr())?.[1] ?? "";
}

/** The distinct statuses /ready answered in order, polled until it says 200 (or 15 s pass). */
async function readiness(base: string): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + 15_000;
  while (seen.at(-1) !== 200 && Date.now() < deadline) {
    const status = (await fetch(`${base}/ready`)).status;
    if (seen.at(-1) !== status) seen.push(status);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return seen;
}

/** prom-client's default process and Node metrics. */
function expectDefaultMetrics(metrics: string): void {
  expect(metrics).toMatch(/^process_resident_memory_bytes \d+$/m);
  expect(metrics).toMatch(/^process_cpu_seconds_total [\d.]+$/m);
  expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+$/m);
  expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d+$/m);
  expect(metrics).toContain("# TYPE nodejs_gc_duration_seconds histogram");
}

describe("join operability", () => {
  it("serves /healthz and Prometheus /metrics while running, and drains on SIGTERM within 5 s", async () => {
    const redis = await freshTopic("metrics-redis");
    const events = await freshTopic("metrics-events", 2);
    const output = await freshTopic("metrics-graph");
    const dlq = await freshTopic("metrics-dlq");
    await produce(redis, [connectorZadd("Customer", [customerJson("M T", "m.t@test.com", "1950-01-01")])]);
    await produce(events, [riskEventJson("m.t@test.com", "1"), riskEventJson("m.t@test.com", "2"), "bad"]);
    const running = startStedi([
      "join",
      ...joinArgs({ brokers, topics: { redis, events, output, dlq }, group: `metrics-${Date.now()}` }, [
        "--metrics-port",
        "0",
        "--no-log",
      ]),
    ]);
    const base = await metricsBase(running);
    // Not ready (503) until customers are loaded and both groups have their partitions, then ready
    // for good; on a quick broker that may already be so when the server answers first.
    const statuses = await readiness(base);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
    await waitForRecords(output, 2);
    let metrics = "";
    for (let attempt = 0; attempt < 20 && !/stedi_join_dead_letters_total 1/.test(metrics); attempt += 1) {
      metrics = await (await fetch(`${base}/metrics`)).text();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(metrics).toMatch(/^stedi_join_events_consumed_total 3$/m);
    expect(metrics).toMatch(/^stedi_join_records_produced_total 2$/m);
    expect(metrics).toMatch(/^stedi_join_dead_letters_total 1$/m);
    expect(metrics).toMatch(/^stedi_join_customers 1$/m);
    expect(metrics).toMatch(/^stedi_join_waiting_events 0$/m);
    expect(metrics).toMatch(/^stedi_join_lag_records\{partition="\d"\} 0$/m);
    expect(metrics).toMatch(/^stedi_join_transaction_seconds_count \d+$/m);
    expectDefaultMetrics(metrics);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: "ok",
      ready: true,
      customersLoaded: true,
      partitions: [0, 1],
    });
    const asked = Date.now();
    running.child.kill("SIGTERM");
    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - asked).toBeLessThan(5000);
  });
});

describe("redis-source operability", () => {
  it("is ready once attached to Redis, and counts what it publishes on /metrics", async () => {
    const redis = await startPrivateRedis();
    try {
      const topic = await freshTopic("metrics-source");
      // A paused Redis holds the replication handshake back, so /ready is seen saying "not yet".
      await redis.cli("client", "pause", "3000", "ALL");
      const running = startStedi([
        "redis-source",
        "--brokers",
        brokers.join(","),
        "--redis",
        redis.url,
        "--redis-topic",
        topic,
        "--metrics-port",
        "0",
      ]);
      const base = await metricsBase(running);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(await readiness(base)).toEqual([503, 200]);
      await running.waitFor("publishing writes from now on");
      await redis.cli("zadd", "Customer", "0", "c1");
      await redis.cli("zadd", "Customer", "0", "c2");
      // Every record the topic holds (the ZADDs, and whatever else Redis replicated) is counted.
      const records = await waitForRecords(topic, 2);
      const published = new RegExp(`^stedi_redis_source_records_published_total ${records.length}$`, "m");
      let metrics = "";
      for (let attempt = 0; attempt < 20 && !published.test(metrics); attempt += 1) {
        metrics = await (await fetch(`${base}/metrics`)).text();
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(metrics).toMatch(published);
      expect(metrics).toMatch(/^stedi_redis_source_replication_offset_bytes [1-9]\d*$/m);
      expect(metrics).toMatch(/^stedi_redis_source_connected 1$/m);
      expect(metrics).toMatch(/^stedi_redis_source_reconnects_total 0$/m);
      expectDefaultMetrics(metrics);
      running.child.kill("SIGTERM");
      const result = await running.finished;
      expect(result.code, result.stderr).toBe(0);
    } finally {
      await redis.stop();
    }
  });
});
