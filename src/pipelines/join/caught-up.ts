// When the join is caught up (for --exit-on-idle): customers loaded, every assigned partition taken
// over and read to its end, and no partition of the group left unread by anyone.

import type { KafkaPort } from "../../adapters/kafka/index.js";
import type { TaskRegistry } from "./task-registry.js";

export async function isCaughtUp(options: {
  kafka: KafkaPort;
  groupId: string;
  eventsTopic: string;
  from: "earliest" | "latest";
  customersLoaded: boolean;
  /** Bad customer records the owner of partition 0 has still to dead-letter. */
  badCustomersLeft: number;
  tasks: TaskRegistry;
  /** How far each owned events partition has been read, fetches of markers only included. */
  readThrough: ReadonlyMap<number, number>;
}): Promise<boolean> {
  const { tasks, readThrough } = options;
  const assigned = tasks.partitions;
  if (!options.customersLoaded || assigned.size === 0) return false;
  if (assigned.has(0) && options.badCustomersLeft > 0) return false;
  const ends = await options.kafka.offsetRanges(options.eventsTopic);
  // Partitions this instance does not own count too: until a dead member's session expires its
  // partitions are nobody's, and idle must not mean "my share is done".
  const committed = await options.kafka.committedOffsets(options.groupId, options.eventsTopic);
  for (const [partition, end] of ends) {
    if (assigned.has(partition) || end.high <= end.low) continue;
    if (Number(committed.get(partition) ?? -1) < end.high) return false;
  }
  for (const partition of assigned) {
    const task = await tasks.current(partition);
    if (!task) return false;
    const end = ends.get(partition) ?? { low: 0, high: 0 };
    // Starting from the latest offset with nothing committed, a partition is caught up by definition.
    if (task.nextOffset === undefined && options.from === "latest") continue;
    const read = Math.max(readThrough.get(partition) ?? -1, Number(task.nextOffset ?? -1), end.low);
    if (read < end.high) return false;
  }
  return true;
}
