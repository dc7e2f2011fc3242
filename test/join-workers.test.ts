// `stedi join --workers 2` on the real broker: two processes share the group's partitions, every
// output comes once, and one Ctrl-C stops them both cleanly.

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  captureStderr,
  check,
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
import { brokers, createKafkaHelpers } from "./support/kafka.js";

const helpers = createKafkaHelpers(brokers);

const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("join --workers", () => {
  it("runs two processes in one group: each takes a share, every output once, one Ctrl-C stops both", async () => {
    const topics = await joinTopics(helpers, "workers", 4);
    const group = `workers-${randomUUID().slice(0, 8)}`;
    await helpers.produce(topics.redis, customerRecords(0, 200));
    const child = startJoin(topics, { brokers, group, extra: ["--workers", "2"] });
    const stderr = captureStderr(child);
    // The group gives each worker partitions of its own once both have joined it.
    const takenOver = (worker: number) =>
      stderr()
        .split("\n")
        .some((line) => line.startsWith(`worker ${worker}: join: partition `) && line.includes("taken over"));
    for (let waited = 0; !(takenOver(0) && takenOver(1)) && waited < 60_000; waited += 100) await sleep(100);
    expect(takenOver(0) && takenOver(1), stderr()).toBe(true);
    await helpers.produce(topics.events, eventRecords(seeded(7), 4000, 200));
    await helpers.waitForRecords(topics.output, 4000, 60_000);
    const pids = (/2 workers in one consumer group \(pids (\d+), (\d+)\)/.exec(stderr()) ?? [])
      .slice(1)
      .map(Number);
    expect(pids, stderr()).toHaveLength(2);

    child.kill("SIGINT");
    expect(await exited(child), stderr()).toBe(0);
    for (const pid of pids) expect(processAlive(pid), `worker ${pid} outlived the command`).toBe(false);

    const report = await check(helpers, topics);
    console.log(summary("join --workers 2", report));
    expect(report.expected).toBe(4000);
    expectExactlyOnce(report);
  });

  it("fails as its first failed worker did, and stops the other", async () => {
    // Kill one worker from outside once both run: the command stops the other and reports the failure.
    const topics = await joinTopics(helpers, "workers-fail", 2);
    const group = `workers-fail-${randomUUID().slice(0, 8)}`;
    await helpers.produce(topics.redis, customerRecords(0, 10));
    const child = startJoin(topics, { brokers, group, extra: ["--workers", "2"] });
    const stderr = captureStderr(child);
    let pids: number[] = [];
    for (let waited = 0; pids.length < 2 && waited < 30_000; waited += 100) {
      pids = (/pids (\d+), (\d+)\)/.exec(stderr()) ?? []).slice(1).map(Number);
      await sleep(100);
    }
    expect(pids, stderr()).toHaveLength(2);
    for (let waited = 0; !/worker 0: join: partition/.test(stderr()) && waited < 60_000; waited += 100)
      await sleep(100);
    process.kill(pids[1] as number, "SIGKILL");
    expect(await exited(child), stderr()).toBe(1);
    expect(stderr()).toContain("join: worker 1 exited (SIGKILL); stopping the others");
    expect(stderr()).toContain("join: worker 1 was stopped by SIGKILL");
    await sleep(200);
    expect(processAlive(pids[0] as number)).toBe(false);
  });
});
