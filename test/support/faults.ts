// Workloads for the fault scenarios: valid inputs in the original formats, customers that arrive late,
// and mutated records of every kind the join must dead-letter.

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";
import { projectRoot } from "../data.js";
import { connectorZadd, customerJson, riskEventJson } from "../fixtures.js";
import { type CheckReport, checkJoinOutput } from "./output-check.js";

export { seeded } from "./random.js";

import { type JoinTopics, joinArgs } from "./join-args.js";
import type { createKafkaHelpers, InputRecord } from "./kafka.js";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const customerEmail = (index: number) => `Fault.Customer${index}@test.com`;

export function customerRecords(from: number, to: number): string[] {
  const records: string[] = [];
  for (let index = from; index < to; index += 1) {
    records.push(
      connectorZadd("Customer", [
        customerJson(`Fault Customer${index}`, customerEmail(index), `${1937 + (index % 29)}-01-01`),
      ]),
    );
  }
  return records;
}

export function eventRecords(random: () => number, count: number, customers: number): InputRecord[] {
  return Array.from({ length: count }, () => {
    const score = (Math.round((random() * 80 - 40) * 2) / 2).toFixed(1);
    return { value: riskEventJson(customerEmail(Math.floor(random() * customers)), score) };
  });
}

/** Ten kinds of broken customer records and ten kinds of broken risk events, cycled. */
export function badCustomerRecord(index: number): InputRecord {
  const email = `Bad.Customer${index}@test.com`;
  const kinds = [
    () => "not json",
    () => `{"key":"Q3VzdG9tZXI","zSetEntries":[]}`,
    () => connectorZadd("Customer", [customerJson("x", email, "2021-02-30")]),
    () => connectorZadd("Customer", [`{"customerName":"x","email":"${email}"}`]),
    () => connectorZadd("Customer", [`{"customerName":"x","birthDay":"1950-01-01"}`]),
    () => connectorZadd("Customer", ["Sam Test"]),
    () => `{"key":"Q3VzdG9tZXI=","zSetEntries":[{"element":"%%%","score":0.0}]}`,
    () => connectorZadd("Customer", [customerJson("x", email, "1950-13-01")]).slice(0, 40),
    () => "[1,2,3]",
    () => `{"key":"Q3VzdG9tZXI=","zSetEntries":{"element":"e30="}}`,
  ];
  return { key: `bad-${index}`, value: (kinds[index % kinds.length] as () => string)() };
}

export function badEventRecord(index: number): InputRecord {
  const kinds = [
    () => "not json",
    () => `{"customer":"${customerEmail(index)}","score":"7.0"}`,
    () => `{"score":7.0}`,
    () => `{"customer":"","score":1.0}`,
    () => `{"customer":"${customerEmail(index)}","score":1.0,"riskDate":"2020-02-31T10:00:00.000Z"}`,
    () => `{"customer":"${customerEmail(index)}","score":1.0,"riskDate":"yesterday"}`,
    () => riskEventJson(customerEmail(index), "1.5").slice(0, 25),
    () => "null",
    () => `{"customer":"Nobody${index}@test.com","score":2.0}`,
    () => `{"customer":"${customerEmail(index)}"}`,
  ];
  return { key: `bad-${index}`, value: (kinds[index % kinds.length] as () => string)() };
}

export async function joinTopics(
  helpers: ReturnType<typeof createKafkaHelpers>,
  label: string,
  partitions: number,
) {
  return {
    redis: await helpers.freshTopic(`${label}-redis`),
    events: await helpers.freshTopic(`${label}-events`, partitions),
    output: await helpers.freshTopic(`${label}-graph`, partitions),
    dlq: await helpers.freshTopic(`${label}-dlq`),
  };
}

/** Starts `stedi join` on the topics; its stderr is piped, for captureStderr. */
export function startJoin(
  topics: JoinTopics,
  options: { brokers: string[]; group: string; extra?: string[] },
): ChildProcess {
  return spawn(
    process.execPath,
    [
      join(projectRoot, "bin", "stedi.js"),
      "join",
      ...joinArgs({ brokers: options.brokers, topics, group: options.group }, [
        "--no-log",
        ...(options.extra ?? []),
      ]),
    ],
    { cwd: projectRoot, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] },
  );
}

/** Collects what `child` writes to stderr from now on; the function returns everything so far. */
export function captureStderr(child: ChildProcess): () => string {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return () => stderr;
}

export const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

/** Runs the independent checker on what the topics hold now, and what the dead-letter topic misses. */
export async function check(helpers: ReturnType<typeof createKafkaHelpers>, topics: JoinTopics) {
  const [customers, events, output, dlq] = await Promise.all([
    helpers.readAll(topics.redis),
    helpers.readAll(topics.events),
    helpers.readAll(topics.output),
    helpers.readAll(topics.dlq),
  ]);
  const raw =
    (topic: string) =>
    (record: { partition: number; offset: string; key: string | null; value: string }) => ({
      topic,
      ...record,
    });
  const report: CheckReport = checkJoinOutput({
    customers: customers.map(raw(topics.redis)),
    events: events.map(raw(topics.events)),
    output: output.map(raw(topics.output)),
  });
  const deadLettered = new Map<string, number>();
  for (const record of dlq) {
    const where = `${record.headers["stedi.dlq.topic"]}[${record.headers["stedi.dlq.partition"]}]@${record.headers["stedi.dlq.offset"]}`;
    deadLettered.set(where, (deadLettered.get(where) ?? 0) + 1);
  }
  const missingDeadLetters = report.bad.filter((where) => !deadLettered.has(where));
  const duplicatedDeadLetters = [...deadLettered.values()].filter((count) => count > 1).length;
  return { ...report, deadLetters: dlq.length, missingDeadLetters, duplicatedDeadLetters };
}

/** Every expected output once: none lost, none twice, none that the inputs do not call for. */
export function expectExactlyOnce(report: CheckReport): void {
  expect({ lost: report.lost, duplicated: report.duplicated, misrouted: report.misrouted }).toEqual({
    lost: 0,
    duplicated: 0,
    misrouted: 0,
  });
}

export const summary = (name: string, report: Awaited<ReturnType<typeof check>>) =>
  [
    `${name}: expected ${report.expected}, output ${report.actual}, lost ${report.lost}, duplicated ${report.duplicated}, misrouted ${report.misrouted}; bad inputs ${report.bad.length}, dead letters ${report.deadLetters} (missing ${report.missingDeadLetters.length}, duplicated ${report.duplicatedDeadLetters})`,
    ...report.examples.map((example) => `  ${example}`),
  ].join("\n");
