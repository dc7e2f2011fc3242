// Kafka's own command-line tools (scripts/kafka-tool.sh) for the look-ups stedi's Kafka port does not
// offer: a consumer group's state and a topic's configs. Each call starts a JVM and takes seconds.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../data.js";

const script = join(projectRoot, "scripts", "kafka-tool.sh");

/** Runs a tool class; rejects with the tool's last line of stderr. */
function runTool(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(script, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const last = stderr.trim().split("\n").at(-1);
      reject(new Error(`${args[0]}: ${last || error.message}`));
    });
  });
}

/**
 * A consumer group's state as its coordinator reports it (`Stable`, `PreparingRebalance`, `Empty`, …),
 * or undefined when the group does not exist yet.
 */
export async function groupState(brokers: string[], groupId: string): Promise<string | undefined> {
  let table: string;
  try {
    table = await runTool([
      "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
      "--bootstrap-server",
      brokers.join(","),
      "--describe",
      "--state",
      "--group",
      groupId,
    ]);
  } catch (error) {
    if (/GroupIdNotFound|does not exist/.test(String(error))) return undefined;
    throw error;
  }
  // GROUP  COORDINATOR (ID)  ASSIGNMENT-STRATEGY  STATE  #MEMBERS: the state is next to last.
  const row = table.split("\n").find((line) => line.split(/\s+/)[0] === groupId);
  return row?.trim().split(/\s+/).at(-2);
}

/** A topic's configs set on the topic itself (not the broker's defaults), by name. */
export async function topicConfigs(brokers: string[], topic: string): Promise<Map<string, string>> {
  const text = await runTool([
    "kafka.admin.ConfigCommand",
    "--bootstrap-server",
    brokers.join(","),
    "--describe",
    "--entity-type",
    "topics",
    "--entity-name",
    topic,
  ]);
  // "  cleanup.policy=compact sensitive=false synonyms={…}"
  const entries = [...text.matchAll(/^\s+([\w.]+)=(\S*) sensitive=/gm)];
  return new Map(entries.map((match) => [match[1] as string, match[2] as string]));
}
