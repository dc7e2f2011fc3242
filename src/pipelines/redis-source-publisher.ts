// redis-source's Kafka side: records read from Redis wait in a buffer, and each flush publishes all of
// them with the replication position they end at, in ONE transaction (so a restart continues exactly
// after what was committed). Flushes run one at a time; reading from Redis pauses while the buffer is
// too full and resumes once a flush has brought it down.

import type { TransactionalWriter } from "../adapters/kafka/index.js";
import type { ReplicationPosition } from "../adapters/replication.js";
import type { ConnectorRecord } from "../core/connector/command-record.js";
import { encodePosition } from "../core/connector/source-position.js";
import { createSerial } from "../core/serial.js";
import { StediError } from "../errors.js";

/** Flush at this many pending records, without waiting for the timer. */
const flushAtRecords = 10_000;
/** Stop reading Redis above this many pending records, until a flush brings them down. */
const pauseAtRecords = 50_000;

export type SourcePublisher = {
  /** Buffers a record; may request a flush, or pause reading Redis. */
  enqueue(record: ConnectorRecord): void;
  /** A flush after the one in progress, unless one is queued already or the command is stopping. */
  requestFlush(): void;
  /** Flushes now (after any flush in progress); rejects with its failure. */
  flush(): Promise<void>;
  readonly pendingCount: number;
  /** The position of the last committed transaction (or the stored one at start). */
  readonly committed: ReplicationPosition | undefined;
  /** Records wait, or the position moved past the committed one (commands that publish nothing). */
  behind(): boolean;
  /** Nothing pending, queued or being written. */
  idle(): boolean;
  /** A new replication link reads unpaused. */
  linkReplaced(): void;
};

export function createSourcePublisher(options: {
  writer: TransactionalWriter;
  topic: string;
  offsetsTopic: string;
  /** The position's key in the offsets topic. */
  key: string;
  /** The position stored by the last run, if any. */
  stored: ReplicationPosition | undefined;
  /** The position after the last event read. */
  position: () => ReplicationPosition | undefined;
  isStopping: () => boolean;
  markActivity: () => void;
  pauseReading: () => void;
  resumeReading: () => void;
  /** After each commit, with what it made visible. */
  published: (records: ConnectorRecord[]) => void;
  fail: (error: unknown) => void;
}): SourcePublisher {
  const serial = createSerial();
  let pending: ConnectorRecord[] = [];
  let committed = options.stored;
  let flushQueued = false;
  let flushing = false;
  let paused = false;

  const flushNow = async () => {
    flushQueued = false;
    const records = pending;
    const at = options.position();
    if (!at || (records.length === 0 && samePosition(at, committed))) return;
    pending = [];
    flushing = true;
    try {
      await publish(options.writer, {
        topic: options.topic,
        records,
        offsets: { topic: options.offsetsTopic, key: options.key, value: encodePosition(at) },
      });
    } finally {
      flushing = false;
    }
    committed = at;
    options.published(records);
    if (paused && pending.length < pauseAtRecords / 2) {
      paused = false;
      options.resumeReading();
    }
  };

  const requestFlush = () => {
    if (flushQueued || options.isStopping()) return;
    flushQueued = true;
    serial(flushNow).catch(options.fail);
  };

  return {
    enqueue(record) {
      pending.push(record);
      options.markActivity();
      if (pending.length >= flushAtRecords) requestFlush();
      if (!paused && pending.length >= pauseAtRecords) {
        paused = true;
        options.pauseReading();
      }
    },
    requestFlush,
    flush: () => serial(flushNow),
    get pendingCount() {
      return pending.length;
    },
    get committed() {
      return committed;
    },
    behind() {
      const at = options.position();
      return pending.length > 0 || (at !== undefined && !samePosition(at, committed));
    },
    idle: () => pending.length === 0 && !flushQueued && !flushing,
    linkReplaced() {
      paused = false;
    },
  };
}

const samePosition = (a: ReplicationPosition, b: ReplicationPosition | undefined) =>
  b !== undefined && a.replid === b.replid && a.offset === b.offset;

/**
 * Publishes records and the position they end at in one transaction (partition 0 always: the
 * stream is one ordered log, whatever the key).
 */
async function publish(
  writer: TransactionalWriter,
  batch: {
    topic: string;
    records: ConnectorRecord[];
    offsets: { topic: string; key: string; value: string };
  },
): Promise<void> {
  try {
    await writer.commit([
      {
        topic: batch.topic,
        records: batch.records.map((record) => ({ key: record.key, value: record.value, partition: 0 })),
      },
      {
        topic: batch.offsets.topic,
        records: [{ key: batch.offsets.key, value: batch.offsets.value, partition: 0 }],
      },
    ]);
  } catch (error) {
    if (error instanceof StediError && error.code === "fenced") {
      throw new StediError("fenced", "another redis-source took over this Redis and topic (fenced)", {
        hint: "run one redis-source per Redis server and topic",
        cause: error,
      });
    }
    throw error;
  }
}
