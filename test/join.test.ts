import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connectorZadd, customerJson, riskEventJson, samTestRecord } from "./fixtures.js";
import { runStedi, startStedi } from "./support/cli.js";
import { joinArgs } from "./support/join-args.js";
import {
  brokers,
  committedOffsets,
  freshTopic,
  produce,
  readAll,
  waitForGroupStable,
  waitForRecords,
} from "./support/kafka.js";

/** Fresh topics and group for one join run, and the flags that point stedi at them. */
async function joinTopics(label: string, partitions = 1) {
  const topics = {
    redis: await freshTopic(`${label}-redis`),
    events: await freshTopic(`${label}-events`, partitions),
    output: await freshTopic(`${label}-graph`),
    dlq: await freshTopic(`${label}-dlq`),
  };
  const group = `test-join-${randomUUID().slice(0, 8)}`;
  const logDir = mkdtempSync(join(tmpdir(), "stedi-logs-"));
  const flags = joinArgs({ brokers, topics, group }, ["--log-dir", logDir]);
  return { topics, group, logDir, flags };
}

const graph = (email: string, score: string, birthYear: string) =>
  `{"customer":"${email}","score":"${score}","email":"${email}","birthYear":"${birthYear}"}`;

describe("stedi join", () => {
  it("joins risk scores with customers already known, keyed by email, in the seed's format", async () => {
    const { topics, flags, logDir } = await joinTopics("known");
    await produce(topics.redis, [
      samTestRecord(),
      connectorZadd("Customer", [
        customerJson("Santosh Fibonnaci", "Santosh.Fibonnaci@test.com", "1963-01-01"),
      ]),
      connectorZadd("RapidStepTest", ['{"totalSteps":30}']),
    ]);
    await produce(topics.events, [
      riskEventJson("Santosh.Fibonnaci@test.com", "28.5"),
      riskEventJson("sam.test@test.com", "-1"),
      riskEventJson("Santosh.Fibonnaci@test.com", "28.5"),
    ]);
    const result = await runStedi(["join", ...flags, "--exit-on-idle", "1500", "--console"]);
    expect(result.code, result.stderr).toBe(0);
    const output = await readAll(topics.output);
    expect(output.map((record) => [record.key, record.value])).toEqual([
      ["Santosh.Fibonnaci@test.com", graph("Santosh.Fibonnaci@test.com", "28.5", "1963")],
      ["sam.test@test.com", graph("sam.test@test.com", "-1.0", "2001")],
      ["Santosh.Fibonnaci@test.com", graph("Santosh.Fibonnaci@test.com", "28.5", "1963")],
    ]);
    expect(await readAll(topics.dlq)).toEqual([]);
    expect(result.stdout).toContain("|            customer|score|               email|birthYear|");
    expect(result.stdout).toContain("|Santosh.Fibonnaci...| 28.5|Santosh.Fibonnaci...|     1963|");
    expect(readFileSync(join(logDir, "kafkajoin.log"), "utf8")).toBe(result.stdout);
    expect(result.stderr).toContain("3 events → 3 joined, 0 dead-lettered");
  });

  it("holds an event until its customer arrives, uses the latest customer, and emits once", async () => {
    const { topics, flags, group } = await joinTopics("late");
    await produce(topics.events, [riskEventJson("Late.Comer@test.com", "4.5")]);
    const running = startStedi(["join", ...flags, "--json", "--exit-on-idle", "2500"]);
    await waitForGroupStable(group);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(running.stdout()).toBe("");
    await produce(topics.redis, [
      connectorZadd("Customer", [customerJson("Late Comer", "Late.Comer@test.com", "1950-01-01")]),
    ]);
    await running.waitFor("Late.Comer@test.com", 20_000);
    await produce(topics.redis, [
      connectorZadd("Customer", [customerJson("Late Comer", "Late.Comer@test.com", "1951-01-01")]),
    ]);
    // Customers and events are separate topics with no order between them: give the join time to
    // read the update before the event that must see it.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await produce(topics.events, [riskEventJson("Late.Comer@test.com", "-2")]);
    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      graph("Late.Comer@test.com", "4.5", "1950"),
      graph("Late.Comer@test.com", "-2.0", "1951"),
    ]);
    expect((await readAll(topics.output)).map((record) => record.value)).toEqual([
      graph("Late.Comer@test.com", "4.5", "1950"),
      graph("Late.Comer@test.com", "-2.0", "1951"),
    ]);
  });

  it("dead-letters bad records of both inputs and events whose customer never comes, with the reason", async () => {
    const { topics, flags } = await joinTopics("dlq");
    await produce(topics.redis, [
      { key: "k1", value: "{not json" },
      connectorZadd("Customer", ['{"customerName":"No Day","email":"no.day@test.com"}']),
      connectorZadd("Customer", [customerJson("Good One", "good@test.com", "1940-01-01")]),
    ]);
    await produce(topics.events, [
      { key: "e1", value: '{"customer":"good@test.com","score":"seven"}' },
      riskEventJson("good@test.com", "1"),
      { key: "e3", value: riskEventJson("ghost@test.com", "2") },
    ]);
    const result = await runStedi(["join", ...flags, "--wait", "1s", "--exit-on-idle", "3000"]);
    expect(result.code, result.stderr).toBe(0);
    expect((await readAll(topics.output)).map((record) => record.value)).toEqual([
      graph("good@test.com", "1.0", "1940"),
    ]);
    const dlq = await readAll(topics.dlq);
    const summary = dlq.map((record) => ({
      key: record.key,
      value: record.value,
      reason: record.headers["stedi.dlq.reason"],
      from: `${record.headers["stedi.dlq.topic"]}[${record.headers["stedi.dlq.partition"]}]@${record.headers["stedi.dlq.offset"]}`,
    }));
    expect(summary).toEqual(
      expect.arrayContaining([
        {
          key: "k1",
          value: "{not json",
          reason: expect.stringContaining("not JSON"),
          from: `${topics.redis}[0]@0`,
        },
        {
          key: null,
          value: expect.stringContaining("Q3VzdG9tZXI="),
          reason: expect.stringContaining("birthDay"),
          from: `${topics.redis}[0]@1`,
        },
        {
          key: "e1",
          value: '{"customer":"good@test.com","score":"seven"}',
          reason: expect.stringContaining("score"),
          from: `${topics.events}[0]@0`,
        },
        {
          key: "e3",
          value: riskEventJson("ghost@test.com", "2"),
          reason: 'no customer with email "ghost@test.com" within 1000 ms',
          from: `${topics.events}[0]@2`,
        },
      ]),
    );
    expect(dlq).toHaveLength(4);
    expect(result.stderr).toContain("3 events → 1 joined, 4 dead-lettered");
  });

  it("stops on SIGTERM within 5 s with offsets committed, and resumes without repeating", async () => {
    const { topics, flags, group } = await joinTopics("sigterm", 3);
    await produce(topics.redis, [
      connectorZadd("Customer", [customerJson("A B", "a.b@test.com", "1955-01-01")]),
    ]);
    await produce(
      topics.events,
      Array.from({ length: 30 }, (_, index) => ({
        value: riskEventJson("a.b@test.com", `${index}.0`),
        partition: index % 3,
      })),
    );
    const running = startStedi(["join", ...flags]);
    await waitForRecords(topics.output, 30);
    const stopAsked = Date.now();
    running.child.kill("SIGTERM");
    const first = await running.finished;
    expect(first.code, first.stderr).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(5000);
    const committed = await committedOffsets(group, topics.events);
    expect([...committed.values()].map(Number).reduce((sum, offset) => sum + offset, 0)).toBe(30);

    await produce(topics.events, [riskEventJson("a.b@test.com", "99")]);
    const second = await runStedi(["join", ...flags, "--exit-on-idle", "1500"]);
    expect(second.code, second.stderr).toBe(0);
    const output = await readAll(topics.output);
    expect(output).toHaveLength(31);
    expect(output.at(-1)?.value).toBe(graph("a.b@test.com", "99.0", "1955"));
  });

  it("reads the customer topic to its end before joining, so a restart sees no unknown customers", async () => {
    const { topics, flags } = await joinTopics("catchup");
    const customers = Array.from({ length: 2000 }, (_, index) =>
      connectorZadd("Customer", [customerJson(`C ${index}`, `c${index}@test.com`, "1945-01-01")]),
    );
    await produce(topics.redis, customers);
    await produce(
      topics.events,
      Array.from({ length: 2000 }, (_, index) => riskEventJson(`c${1999 - index}@test.com`, "1.5")),
    );
    const result = await runStedi(["join", ...flags, "--wait", "1ms", "--exit-on-idle", "1500"]);
    expect(result.code, result.stderr).toBe(0);
    expect(await readAll(topics.dlq)).toEqual([]);
    expect(await readAll(topics.output)).toHaveLength(2000);
  });
});
