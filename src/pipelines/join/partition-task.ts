// One input partition of the join, exactly once: its own transactional writer (whose id fences a
// previous owner), its waiting events, and transactions that write what the join's steps decided —
// outputs, dead letters, changelog entries and the consumed offset — together or not at all.

import type { KafkaPort, TopicRecords, TransactionalWriter } from "../../adapters/kafka/index.js";
import type { CustomerTable } from "../../core/customers/customer-table.js";
import { encodeGraphRecords, type GraphRecord } from "../../core/graph/graph-record.js";
import { JoinState, type SourcePosition } from "../../core/join/join-state.js";
import {
  type BadCustomerRecord,
  type EventOrigin,
  type InputRecord,
  isEmpty,
  type JoinEffects,
  stepCustomerDeadLetters,
  stepCustomersArrived,
  stepEvents,
  stepExpiry,
  stepRestore,
} from "../../core/join/join-steps.js";
import { partitionForKey } from "../../core/join/murmur2.js";
import type { StoredPending } from "../../core/join/pending-log.js";
import { createSerial, type Serial } from "../../core/serial.js";
import { writerStartNotices } from "../writer-notices.js";

/** What a task needs from the join around it. */
export type TaskContext = {
  kafka: KafkaPort;
  groupId: string;
  eventsTopic: string;
  outputTopic: string;
  /** Partitions of the output topic: records are placed by key as Kafka's default partitioner does. */
  outputPartitions: number;
  dlqTopic: string;
  changelogTopic: string;
  waitMs: number;
  customers: CustomerTable;
  /** The clock, in ms since the epoch. */
  now(): number;
  /** The committed waiting events and dead-letter marks of one changelog partition, once read to its end. */
  restore(partition: number): Promise<{
    waiting: StoredPending[];
    deadLetterMarks: Map<number, string>;
    position: string | undefined;
  }>;
  badRecord(where: SourcePosition, reason: string): void;
  /** Something the operator should know that is neither a bad record nor a failure; `once`: said once per run. */
  warn(message: string, options?: { once?: boolean }): void;
  /** Called after each commit with what it made visible. */
  committed(result: { outputs: GraphRecord[]; deadLetters: number; events: number; latencyMs: number }): void;
};

export const transactionalIdFor = (groupId: string, topic: string, partition: number): string =>
  `${groupId}-${topic}-${partition}`;

export class PartitionTask {
  readonly state: JoinState<EventOrigin>;
  /** The next offset of the input partition to process; undefined until the first batch when nothing was committed. */
  nextOffset: string | undefined;
  private deadLetterMarks = new Map<number, string>();
  private readonly serial: Serial = createSerial();
  /**
   * The first failed transaction. From then on memory is ahead of the commits, so no later step may
   * commit with this writer (a release queued behind the failed batch would write outputs the
   * restarted task writes again): every step fails with it until the task is replaced.
   */
  private failure: { error: unknown } | undefined;

  private constructor(
    readonly partition: number,
    private readonly context: TaskContext,
    private readonly writer: TransactionalWriter,
  ) {
    this.state = new JoinState<EventOrigin>(context.waitMs, context.customers);
  }

  /**
   * Takes over a partition: fences any previous owner (its open transaction is aborted), then
   * reads the committed offset and the committed waiting events, and joins those whose customer
   * is known by now.
   */
  static async start(context: TaskContext, partition: number): Promise<PartitionTask> {
    const writer = await context.kafka.createTransactionalWriter(
      transactionalIdFor(context.groupId, context.eventsTopic, partition),
      { writesTo: [context.outputTopic, context.dlqTopic, context.changelogTopic], commitsOffsets: true },
    );
    const notices = writerStartNotices(`join: partition ${partition}`, writer);
    for (const notice of notices.aborted) context.warn(notice);
    // Every start of the task looks again, with the same outcome: once is enough.
    for (const notice of notices.unchecked) context.warn(notice, { once: true });
    const task = new PartitionTask(partition, context, writer);
    try {
      const committed = (await context.kafka.committedOffsets(context.groupId, context.eventsTopic)).get(
        partition,
      );
      const restored = await context.restore(partition);
      // The later of the group's committed offset and the changelog's: both are written by the same
      // transactions, but only the changelog is sure to be up to date right after a failover.
      const candidates = [committed, restored.position].filter(
        (offset): offset is string => offset !== undefined && Number(offset) >= 0,
      );
      task.nextOffset =
        candidates.length === 0 ? undefined : candidates.reduce((a, b) => (BigInt(a) >= BigInt(b) ? a : b));
      task.deadLetterMarks = restored.deadLetterMarks;
      const started = context.now();
      await task.commit(
        stepRestore(task.state, { topic: context.eventsTopic, partition, waiting: restored.waiting }),
        started,
      );
      return task;
    } catch (error) {
      await writer.close();
      throw error;
    }
  }

  /** Runs a step after the ones before it, unless a transaction of this task has failed. */
  private step<T>(work: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      if (this.failure) throw this.failure.error;
      return work();
    });
  }

  get waiting(): number {
    return this.state.waitingCount;
  }

  /**
   * Writes what a step decided in one transaction, then reports it. On failure the in-memory
   * state may be ahead of the committed one, so the task must be started again from the changelog.
   */
  private async commit(effects: JoinEffects, started: number): Promise<void> {
    if (isEmpty(effects)) return;
    const { context, partition } = this;
    const values = encodeGraphRecords(effects.outputs);
    const records: TopicRecords[] = [
      {
        topic: context.outputTopic,
        records: effects.outputs.map((record, index) => ({
          key: record.email,
          value: values[index] as Buffer,
          partition: partitionForKey(record.email, context.outputPartitions),
        })),
      },
      { topic: context.dlqTopic, records: effects.deadLetters },
      {
        topic: context.changelogTopic,
        records: effects.changelog.map((entry) => ({ key: entry.key, value: entry.value, partition })),
      },
    ];
    const offset =
      effects.nextOffset === undefined
        ? undefined
        : { groupId: context.groupId, topic: context.eventsTopic, partition, nextOffset: effects.nextOffset };
    try {
      await this.writer.commit(records, offset);
    } catch (error) {
      this.failure ??= { error };
      throw error;
    }
    if (effects.nextOffset !== undefined) this.nextOffset = effects.nextOffset;
    for (const { where, reason } of effects.problems) context.badRecord(where, reason);
    context.committed({
      outputs: effects.outputs,
      deadLetters: effects.deadLetters.length,
      events: effects.events,
      latencyMs: context.now() - started,
    });
  }

  /**
   * Joins one fetched batch in one transaction. Resolves with the last offset processed, for the
   * consumer to move past.
   */
  process(records: readonly InputRecord[]): Promise<string | undefined> {
    return this.step(async () => {
      const started = this.context.now();
      const effects = stepEvents(this.state, {
        topic: this.context.eventsTopic,
        partition: this.partition,
        records,
        from: this.nextOffset,
        now: started,
      });
      await this.commit(effects, started);
      return records.at(-1)?.offset;
    });
  }

  /** Joins the events waiting for customers that have just arrived. */
  release(emails: readonly string[]): Promise<void> {
    return this.step(async () => {
      await this.commit(stepCustomersArrived(this.state, emails), this.context.now());
    });
  }

  /** Dead-letters the events that waited longer than the wait bound. */
  expire(now: number): Promise<void> {
    return this.step(async () => {
      const effects = stepExpiry(this.state, now);
      // Expiry is not input latency: the transaction's time is not what a record waited.
      await this.commit(effects, this.context.now());
    });
  }

  /**
   * Dead-letters the customer topic's bad records that no earlier owner of partition 0 has, and
   * moves the marks forward in the same transaction (only the owner of partition 0 does this).
   * Returns the records now handled, which the caller may forget.
   */
  deadLetterCustomers(records: BadCustomerRecord[]): Promise<BadCustomerRecord[]> {
    return this.step(async () => {
      const step = stepCustomerDeadLetters(this.deadLetterMarks, records);
      await this.commit(step.effects, this.context.now());
      this.deadLetterMarks = step.marks;
      return records;
    });
  }

  /** Waits for the running step, then lets the writer go (its open transaction, if any, is aborted by the broker). */
  async stop(): Promise<void> {
    await this.serial(async () => undefined).catch(() => undefined);
    await this.writer.close();
  }
}
