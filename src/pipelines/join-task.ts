// One input partition of the join, exactly once: its own transactional producer (whose id fences a
// previous owner), its waiting events, and transactions that write outputs, dead letters, changelog
// entries and the consumed offset together.

import type { Admin, Batch, KafkaMessage, Message, Producer, Transaction } from "kafkajs";
import { type KafkaConnection, sendRecords, transactionalProducerConfig } from "../adapters/kafka.js";
import type { CustomerTable } from "../core/customers/customer-table.js";
import { encodeGraphRecord, type GraphRecord } from "../core/graph/graph-record.js";
import { type RecordBytes, toDeadLetter } from "../core/join/dead-letter.js";
import { type JoinOutput, JoinState, type SourcePosition } from "../core/join/join-state.js";
import { partitionForKey } from "../core/join/murmur2.js";
import {
  encodeDeadLetterMark,
  encodePosition,
  encodeResolved,
  encodeWaiting,
  type StoredPending,
} from "../core/join/pending-log.js";
import { decodeRiskScore } from "../core/risk-events/risk-event.js";
import { createSerial, type Serial } from "../core/serial.js";

/** Where a risk event came from, kept while it waits so it can be dead-lettered with its bytes. */
export type EventOrigin = SourcePosition & { record: RecordBytes };

/** A bad record of the customer topic, waiting to be dead-lettered by the owner of partition 0. */
export type BadCustomerRecord = { position: SourcePosition; record: RecordBytes; reason: string };

/** What a task needs from the join around it. */
export type TaskContext = {
  connection: KafkaConnection;
  admin: Admin;
  groupId: string;
  eventsTopic: string;
  outputTopic: string;
  /** Partitions of the output topic: records are placed by key as Kafka's default partitioner does. */
  outputPartitions: number;
  dlqTopic: string;
  changelogTopic: string;
  waitMs: number;
  customers: CustomerTable;
  /** The committed waiting events and dead-letter marks of one changelog partition, once read to its end. */
  restore(partition: number): Promise<{
    waiting: StoredPending[];
    deadLetterMarks: Map<number, string>;
    position: string | undefined;
  }>;
  badRecord(where: SourcePosition, reason: string): void;
  /** Called after each commit with what it made visible. */
  committed(result: { outputs: GraphRecord[]; deadLetters: number; events: number; latencyMs: number }): void;
};

const bytesOf = (message: KafkaMessage): RecordBytes => ({
  key: message.key,
  value: message.value,
  headers: message.headers as RecordBytes["headers"],
});

const toStored = (origin: EventOrigin, email: string, score: number, since: number): StoredPending => ({
  offset: origin.offset,
  email,
  score,
  since,
  record: origin.record,
});

export class PartitionTask {
  readonly state: JoinState<EventOrigin>;
  /** The next offset of the input partition to process; undefined until the first batch when nothing was committed. */
  nextOffset: string | undefined;
  private deadLetterMarks = new Map<number, string>();
  private readonly serial: Serial = createSerial();

  private constructor(
    readonly partition: number,
    private readonly context: TaskContext,
    private readonly producer: Producer,
  ) {
    this.state = new JoinState<EventOrigin>(context.waitMs, context.customers);
  }

  static transactionalId(groupId: string, topic: string, partition: number): string {
    return `${groupId}-${topic}-${partition}`;
  }

  /**
   * Takes over a partition: fences any previous owner (a new producer epoch aborts its open
   * transaction), then reads the committed offset and the committed waiting events, and joins
   * those whose customer is known by now.
   */
  static async start(context: TaskContext, partition: number): Promise<PartitionTask> {
    const producer = context.connection.kafka.producer(
      transactionalProducerConfig(
        PartitionTask.transactionalId(context.groupId, context.eventsTopic, partition),
      ),
    );
    await producer.connect();
    const task = new PartitionTask(partition, context, producer);
    try {
      // An empty transaction initialises the producer id: from here on, the previous owner is fenced.
      const fence = await producer.transaction();
      await fence.abort();
      const [offsets] = await context.admin.fetchOffsets({
        groupId: context.groupId,
        topics: [context.eventsTopic],
      });
      const committed = offsets?.partitions.find((entry) => entry.partition === partition)?.offset;
      const restored = await context.restore(partition);
      // The later of the group's committed offset and the changelog's: both are written by the same
      // transactions, but only the changelog is sure to be up to date right after a failover.
      const candidates = [committed, restored.position].filter(
        (offset): offset is string => offset !== undefined && Number(offset) >= 0,
      );
      task.nextOffset =
        candidates.length === 0 ? undefined : candidates.reduce((a, b) => (BigInt(a) >= BigInt(b) ? a : b));
      task.deadLetterMarks = restored.deadLetterMarks;
      for (const stored of restored.waiting) {
        task.state.hold({
          email: stored.email,
          score: stored.score,
          since: stored.since,
          origin: { topic: context.eventsTopic, partition, offset: stored.offset, record: stored.record },
        });
      }
      await task.transact((txn) => task.commitReleased(txn, task.state.releaseKnown()));
      return task;
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  get waiting(): number {
    return this.state.waitingCount;
  }

  /**
   * Runs `step` inside a transaction and, once committed, what it returned. Aborts and rethrows
   * on failure: the in-memory state may then be ahead of the committed one, so the task must be
   * started again from the changelog.
   */
  private transact(step: (txn: Transaction) => Promise<(() => void) | undefined>): Promise<void> {
    return (async () => {
      const txn = await this.producer.transaction();
      let afterCommit: (() => void) | undefined;
      try {
        afterCommit = await step(txn);
        await txn.commit();
      } catch (error) {
        await txn.abort().catch(() => undefined);
        throw error;
      }
      afterCommit?.();
    })();
  }

  private changelog(messages: Message[]) {
    return {
      topic: this.context.changelogTopic,
      messages: messages.map((message) => ({ ...message, partition: this.partition })),
    };
  }

  private outputRecords(records: GraphRecord[]) {
    return {
      topic: this.context.outputTopic,
      messages: records.map((record) => ({
        key: record.email,
        value: encodeGraphRecord(record),
        partition: partitionForKey(record.email, this.context.outputPartitions),
      })),
    };
  }

  /** Writes the outputs of released waiting events and their changelog tombstones. */
  private async commitReleased(txn: Transaction, outputs: JoinOutput<EventOrigin>[]) {
    if (outputs.length === 0) return undefined;
    const started = Date.now();
    const records = outputs.map(({ record }) => record);
    await sendRecords(txn, [
      this.outputRecords(records),
      this.changelog(outputs.map(({ origin }) => encodeResolved(origin.offset))),
    ]);
    return () =>
      this.context.committed({
        outputs: records,
        deadLetters: 0,
        events: 0,
        latencyMs: Date.now() - started,
      });
  }

  /**
   * Joins one fetched batch in one transaction: outputs, dead letters, newly waiting events and
   * the consumed offset commit together or not at all. Records below `nextOffset` were committed
   * before (the consumer's position can be older than the offset read after fencing) and are
   * skipped. Resolves with the last offset processed, for the consumer to move past.
   */
  process(batch: Batch): Promise<string | undefined> {
    return this.serial(async () => {
      const all = batch.messages;
      // Offsets fit a double exactly far beyond any partition's life; a batch is in offset order.
      const from = this.nextOffset === undefined ? Number.NEGATIVE_INFINITY : Number(this.nextOffset);
      let first = 0;
      while (first < all.length && Number((all[first] as KafkaMessage).offset) < from) first += 1;
      const last = all.at(-1);
      if (last === undefined || first === all.length) return last?.offset;
      const started = Date.now();
      const outputs: GraphRecord[] = [];
      const deadLetters: RecordBytes[] = [];
      const waiting: Message[] = [];
      for (let index = first; index < all.length; index += 1) {
        const message = all[index] as KafkaMessage;
        const decoded = decodeRiskScore(message.value);
        if (!decoded.ok) {
          const where = {
            topic: this.context.eventsTopic,
            partition: this.partition,
            offset: message.offset,
          };
          this.context.badRecord(where, decoded.reason);
          deadLetters.push(toDeadLetter(bytesOf(message), where, decoded.reason));
          continue;
        }
        const { customer: email, score } = decoded.value;
        const record = this.state.joinNow(email, score);
        if (record !== undefined) {
          outputs.push(record);
          continue;
        }
        const origin: EventOrigin = {
          topic: this.context.eventsTopic,
          partition: this.partition,
          offset: message.offset,
          record: bytesOf(message),
        };
        this.state.hold({ email, score, origin, since: started });
        waiting.push(encodeWaiting(toStored(origin, email, score, started)));
      }
      const events = all.length - first;
      const next = String(BigInt(last.offset) + 1n);
      await this.transact(async (txn) => {
        await sendRecords(txn, [
          this.outputRecords(outputs),
          { topic: this.context.dlqTopic, messages: deadLetters as Message[] },
          this.changelog([...waiting, encodePosition(next)]),
        ]);
        await txn.sendOffsets({
          consumerGroupId: this.context.groupId,
          topics: [
            { topic: this.context.eventsTopic, partitions: [{ partition: this.partition, offset: next }] },
          ],
        });
        return () =>
          this.context.committed({
            outputs,
            deadLetters: deadLetters.length,
            events,
            latencyMs: Date.now() - started,
          });
      });
      this.nextOffset = next;
      return last.offset;
    });
  }

  /** Joins the events waiting for customers that have just arrived. */
  release(emails: readonly string[]): Promise<void> {
    return this.serial(async () => {
      // Nothing waits in the common case: a table of a million customers is not walked for nothing.
      if (this.state.waitingCount === 0) return;
      const outputs = emails.flatMap((email) => this.state.release(email));
      if (outputs.length > 0) await this.transact((txn) => this.commitReleased(txn, outputs));
    });
  }

  /** Dead-letters the events that waited longer than the wait bound. */
  expire(now: number): Promise<void> {
    return this.serial(async () => {
      const expired = this.state.expire(now);
      if (expired.length === 0) return;
      const deadLetters = expired.map(({ event, reason }) => {
        this.context.badRecord(event.origin, reason);
        return toDeadLetter(event.origin.record, event.origin, reason);
      });
      await this.transact(async (txn) => {
        await sendRecords(txn, [
          { topic: this.context.dlqTopic, messages: deadLetters as Message[] },
          this.changelog(expired.map(({ event }) => encodeResolved(event.origin.offset))),
        ]);
        return () =>
          this.context.committed({ outputs: [], deadLetters: deadLetters.length, events: 0, latencyMs: 0 });
      });
    });
  }

  /**
   * Dead-letters the customer topic's bad records that no earlier owner of partition 0 has, and
   * moves the marks forward in the same transaction (only the owner of partition 0 does this).
   * Returns the records now handled, which the caller may forget.
   */
  deadLetterCustomers(records: BadCustomerRecord[]): Promise<BadCustomerRecord[]> {
    return this.serial(async () => {
      const fresh = records.filter(
        ({ position }) =>
          BigInt(position.offset) >= BigInt(this.deadLetterMarks.get(position.partition) ?? "0"),
      );
      if (fresh.length > 0) {
        const marks = new Map<number, string>();
        for (const { position } of fresh) {
          const next = String(BigInt(position.offset) + 1n);
          if (BigInt(next) > BigInt(marks.get(position.partition) ?? "0"))
            marks.set(position.partition, next);
        }
        await this.transact(async (txn) => {
          await sendRecords(txn, [
            {
              topic: this.context.dlqTopic,
              messages: fresh.map(
                ({ record, position, reason }) => toDeadLetter(record, position, reason) as Message,
              ),
            },
            this.changelog([...marks].map(([partition, next]) => encodeDeadLetterMark(partition, next))),
          ]);
          return () =>
            this.context.committed({ outputs: [], deadLetters: fresh.length, events: 0, latencyMs: 0 });
        });
        for (const [partition, next] of marks) this.deadLetterMarks.set(partition, next);
      }
      return records;
    });
  }

  /** Waits for the running step, then lets the producer go (its open transaction, if any, is aborted by the broker). */
  async stop(): Promise<void> {
    await this.serial(async () => undefined).catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
  }
}
