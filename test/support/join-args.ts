// The command-line flags that point `stedi join` (and `stedi demo`, which hands them to its join) at a
// test's brokers, topics and consumer group.

export type JoinTopics = { redis: string; events: string; output: string; dlq: string };

/** `--brokers`, the four topic flags and `--group`, in that order, followed by `extra`. */
export function joinArgs(
  target: { brokers: string[]; topics: JoinTopics; group: string },
  extra: string[] = [],
): string[] {
  const { brokers, topics, group } = target;
  return [
    "--brokers",
    brokers.join(","),
    "--redis-topic",
    topics.redis,
    "--events-topic",
    topics.events,
    "--output-topic",
    topics.output,
    "--dlq-topic",
    topics.dlq,
    "--group",
    group,
    ...extra,
  ];
}
