// The state every join instance keeps whole: the customer table (from the customer topic) and the
// replicas of the pending-event changelog, fed by one consumer that reads both topics from the start
// (the customer topic from a checkpoint's offsets when one seeds the table).

import { crc32 } from "node:zlib";
import type { ConsumedBatch, ConsumedRecord, KafkaPort, OffsetRange } from "../../adapters/kafka/index.js";
import type { Reporter } from "../../adapters/terminal.js";
import { decodeRedisRecord } from "../../core/connector/record.js";
import { scanCustomerZadd } from "../../core/customers/customer-scan.js";
import {
  fingerprintOf,
  type PartitionCheckpoint,
  type RecordFingerprint,
} from "../../core/customers/checkpoint.js";
import { CustomerTable, type CustomerTableState } from "../../core/customers/customer-table.js";
import type { BadCustomerRecord } from "../../core/join/join-steps.js";
import { decodePendingLogEntry, PendingLogReplica, type StoredPending } from "../../core/join/pending-log.js";
import { PositionTracker } from "./positions.js";

const bytesOf = (record: ConsumedRecord) => ({
  key: record.key,
  value: record.value,
  headers: record.headers,
});

/** A table restored from a checkpoint and where reading the customer topic goes on. */
export type CustomerSeed = {
  table: CustomerTable;
  /** By partition: the next offset to read. */
  resumeAt: ReadonlyMap<number, number>;
  /** By partition: the last record the table took, as the checkpoint identified it. */
  lastRecords: ReadonlyMap<number, RecordFingerprint>;
};

/** What a checkpoint writes: the table and how far it covers each customer partition. */
export type CustomerSnapshot = { partitions: PartitionCheckpoint[]; table: CustomerTableState };

export class JoinStateReader {
  readonly customers: CustomerTable;
  readonly positions = new PositionTracker();
  /** Customer records read, and of those the ones that were not Customer writes. */
  readonly counts = { customerRecords: 0, customersSkipped: 0 };
  /** The customer topic's bad records not yet dead-lettered (by the owner of events partition 0). */
  badCustomers: BadCustomerRecord[] = [];
  /** Resolves once the customer topic has been read to the end it had at start. */
  readonly customersReady: Promise<void>;
  customersLoaded: boolean;
  private readonly replicas = new Map<number, PendingLogReplica>();
  /** The emails of the batch being applied, kept only when some event may be waiting for them. */
  private arrived: string[] | undefined;
  /** By customer partition, the last record applied (fingerprinted only when a checkpoint is taken). */
  private readonly lastRecords = new Map<number, ConsumedRecord | RecordFingerprint>();

  constructor(
    private readonly options: {
      kafka: KafkaPort;
      customerTopic: string;
      changelogTopic: string;
      /** The customer topic's offsets at start: customers are loaded once read up to them. */
      customerEnds: Map<number, OffsetRange>;
      reporter: Reporter;
      /** Whether an arriving customer might release a waiting event (asked once per batch). */
      mayRelease: () => boolean;
      /** Customers that arrived while events may wait for them. */
      arrived: (emails: string[]) => void;
      /** A table from a checkpoint, to read on from; without it the customer topic is read whole. */
      seed?: CustomerSeed;
    },
  ) {
    const { seed } = options;
    this.customers = seed?.table ?? new CustomerTable();
    // Records below these positions are in the table already: they are skipped if fetched again.
    for (const [partition, next] of seed?.resumeAt ?? [])
      this.positions.advance(options.customerTopic, partition, next);
    for (const [partition, record] of seed?.lastRecords ?? []) this.lastRecords.set(partition, record);
    const behind = [...options.customerEnds].filter(([, end]) => end.high > end.low);
    this.customersLoaded = behind.length === 0;
    this.customersReady = Promise.all(
      behind.map(([partition, end]) =>
        this.positions.reached(options.customerTopic, partition, { start: end.low, end: end.high }),
      ),
    ).then(() => {
      this.customersLoaded = true;
    });
  }

  /**
   * Applies a batch of either topic. The reading consumer commits nothing, so after any rejoin (a
   * broker restart, a coordinator move) it reads its topics again from the start. Replaying old
   * changelog entries would briefly bring back resolved events and old positions, so each record is
   * applied once, in offset order: the tracker moves after each batch is applied, so it is also
   * where applying resumes.
   */
  apply(batch: ConsumedBatch): void {
    const next = this.positions.nextOf(batch.topic, batch.partition);
    const records = batch.records.filter((record) => Number(record.offset) >= next);
    if (batch.topic === this.options.customerTopic) this.applyCustomers(batch.partition, records);
    else this.applyChangelog(batch.partition, records);
  }

  /**
   * Where the state consumer should start a partition it is assigned: where this reader has got to
   * in the customer topic (a checkpoint's offsets at first, after a rejoin what it has read since);
   * undefined where nothing was read yet, i.e. from the beginning. The changelog is always read
   * from the beginning (it is compacted and small).
   */
  startAt(topic: string, partition: number): number | undefined {
    if (topic !== this.options.customerTopic) return undefined;
    const next = this.positions.nextOf(topic, partition);
    return next > 0 ? next : undefined;
  }

  /**
   * The table and its positions for a checkpoint, taken at once (the table's snapshot shares its
   * email bytes, which never change). A partition's position never passes a bad record that is
   * not dead-lettered yet (by the marks in changelog partition 0, as far as read): a restart from
   * the checkpoint reads it again and dead-letters it, and the marks keep it from being written
   * twice. Records between that position and the table's end are applied again on a restart,
   * which changes nothing: the table keeps the latest record per email.
   */
  snapshot(): CustomerSnapshot {
    return { partitions: this.checkpointPositions(), table: this.customers.exportState() };
  }

  /** How far a checkpoint taken now would cover each customer partition (see `snapshot`). */
  checkpointPositions(): PartitionCheckpoint[] {
    const { customerTopic, customerEnds } = this.options;
    const marks = this.replicaOf(0).deadLetterMarks;
    return [...customerEnds.keys()].map((partition): PartitionCheckpoint => {
      const last = this.lastRecords.get(partition);
      if (last === undefined) return { partition, resumeAt: 0, lastRecord: undefined };
      // The table holds every record up to the last one applied, even before the tracker moves past it.
      let resumeAt = Math.max(
        this.positions.nextOf(customerTopic, partition),
        "hash" in last ? 0 : Number(last.offset) + 1,
      );
      const mark = Number(marks.get(partition) ?? 0);
      for (const bad of this.badCustomers) {
        const offset = Number(bad.position.offset);
        if (bad.position.partition === partition && offset >= mark) resumeAt = Math.min(resumeAt, offset);
      }
      const lastRecord = "hash" in last ? last : fingerprintOf(last, crc32);
      return { partition, resumeAt, lastRecord };
    });
  }

  private readonly recordCustomer = (email: Uint8Array, birthYear: number) => {
    this.customers.upsertUtf8(email, birthYear);
    this.arrived?.push(Buffer.from(email).toString("latin1"));
  };

  private applyCustomers(partition: number, records: readonly ConsumedRecord[]) {
    const { reporter, customerTopic } = this.options;
    // Asked once per batch: the batch is applied synchronously, so the answer cannot change within it.
    this.arrived = this.options.mayRelease() ? [] : undefined;
    for (const record of records) {
      this.counts.customerRecords += 1;
      if (record.value && scanCustomerZadd(record.value, this.recordCustomer)) continue;
      const position = { topic: customerTopic, partition, offset: record.offset };
      const decoded = decodeRedisRecord(record.value?.toString("utf8") ?? "");
      if (!decoded.ok) {
        reporter.badRecord(position, decoded.reason);
        this.badCustomers.push({ position, record: bytesOf(record), reason: decoded.reason });
        continue;
      }
      if (decoded.value.kind === "skipped") {
        this.counts.customersSkipped += 1;
        continue;
      }
      for (const customer of decoded.value.customers) {
        this.customers.upsert(customer.email, customer.birthYear);
        this.arrived?.push(customer.email);
      }
      if (decoded.value.rejected.length > 0) {
        const reason = decoded.value.rejected.join("; ");
        reporter.badRecord(position, reason);
        this.badCustomers.push({ position, record: bytesOf(record), reason });
      }
    }
    const last = records.at(-1);
    if (last !== undefined) this.lastRecords.set(partition, last);
    const arrived = this.arrived;
    this.arrived = undefined;
    if (arrived !== undefined && arrived.length > 0) this.options.arrived(arrived);
  }

  private replicaOf(partition: number): PendingLogReplica {
    let replica = this.replicas.get(partition);
    if (!replica) {
      replica = new PendingLogReplica();
      this.replicas.set(partition, replica);
    }
    return replica;
  }

  private applyChangelog(partition: number, records: readonly ConsumedRecord[]) {
    const replica = this.replicaOf(partition);
    for (const record of records) {
      const entry = decodePendingLogEntry(record.key?.toString() ?? "", record.value);
      if (entry.kind === "unknown")
        this.options.reporter.warn(`join: ignoring changelog record with key ${entry.key}`);
      else replica.apply(entry);
    }
  }

  /** The committed waiting events and dead-letter marks of one changelog partition, once read to its end. */
  async restore(partition: number): Promise<{
    waiting: StoredPending[];
    deadLetterMarks: Map<number, string>;
    position: string | undefined;
  }> {
    const ends = await this.options.kafka.offsetRanges(this.options.changelogTopic);
    const end = ends.get(partition) ?? { low: 0, high: 0 };
    await this.positions.reached(this.options.changelogTopic, partition, { start: end.low, end: end.high });
    const replica = this.replicaOf(partition);
    return {
      waiting: [...replica.waiting.values()],
      deadLetterMarks: new Map(replica.deadLetterMarks),
      position: replica.position,
    };
  }
}
