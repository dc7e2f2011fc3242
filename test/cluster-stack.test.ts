// scripts/stack.sh with KAFKA_NODES=3: a three-node KRaft cluster on private ports, its defaults for
// new topics, the node commands as `status` reports them, and `down` leaving no process behind.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "./data.js";

const stackScript = join(projectRoot, "scripts", "stack.sh");
// Ports no other test or stack uses: brokers 19092, 19102, 19112 (each with +1..+3), Redis 16379.
const kafkaPort = 19_092;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  KAFKA_PORT: String(kafkaPort),
  REDIS_PORT: "16379",
  KAFKA_NODES: "3",
  STACK_SERVICES: "kafka redis",
};
// A cluster derives every other port from KAFKA_PORT and refuses these.
for (const name of ["KAFKA_CONTROLLER_PORT", "KAFKA_SASL_PORT", "KAFKA_SSL_PORT"]) delete env[name];
const brokers = [0, 10, 20].map((step) => `127.0.0.1:${kafkaPort + step}`).join(",");

type Run = { code: number; stdout: string; stderr: string };

const stack = (...args: string[]) =>
  new Promise<Run>((resolve) => {
    execFile("bash", [stackScript, ...args], { env, timeout: 240_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });

/** `stack` that must succeed; returns its stdout. */
const ok = async (...args: string[]) => {
  const run = await stack(...args);
  expect(run.code, `stack.sh ${args.join(" ")}: ${run.stderr}`).toBe(0);
  return run.stdout;
};

type NodeStatus = { id: number; state: string; pid: number | undefined; activeController: boolean };
type ClusterStatus = { summary: string; nodes: NodeStatus[]; voters: string | undefined };

const status = async (): Promise<ClusterStatus> => {
  const text = await ok("status");
  const summary = text.split("\n").find((line) => line.startsWith("kafka  ")) ?? "";
  const nodes = [...text.matchAll(/^kafka node (\d+) {2}(\S+)\s+port \d+(?: {2}pid (\d+))?(.*)$/gm)].map(
    (match) => ({
      id: Number(match[1]),
      state: match[2] ?? "",
      pid: match[3] === undefined ? undefined : Number(match[3]),
      activeController: (match[4] ?? "").endsWith("active controller"),
    }),
  );
  return { summary, nodes, voters: /voters (\S+)/.exec(summary)?.[1] };
};

const states = (s: ClusterStatus) => s.nodes.map((node) => `${node.id} ${node.state}`);

/** The status once every node serves again (a resumed or restarted node may take a moment). */
const statusOnceAllUp = async (timeoutMs = 60_000): Promise<ClusterStatus> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status();
    if (s.summary.startsWith("kafka  up ") && s.nodes.some((node) => node.activeController)) return s;
    if (Date.now() > deadline) return s;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped) is no longer a process that runs.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

describe("stack.sh, KAFKA_NODES=3", () => {
  const pids = new Set<number>();
  afterAll(async () => {
    await stack("clean");
  }, 120_000);

  it("starts three nodes with a quorum of three voters and prints KAFKA_BROKERS", async () => {
    await stack("clean");
    const stdout = await ok("up");
    expect(stdout.trim()).toBe(`export KAFKA_BROKERS=${brokers}`);
    const s = await status();
    expect(s.summary).toMatch(/^kafka {2}up /);
    expect(s.summary).toContain(`KAFKA_BROKERS=${brokers}`);
    expect(states(s)).toEqual(["1 up", "2 up", "3 up"]);
    expect(s.voters).toBe("1,2,3");
    expect(s.nodes.filter((node) => node.activeController)).toHaveLength(1);
    for (const node of s.nodes) if (node.pid !== undefined) pids.add(node.pid);
    expect(pids.size).toBe(3);
    expect((await ok("status")).split("\n")).toContainEqual(
      expect.stringMatching(/^redis {2}up .*port 16379/),
    );
  }, 240_000);

  it("gives a new topic replication factor 3 and min ISR 2", async () => {
    const topic = `cluster-stack-${Date.now()}`;
    await ok(
      "tool",
      "TopicCommand",
      "--bootstrap-server",
      brokers,
      "--create",
      "--topic",
      topic,
      "--partitions",
      "3",
    );
    const described = await ok(
      "tool",
      "TopicCommand",
      "--bootstrap-server",
      brokers,
      "--describe",
      "--topic",
      topic,
    );
    expect(described).toMatch(/ReplicationFactor: 3\b/);
    const isrs = [...described.matchAll(/Isr: ([\d,]+)/g)].map((match) => match[1]?.split(",").length);
    expect(isrs).toEqual([3, 3, 3]);
    const configs = await ok(
      "tool",
      "kafka.admin.ConfigCommand",
      "--bootstrap-server",
      brokers,
      "--entity-type",
      "topics",
      "--entity-name",
      topic,
      "--describe",
      "--all",
    );
    expect(configs).toMatch(/^\s*min\.insync\.replicas=2 /m);
  }, 60_000);

  it("stop-node and start-node: the active controller moves, the node comes back", async () => {
    const before = await status();
    const leader = before.nodes.find((node) => node.activeController)?.id;
    expect(leader).toBeDefined();
    await ok("stop-node", String(leader));
    const stopped = await status();
    expect(stopped.summary).toMatch(/^kafka {2}degraded /);
    expect(stopped.nodes.find((node) => node.id === leader)?.state).toBe("down");
    const next = stopped.nodes.find((node) => node.activeController);
    expect(next?.id, "another node leads the quorum").not.toBe(leader);
    expect(next?.state).toBe("up");

    await ok("start-node", String(leader));
    const started = await statusOnceAllUp();
    expect(states(started)).toEqual(["1 up", "2 up", "3 up"]);
    for (const node of started.nodes) if (node.pid !== undefined) pids.add(node.pid);
  }, 240_000);

  it("pause-node and resume-node: SIGSTOP shows as paused, SIGCONT as up again", async () => {
    const before = await status();
    const follower = before.nodes.find((node) => !node.activeController)?.id ?? 3;
    await ok("pause-node", String(follower));
    const paused = await status();
    expect(paused.nodes.find((node) => node.id === follower)?.state).toBe("paused");
    expect(paused.summary).toMatch(/^kafka {2}degraded /);
    await ok("resume-node", String(follower));
    expect(states(await statusOnceAllUp())).toEqual(["1 up", "2 up", "3 up"]);
  }, 120_000);

  it("refuses a node that is not part of the cluster, or no node at all", async () => {
    const four = await stack("stop-node", "4");
    expect(four.code).toBe(1);
    expect(four.stderr).toMatch(
      /node 4 is not part of the cluster on KAFKA_PORT=19092; its nodes are 1 to 3/,
    );
    const word = await stack("pause-node", "two");
    expect(word.code).toBe(1);
    expect(word.stderr).toMatch(/the node id must be a number/);
    expect((await stack("resume-node")).code).toBe(2);
    const elsewhere = await new Promise<Run>((resolve) => {
      execFile(
        "bash",
        [stackScript, "stop-node", "1"],
        { env: { ...env, KAFKA_PORT: "19292" } },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
      );
    });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/no cluster from stack\.sh on KAFKA_PORT=19292/);
  });

  it("down stops every node and Redis, leaving no process", async () => {
    const redisPid = Number(/^redis .*pid (\d+)/m.exec(await ok("status"))?.[1]);
    await ok("down");
    const s = await status();
    expect(s.summary).toMatch(/^kafka {2}down /);
    expect(states(s)).toEqual(["1 down", "2 down", "3 down"]);
    expect([...pids, redisPid].filter(alive)).toEqual([]);
  }, 120_000);
});
