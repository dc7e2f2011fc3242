// The join's customer checkpoint (--state-dir) against the real broker: a restart starts from it and
// reads only what is new; a corrupt checkpoint, or one of a customer topic since deleted and
// recreated, is rebuilt from the topic with the reason logged. Every run is checked by the
// independent checker: each risk score exactly once, each bad input dead-lettered exactly once.

import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createKafkaPort } from "../src/adapters/kafka/index.js";
import { projectRoot } from "./data.js";
import { connectorZadd, customerJson } from "./fixtures.js";
import { runStedi } from "./support/cli.js";
import {
  badCustomerRecord,
  captureStderr,
  check,
  customerEmail,
  customerRecords,
  eventRecords,
  exited,
  expectExactlyOnce,
  joinTopics,
  seeded,
  sleep,
  startJoin,
  summary,
} from "./support/faults.js";
import { joinArgs } from "./support/join-args.js";
import { brokers, createKafkaHelpers } from "./support/kafka.js";

const helpers = createKafkaHelpers(brokers);
afterAll(() => helpers.close());

const stateDirs: string[] = [];
afterAll(async () => {
  for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
});

type Topics = Awaited<ReturnType<typeof joinTopics>>;

async function runJoin(topics: Topics, group: string, stateDir: string) {
  const result = await runStedi(
    [
      "join",
      ...joinArgs({ brokers, topics, group }, [
        "--no-log",
        "--state-dir",
        stateDir,
        "--exit-on-idle",
        "3000",
      ]),
    ],
    { timeoutMs: 90_000 },
  );
  expect(result.code, result.stderr).toBe(0);
  return result.stderr;
}

async function expectChecked(name: string, topics: Topics) {
  const report = await check(helpers, topics);
  console.log(summary(name, report));
  expectExactlyOnce(report);
  expect({ missing: report.missingDeadLetters, duplicated: report.duplicatedDeadLetters }).toEqual({
    missing: [],
    duplicated: 0,
  });
  return report;
}

const checkpointLine = (stderr: string) => stderr.split("\n").filter((line) => / checkpoint /.test(line));

/** Deletes a topic with Kafka's own tool and creates it again under the same name, empty. */
async function recreateTopic(topic: string, partitions: number) {
  await new Promise<void>((resolve, reject) => {
    execFile(
      "bash",
      [
        join(projectRoot, "scripts", "kafka-tool.sh"),
        "TopicCommand",
        "--bootstrap-server",
        brokers.join(","),
        "--delete",
        "--topic",
        topic,
      ],
      { timeout: 60_000 },
      (error, _stdout, stderr) => (error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve()),
    );
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    // A fresh client each time: one that knew the topic keeps asking for it until it exists again.
    const port = createKafkaPort({ brokers, connectTimeoutMs: 10_000 }, "stedi-tests-recreate");
    try {
      await port.ensureTopics([{ topic, numPartitions: partitions }]);
      if ((await port.partitionCount(topic)) === partitions) return;
    } catch (error) {
      // Still being deleted.
      if (Date.now() > deadline) throw error;
    } finally {
      await port.close();
    }
    if (Date.now() > deadline) throw new Error(`${topic} was not recreated`);
    await sleep(250);
  }
}

describe("join with a customer checkpoint", () => {
  it("restarts from its checkpoint, rebuilds from a corrupt one and from one of a recreated topic, exactly once throughout", async () => {
    const random = seeded(29);
    const topics = await joinTopics(helpers, "ckpt", 3);
    // Two customer partitions: positions and fingerprints are kept per partition.
    topics.redis = await helpers.freshTopic("ckpt-redis2", 2);
    const group = `ckpt-${randomUUID().slice(0, 8)}`;
    const stateDir = await mkdtemp(join(tmpdir(), "stedi-state-"));
    stateDirs.push(stateDir);

    // First run: no checkpoint yet; bad customer records among the good ones.
    await helpers.produce(topics.redis, [
      ...customerRecords(0, 1500),
      ...Array.from({ length: 10 }, (_, index) => badCustomerRecord(index)),
      ...customerRecords(1500, 3000),
    ]);
    await helpers.produce(topics.events, eventRecords(random, 2000, 3000));
    const first = await runJoin(topics, group, stateDir);
    expect(checkpointLine(first)).toEqual([expect.stringMatching(/not used \(no checkpoint yet\)$/)]);
    const [file] = await readdir(stateDir);
    if (file === undefined) throw new Error("no checkpoint written");
    const path = join(stateDir, file);
    await expectChecked("first run", topics);

    // A restart: from the checkpoint, with customers and events that came since.
    await helpers.produce(topics.redis, customerRecords(3000, 3500));
    await helpers.produce(topics.events, eventRecords(random, 1000, 3500));
    const second = await runJoin(topics, group, stateDir);
    expect(checkpointLine(second)).toEqual([
      expect.stringMatching(
        /^join: 3000 customers from checkpoint .*; reading \S+ on from offsets 0:\d+, 1:\d+$/,
      ),
    ]);
    await expectChecked("restart from the checkpoint", topics);

    // A corrupt checkpoint: rebuilt from the topic.
    const corrupt = await readFile(path);
    corrupt[corrupt.length >> 1] = (corrupt[corrupt.length >> 1] as number) ^ 0x40;
    await writeFile(path, corrupt);
    await helpers.produce(topics.events, eventRecords(random, 500, 3500));
    const third = await runJoin(topics, group, stateDir);
    expect(checkpointLine(third)).toEqual([expect.stringMatching(/not used \(checksum mismatch\)$/)]);
    await expectChecked("after a corrupt checkpoint", topics);

    // The customer topic deleted and recreated with the same customers born in other years (more
    // records than before, so that the checkpoint's offsets exist in it): a join of the same group
    // name (a fresh one here, with the checkpoint copied to its name, since the group's changelog
    // holds positions of the old events topic) must not use the old table.
    await recreateTopic(topics.redis, 2);
    await helpers.produce(
      topics.redis,
      Array.from({ length: 4000 }, (_, index) =>
        connectorZadd("Customer", [customerJson(`Recreated ${index}`, customerEmail(index), "1990-06-15")]),
      ),
    );
    const recreated = {
      redis: topics.redis,
      events: await helpers.freshTopic("ckpt-events2", 3),
      output: await helpers.freshTopic("ckpt-graph2", 3),
      dlq: await helpers.freshTopic("ckpt-dlq2"),
    };
    const newGroup = `ckpt-${randomUUID().slice(0, 8)}`;
    await copyFile(path, path.replace(encodeURIComponent(group), encodeURIComponent(newGroup)));
    await helpers.produce(recreated.events, eventRecords(random, 1000, 3500));
    const fourth = await runJoin(recreated, newGroup, stateDir);
    expect(checkpointLine(fourth)).toEqual([
      expect.stringMatching(
        /not used \(partition \d: the record at offset \d+ is not the one the checkpoint/,
      ),
    ]);
    const report = await expectChecked("after the topic was recreated", recreated);
    expect(report.expected).toBe(1000);
  });

  it("keeps every score exactly once through 5 SIGKILLs, each restart from the checkpoint its predecessors left", async () => {
    const random = seeded(31);
    const topics = await joinTopics(helpers, "ckpt-kill", 3);
    const group = `ckpt-kill-${randomUUID().slice(0, 8)}`;
    const stateDir = await mkdtemp(join(tmpdir(), "stedi-state-"));
    stateDirs.push(stateDir);
    const extra = ["--state-dir", stateDir];
    await helpers.produce(topics.redis, [
      ...customerRecords(0, 500),
      ...Array.from({ length: 10 }, (_, index) => badCustomerRecord(index)),
    ]);
    // Customers and bad customer records keep coming while the join is killed and restarted, so
    // that restarts find checkpoints behind the topic; a tenth of the events wait for them.
    const events = [
      ...eventRecords(random, 9000, 500),
      ...eventRecords(random, 1000, 100).map((record) => ({
        ...record,
        value: String(record.value).replace(
          /Customer(\d+)@/,
          (_, index) => `Customer${500 + Number(index)}@`,
        ),
      })),
    ].sort(() => random() - 0.5);
    const producing = (async () => {
      for (let start = 0; start < events.length; start += 500) {
        await helpers.produce(topics.events, events.slice(start, start + 500));
        await sleep(400);
      }
    })();
    const lateCustomers = (async () => {
      for (let step = 0; step < 4; step += 1) {
        await sleep(1500);
        await helpers.produce(topics.redis, [
          ...customerRecords(500 + step * 25, 525 + step * 25),
          badCustomerRecord(10 + step),
        ]);
      }
    })();
    const restored: string[] = [];
    for (let kills = 0; kills < 5; kills += 1) {
      const child = startJoin(topics, { brokers, group, extra });
      const stderr = captureStderr(child);
      await sleep(1500 + random() * 2000);
      child.kill("SIGKILL");
      await exited(child);
      restored.push(...checkpointLine(stderr()));
    }
    await Promise.all([producing, lateCustomers]);
    const final = startJoin(topics, { brokers, group, extra: [...extra, "--exit-on-idle", "4000"] });
    const finalStderr = captureStderr(final);
    expect(await exited(final), finalStderr()).toBe(0);
    restored.push(...checkpointLine(finalStderr()));
    console.log(restored.map((line) => line.replace(/ \/\S+\.customers/, "")).join("\n"));
    // The later runs started from a checkpoint an earlier, killed run wrote.
    expect(restored.filter((line) => / customers from checkpoint /.test(line)).length).toBeGreaterThan(0);
    const report = await expectChecked("5 × SIGKILL with a checkpoint", topics);
    expect(report.expected).toBe(10_000);
    expect(report.bad.length).toBe(14);
  }, 180_000);
});
