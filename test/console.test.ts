import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connectorZadd, customerJson, exampleRiskEvent, riskEventJson, samTestRecord } from "./fixtures.js";
import { runStedi } from "./support/cli.js";
import { brokers, freshTopic, port, produce } from "./support/kafka.js";

const common = (logDir: string) => [
  "--brokers",
  brokers.join(","),
  "--exit-on-idle",
  "1500",
  "--log-dir",
  logDir,
];

/** The objects of JSON-lines output. */
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("stedi events-console", () => {
  it("prints risk scores as Spark console batches, logs them, and reports bad records", async () => {
    const topic = await freshTopic("events");
    const logDir = mkdtempSync(join(tmpdir(), "stedi-logs-"));
    await produce(topic, [
      exampleRiskEvent(),
      riskEventJson("Christina.Hansen@test.com", "-31.5"),
      "not json at all",
      riskEventJson("Dan.Jones@test.com", "5"),
    ]);
    const result = await runStedi(["events-console", "--events-topic", topic, ...common(logDir)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      "-------------------------------------------\nBatch: 0\n-------------------------------------------\n",
    );
    expect(result.stdout).toContain("|            customer|score|");
    expect(result.stdout).toContain("|Jason.Mitra@test.com|  7.0|");
    expect(result.stdout).toContain("|Christina.Hansen@...|-31.5|");
    expect(result.stdout).toContain("|  Dan.Jones@test.com|  5.0|");
    expect(readFileSync(join(logDir, "eventstream.log"), "utf8")).toBe(result.stdout);
    expect(result.stderr).toContain(`bad record ${topic}[0]@2: not JSON`);
    expect(result.stderr).toContain("4 records");
  });

  it("shows nothing of aborted transactions, also when several producers' transactions interleave", async () => {
    const topic = await freshTopic("events-aborted");
    const logDir = mkdtempSync(join(tmpdir(), "stedi-logs-"));
    const writer = (name: string) => port.createTransactionalWriter(`${topic}-${name}`);
    const [first, second, third] = await Promise.all([writer("a"), writer("b"), writer("c")]);
    const record = (email: string, score: string) => [
      { topic, records: [{ key: null, value: riskEventJson(email, score) }] },
    ];
    try {
      const aborting = [await first.begin(), await second.begin()];
      for (let round = 0; round < 3; round += 1) {
        for (const [index, transaction] of aborting.entries())
          await transaction.send(record(`Aborted.${index}.${round}@test.com`, "1.0"));
      }
      // The broker lists aborted transactions in the order they ended: the later-started first.
      for (const transaction of aborting.reverse()) await transaction.abort();
      const committing = await third.begin();
      await committing.send(record("Committed@test.com", "2.0"));
      await committing.commit();
    } finally {
      await Promise.all([first, second, third].map((writer) => writer.close()));
    }
    const result = await runStedi(["events-console", "--events-topic", topic, "--json", ...common(logDir)]);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((event) => event.customer)).toEqual(["Committed@test.com"]);
  });

  it("writes one JSON object per line with --json", async () => {
    const topic = await freshTopic("events-json");
    const logDir = mkdtempSync(join(tmpdir(), "stedi-logs-"));
    await produce(topic, [exampleRiskEvent(), riskEventJson("a@test.com", "-0.5")]);
    const result = await runStedi(["events-console", "--events-topic", topic, "--json", ...common(logDir)]);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)).toEqual([
      { customer: "Jason.Mitra@test.com", score: 7, riskDate: "2020-09-14T07:54:06.417Z" },
      { customer: "a@test.com", score: -0.5, riskDate: "2020-09-14T07:54:06.417Z" },
    ]);
  });

  it("shows at most --rows rows per batch, whole cells with --no-truncate", async () => {
    const topic = await freshTopic("events-rows");
    const logDir = mkdtempSync(join(tmpdir(), "stedi-logs-"));
    await produce(
      topic,
      Array.from({ length: 5 }, (_, index) =>
        riskEventJson(`Someone.Long.Name${index}@test.com`, `${index}.5`),
      ),
    );
    const result = await runStedi([
      "events-console",
      "--events-topic",
      topic,
      "--rows",
      "2",
      "--no-truncate",
      "--trigger",
      "2000",
      ...common(logDir),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("|Someone.Long.Name0@test.com|0.5  |");
    expect(result.stdout).toContain("only showing top 2 rows");
    expect(result.stdout).not.toContain("Someone.Long.Name2@test.com");
  });
});

describe("stedi redis-console", () => {
  it("decodes connector records into customers and skips what is not a customer", async () => {
    const topic = await freshTopic("redis");
    const logDir = mkdtempSync(join(tmpdir(), "stedi-logs-"));
    await produce(topic, [
      samTestRecord(),
      connectorZadd("RapidStepTest", ['{"startTime":1,"stopTime":2,"testTime":1,"totalSteps":30}']),
      '{"index":0}',
      connectorZadd("Customer", [
        customerJson("Christina Hansen", "Christina.Hansen@test.com", "1965-01-01"),
        customerJson("Dan Jones", "Dan.Jones@test.com", "1960-01-01"),
      ]),
      '{"key":"%%%"}',
    ]);
    const result = await runStedi(["redis-console", "--redis-topic", topic, ...common(logDir)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("|               email|birthYear|");
    expect(result.stdout).toContain("|   sam.test@test.com|     2001|");
    expect(result.stdout).toContain("|Christina.Hansen@...|     1965|");
    expect(result.stdout).toContain("|  Dan.Jones@test.com|     1960|");
    expect(result.stderr).toContain(`bad record ${topic}[0]@4: key is not valid base64`);
    expect(result.stderr).toMatch(/5 records .* 3 rows, 2 skipped, 1 bad/);
    expect(readFileSync(join(logDir, "redis-kafka.log"), "utf8")).toBe(result.stdout);
  });

  it("shows every customer field with --all", async () => {
    const topic = await freshTopic("redis-all");
    const logDir = mkdtempSync(join(tmpdir(), "stedi-logs-"));
    await produce(topic, [samTestRecord()]);
    const result = await runStedi([
      "redis-console",
      "--redis-topic",
      topic,
      "--all",
      "--json",
      ...common(logDir),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      customerName: "Sam Test",
      email: "sam.test@test.com",
      phone: "8015551212",
      birthDay: "2001-01-03",
      birthYear: "2001",
    });
  });
});

describe("the submit-*.sh wrappers", () => {
  it("run the command and tee its tables to the log, like the seed's spark-submit wrappers", async () => {
    const { execFile } = await import("node:child_process");
    const topic = await freshTopic("wrapper");
    const logDir = mkdtempSync(join(tmpdir(), "stedi-logs-"));
    await produce(topic, [exampleRiskEvent()]);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        "bash",
        [
          "scripts/submit-event-kafkastreaming.sh",
          "--events-topic",
          topic,
          "--brokers",
          brokers.join(","),
          "--exit-on-idle",
          "1500",
        ],
        { env: { ...process.env, STEDI_LOG_DIR: logDir, NO_COLOR: "1" } },
        (error, out) => (error ? reject(error) : resolve(out)),
      );
    });
    expect(stdout).toContain("|Jason.Mitra@test.com|  7.0|");
    expect(readFileSync(join(logDir, "eventstream.log"), "utf8")).toBe(stdout);
  });
});
