// Look-ups and topic setup through kafkajs's admin client, answered as plain data.

import kafkajs from "kafkajs";
import type { KafkajsContext } from "./kafkajs-client.js";
import { errorTypes } from "./kafkajs-errors.js";
import type { OffsetRange, TopicSpec } from "./port.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether every partition of the topics has a leader that answers for its log. */
async function leadersReady(client: KafkajsContext, topics: string[]): Promise<boolean> {
  const admin = await client.admin();
  const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
  const elected =
    metadata !== undefined &&
    metadata.topics.length === topics.length &&
    metadata.topics.every(
      ({ partitions }) =>
        partitions.length > 0 &&
        partitions.every((partition) => partition.leader >= 0 && partition.partitionErrorCode === 0),
    );
  if (!elected) return false;
  // Metadata names a leader a moment before that broker serves the partition: a write then meets
  // NOT_LEADER and is retried. Listing offsets asks each leader for its log, as a write would.
  const answers = await Promise.all(
    topics.map((topic) =>
      admin.fetchTopicOffsets(topic).then(
        () => true,
        () => false,
      ),
    ),
  );
  return answers.every(Boolean);
}

/** Waits until new topics can be written: kafkajs's own wait sleeps 200 ms after its first look. */
async function waitForLeaders(client: KafkajsContext, topics: string[]): Promise<void> {
  const deadline = Date.now() + client.config.connectTimeoutMs;
  for (;;) {
    if (await leadersReady(client, topics)) return;
    if (Date.now() > deadline)
      throw new Error(`no leader for ${topics.join(", ")} within ${client.config.connectTimeoutMs} ms`);
    await sleep(5);
  }
}

export async function ensureTopics(client: KafkajsContext, topics: (string | TopicSpec)[]): Promise<void> {
  const specs = topics.map((topic) => (typeof topic === "string" ? { topic } : topic));
  try {
    const admin = await client.admin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter(
      (spec, index) =>
        !existing.has(spec.topic) && specs.findIndex((other) => other.topic === spec.topic) === index,
    );
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.numPartitions ?? 1,
        configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForLeaders(
      client,
      missing.map((spec) => spec.topic),
    );
  } catch (error) {
    // Another process may have created the same topic between list and create.
    if (errorTypes(error).includes("TOPIC_ALREADY_EXISTS")) return;
    throw client.fail(`creating topics ${specs.map((spec) => spec.topic).join(", ")}`, error);
  }
}

/** How long a look-up keeps trying while a partition's leader fails over. */
const lookUpRetryMs = 60_000;

export async function offsetRanges(client: KafkajsContext, topic: string): Promise<Map<number, OffsetRange>> {
  const doing = `reading the end offsets of ${topic}`;
  // Connecting fails within the configured connect timeout; only the look-up itself is retried.
  const admin = await client.admin().catch((error: unknown) => {
    throw client.fail(doing, error);
  });
  const deadline = Date.now() + lookUpRetryMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      // The client asks with read_committed isolation: the ends are last stable offsets.
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(
        offsets.map((entry) => [entry.partition, { low: Number(entry.low), high: Number(entry.high) }]),
      );
    } catch (error) {
      // On a cluster, a leader that just died leaves the client without an answer for its
      // partitions (it fails on the missing part of the response) until a new leader is known.
      const failure = client.fail(doing, error);
      if (!failure.retriable || Date.now() > deadline) throw failure;
      await sleep(Math.min(250 * attempt, 2000));
    }
  }
}

export async function partitionCount(client: KafkajsContext, topic: string): Promise<number> {
  try {
    const metadata = await (await client.admin()).fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]?.partitions.length ?? 0;
  } catch (error) {
    if (errorTypes(error).includes("UNKNOWN_TOPIC_OR_PARTITION")) return 0;
    throw client.fail(`reading the partitions of ${topic}`, error);
  }
}

export async function committedOffsets(
  client: KafkajsContext,
  groupId: string,
  topic: string,
): Promise<Map<number, string>> {
  try {
    const [entry] = await (await client.admin()).fetchOffsets({ groupId, topics: [topic] });
    return new Map(
      (entry?.partitions ?? [])
        .filter(({ offset }) => Number(offset) >= 0)
        .map(({ partition, offset }) => [partition, offset]),
    );
  } catch (error) {
    throw client.fail(`reading the committed offsets of ${groupId}`, error);
  }
}

export async function groupState(client: KafkajsContext, groupId: string): Promise<string | undefined> {
  try {
    const { groups } = await (await client.admin()).describeGroups([groupId]);
    const group = groups[0];
    return group === undefined || group.state === "Dead" || group.state === "Empty" ? undefined : group.state;
  } catch (error) {
    throw client.fail(`describing the group ${groupId}`, error);
  }
}

export async function topicConfigs(client: KafkajsContext, topic: string): Promise<Map<string, string>> {
  try {
    const { resources } = await (await client.admin()).describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
    });
    return new Map(
      (resources[0]?.configEntries ?? [])
        .filter((entry) => !entry.isDefault)
        .map((entry) => [entry.configName, entry.configValue]),
    );
  } catch (error) {
    throw client.fail(`describing the configs of ${topic}`, error);
  }
}
