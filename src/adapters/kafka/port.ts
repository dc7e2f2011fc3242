// stedi's Kafka port: the types and operations every pipeline, test and benchmark speaks. The client
// behind it (kafkajs today, kafkajs-port.ts; an in-memory log in unit tests) is chosen where the port
// is created, and nothing else sees it.

/** Header values as they travel: bytes, or text written as UTF-8. */
export type RecordHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** A record read from a partition: only committed ones (read_committed), no transaction markers. */
export type ConsumedRecord = {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
  /** The record's offset in its partition (an int64, as decimal text). */
  offset: string;
  /** Milliseconds since the epoch, as decimal text. */
  timestamp: string;
};

/** One fetch of one partition. */
export type ConsumedBatch = {
  topic: string;
  partition: number;
  /** Never empty: fetches of only transaction markers or aborted records are reported to `onRead` alone. */
  records: ConsumedRecord[];
  /** The offset after everything this fetch covered, markers included: where reading goes on. */
  nextOffset: number;
  /** The partition's end (last stable offset for read_committed) when the fetch was answered. */
  highWatermark: number;
};

/** A record to write; without a partition, Kafka's default partitioner places it by key. */
export type OutgoingRecord = {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RecordHeaders;
  partition?: number;
  /** The record's create time, ms since the epoch as decimal text; the sender's clock when absent. */
  timestamp?: string;
};

export type TopicRecords = { topic: string; records: OutgoingRecord[] };

export type TopicSpec = {
  topic: string;
  numPartitions?: number;
  /** Topic configs, for example `{ "cleanup.policy": "compact" }`. */
  configs?: Record<string, string>;
};

/**
 * A partition's first offset and its end for read_committed readers: the last stable offset, i.e. the
 * first offset of the earliest open transaction, or the log's end (the next offset to be written)
 * when no transaction is open. Exclusive.
 */
export type OffsetRange = { low: number; high: number };

/** The consumed position a transaction commits with its records: the group's next offset. */
export type ConsumedOffset = { groupId: string; topic: string; partition: number; nextOffset: string };

/** One open transaction of a transactional writer. */
export interface Transaction {
  send(records: TopicRecords[]): Promise<void>;
  /** Adds a consumed position to the transaction: it is committed with the records, or not at all. */
  sendOffset(offset: ConsumedOffset): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A transaction of a writer's own id found open on a partition when the writer started, and aborted. */
export type AbandonedTransaction = { topic: string; partition: number; firstOffset: string };

export type TransactionalWriterOptions = {
  /**
   * The topics the writer's transactions write to, and whether they commit consumed offsets. When
   * the writer starts, it aborts any transaction of its id still open on their partitions (or on
   * the consumer offsets topic's): one the coordinator ended without reaching the partition, as a
   * single broker does in its own controlled shutdown. Left open, the writer's next commit there
   * would make those records visible.
   */
  writesTo: string[];
  commitsOffsets?: boolean;
};

/**
 * A transactional producer owning one transactional id. Creating it fences every earlier owner of
 * the id: their open transaction is aborted, and their later writes fail as `fenced`.
 * Errors are StediErrors: `fenced`, `unavailable` (worth retrying) or `rejected`.
 */
export interface TransactionalWriter {
  readonly transactionalId: string;
  /** What the writer aborted when it started (see TransactionalWriterOptions). */
  readonly abortedAtStart: readonly AbandonedTransaction[];
  /** Partitions it could not look at when it started, one line each (an older broker, no authorization). */
  readonly uncheckedAtStart: readonly string[];
  /** Begins a transaction; one at a time. */
  begin(): Promise<Transaction>;
  /**
   * Writes the records, and the consumed offset when given, in one transaction and commits it:
   * all of it becomes visible to read_committed readers, or none of it. On failure the
   * transaction is aborted and the error thrown.
   */
  commit(records: TopicRecords[], offset?: ConsumedOffset): Promise<void>;
  /** Lets the writer go; a transaction it left open stays open until the broker's transaction timeout. */
  close(): Promise<void>;
}

/**
 * A plain producer: records are acknowledged by all in-sync replicas. A send the client retries may
 * write a record twice unless the producer is idempotent.
 */
export interface Producer {
  send(records: TopicRecords[]): Promise<void>;
  close(): Promise<void>;
}

/** What a batch handler is told about the consumer it runs in. */
export type BatchContext = {
  /** Keeps the group membership alive during long work. */
  heartbeat(): Promise<void>;
  /** False once the consumer stops or the partition was reassigned: the batch's work is stale. */
  isCurrent(): boolean;
};

export type GroupConsumerOptions = {
  groupId: string;
  topics: string[];
  /** Where a partition with no committed offset starts. */
  fromBeginning: boolean;
  /**
   * Where a partition starts each time it is assigned to this member, ahead of a committed offset
   * (undefined: as without it). An offset outside the partition's records starts it where
   * `fromBeginning` says, committed offsets ignored.
   */
  startAt?(topic: string, partition: number): number | undefined;
  /** Commit consumed offsets (after each batch handled) — false when transactions commit them, or nothing should. */
  autoCommit: boolean;
  /** Partitions handled at once. */
  concurrency?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * Handles one fetched batch. Returns the offset of the last record handled, after which the
   * consumer reads on, or undefined to have the same records fetched again. It should not throw:
   * what a thrown error does is the client's business (a restart of the consumer, or `onFailure`).
   */
  eachBatch(batch: ConsumedBatch, context: BatchContext): Promise<string | undefined>;
  /**
   * After every rebalance: this member's partitions of each topic (topics it got nothing of are
   * absent). Whatever was handled but not committed before a rebalance is fetched again.
   */
  onAssigned?(assignment: Map<string, number[]>): void;
  /**
   * After every fetch, also those with no records (only transaction markers or aborted records):
   * how far a partition has been read, and how many records the fetch handed to `eachBatch`.
   */
  onRead?(topic: string, partition: number, nextOffset: number, records: number): void;
  /** The consumer failed and will not restart itself; the error is a StediError. */
  onFailure(error: Error): void;
};

export interface GroupConsumer {
  /** Stops fetching, lets the running batches finish, leaves the group. */
  close(): Promise<void>;
}

/** One connection to a cluster: look-ups, topic setup, and the clients the pipelines use. */
export interface KafkaPort {
  /** The bootstrap brokers, as the user gave them (for messages). */
  readonly brokers: readonly string[];
  /** Creates the topics that do not exist (one partition unless told), and waits for their leaders. */
  ensureTopics(topics: (string | TopicSpec)[]): Promise<void>;
  /** The partitions of an existing topic (0 when it does not exist). */
  partitionCount(topic: string): Promise<number>;
  /** First and end offsets of each partition of a topic, at the moment of asking. */
  offsetRanges(topic: string): Promise<Map<number, OffsetRange>>;
  /** A group's committed next offsets on a topic; partitions it never committed are absent. */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, string>>;
  /** A consumer group's state ("Stable", "PreparingRebalance", …), or undefined when it has no members. */
  groupState(groupId: string): Promise<string | undefined>;
  /** A topic's configs that differ from the broker's defaults, by name. */
  topicConfigs(topic: string): Promise<Map<string, string>>;
  /**
   * Reads a topic from its beginning to the end it has when the call starts (read_committed),
   * handing over each fetched batch in order per partition.
   */
  readToEnd(topic: string, onBatch: (batch: ConsumedBatch) => void): Promise<void>;
  /**
   * The committed record at each given offset of a topic's partitions (read_committed), undefined
   * where there is none: compacted away, deleted, aborted, a transaction marker, or past the end.
   */
  readRecordsAt(
    topic: string,
    offsets: ReadonlyMap<number, number>,
  ): Promise<Map<number, ConsumedRecord | undefined>>;
  /**
   * An idempotent producer never writes a retried record twice, but kafkajs's fails for good (out of
   * order sequence numbers) when a retry meets a topic just created or a broker restarting.
   */
  createProducer(options?: { idempotent?: boolean }): Promise<Producer>;
  createTransactionalWriter(
    transactionalId: string,
    options?: TransactionalWriterOptions,
  ): Promise<TransactionalWriter>;
  consume(options: GroupConsumerOptions): Promise<GroupConsumer>;
  /** Closes the port's own connections (clients it created close themselves). */
  close(): Promise<void>;
}
