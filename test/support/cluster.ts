// A private three-node Kafka cluster from scripts/stack.sh, for the fault scenarios that one broker
// cannot show: leaders and transaction coordinators moving, rolling restarts, a hung broker.
// Leaders and coordinators are looked up with Kafka's own command-line tools, as an operator would.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../data.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Cluster = {
  /** One address per node, node 1 first. */
  brokers: string[];
  up(): Promise<void>;
  down(): Promise<void>;
  killNode(node: number): Promise<void>;
  stopNode(node: number): Promise<void>;
  startNode(node: number): Promise<void>;
  pauseNode(node: number): Promise<void>;
  resumeNode(node: number): Promise<void>;
  /** The node id leading each partition of `topic`. */
  leaders(topic: string): Promise<Map<number, number>>;
  /** The node id coordinating `transactionalId`'s transactions. */
  coordinator(transactionalId: string): Promise<number>;
  /** Waits until every partition of every topic has all its replicas in sync again. */
  waitHealthy(timeoutMs?: number): Promise<void>;
};

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      join(projectRoot, "scripts", "stack.sh"),
      args,
      { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`stack.sh ${args.join(" ")}: ${error.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** The cluster whose node 1 listens on `port` (nodes 2 and 3 on port+10 and port+20). */
export function privateCluster(port: number): Cluster {
  // Nodes start slowly on a busy 2-core machine: more than the script's default minute.
  const env = {
    ...process.env,
    KAFKA_NODES: "3",
    KAFKA_PORT: String(port),
    STACK_SERVICES: "kafka",
    STACK_TIMEOUT: "150",
  };
  const brokers = [port, port + 10, port + 20].map((each) => `127.0.0.1:${each}`);
  const stack = (...args: string[]) => run(args, env, 170_000);
  // Some tools take their subcommand after the connection options: those come first.
  const tool = (className: string, ...args: string[]) =>
    run(["tool", className, "--bootstrap-server", brokers.join(","), ...args], env, 60_000);

  const leaders = async (topic: string) => {
    const described = await tool("TopicCommand", "--describe", "--topic", topic);
    const found = new Map<number, number>();
    for (const match of described.matchAll(/Partition:\s*(\d+)\s+Leader:\s*(-?\d+)/g))
      found.set(Number(match[1]), Number(match[2]));
    if (found.size === 0) throw new Error(`no partitions of ${topic} in:\n${described}`);
    return found;
  };

  const coordinator = async (transactionalId: string) => {
    const described = await tool("TransactionsCommand", "describe", "--transactional-id", transactionalId);
    // A header line, then one line whose first column is the coordinator's node id.
    const [header, values] = described.trim().split("\n");
    const columns = header?.trim().split(/\s+/) ?? [];
    const at = columns.indexOf("CoordinatorId");
    const id = Number(values?.trim().split(/\s+/)[at]);
    if (at < 0 || !Number.isInteger(id))
      throw new Error(`no coordinator for ${transactionalId} in:\n${described}`);
    return id;
  };

  const waitHealthy = async (timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lagging = await tool("TopicCommand", "--describe", "--under-replicated-partitions").catch(
        (error: Error) => error.message,
      );
      if (lagging.trim() === "") return;
      if (Date.now() > deadline) throw new Error(`the cluster is still not healthy:\n${lagging}`);
      await sleep(1000);
    }
  };

  return {
    brokers,
    up: async () => void (await stack("up")),
    down: async () => void (await stack("down")),
    killNode: async (node) => void (await stack("kill-node", String(node))),
    stopNode: async (node) => void (await stack("stop-node", String(node))),
    startNode: async (node) => void (await stack("start-node", String(node))),
    pauseNode: async (node) => void (await stack("pause-node", String(node))),
    resumeNode: async (node) => void (await stack("resume-node", String(node))),
    leaders,
    coordinator,
    waitHealthy,
  };
}
