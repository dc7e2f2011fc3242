// Deleting a run's topics and consumer groups. The Kafka port neither lists nor deletes topics and
// groups, so until it does, Kafka's own command-line tools do it, on the local stack's jars.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "./paths.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one of Kafka's command-line tools through scripts/kafka-tool.sh and resolves with what it
 * printed; a failure resolves too, since cleaning up is best effort.
 */
function kafkaTool(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      [join(projectRoot, "scripts", "kafka-tool.sh"), ...args],
      { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (_error, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
    );
  });
}

/** The groups a ConsumerGroupCommand --delete reports as not deleted, except those already gone. */
export function groupsNotDeleted(output: string): string[] {
  return [...output.matchAll(/^\* Group '(.+)' could not be deleted due to: (.*)$/gm)]
    .filter((match) => !match[2]?.includes("GroupIdNotFound"))
    .map((match) => match[1] ?? "");
}

/**
 * Deletes the consumer groups, then the topics, whose names start with bench- and carry the run id.
 * Each tool run is a JVM start (about 2 s); a group the coordinator refuses is tried once more.
 */
export async function deleteRunResources(brokers: string[], runId: string): Promise<void> {
  const server = ["--bootstrap-server", brokers.join(",")];
  const groupTool = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
  const ours = (name: string) => name.startsWith("bench-") && name.includes(`-${runId}-`);
  let doomed = (await kafkaTool([groupTool, ...server, "--list"]))
    .split("\n")
    .map((line) => line.trim())
    .filter(ours);
  for (let attempt = 0; attempt < 2 && doomed.length > 0; attempt += 1) {
    if (attempt > 0) await sleep(1000);
    const output = await kafkaTool([
      groupTool,
      ...server,
      "--delete",
      ...doomed.flatMap((group) => ["--group", group]),
    ]);
    doomed = groupsNotDeleted(output);
  }
  // The tool takes a regular expression for the topics to delete; the run id is plain hex.
  await kafkaTool(["TopicCommand", ...server, "--delete", "--if-exists", "--topic", `bench-.*-${runId}-.*`]);
}
