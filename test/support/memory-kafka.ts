// An in-memory Kafka cluster behind stedi's KafkaPort, for unit tests: partition logs with transaction
// markers, read_committed reads, fencing by transactional id, consumer groups, a deterministic
// delivery scheduler, and injected faults and crashes.

import type {
  BatchContext,
  ConsumedBatch,
  ConsumedOffset,
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerOptions,
  KafkaPort,
  OffsetRange,
  OutgoingRecord,
  Producer,
  RecordHeaders,
  TopicRecords,
  TopicSpec,
  Transaction,
  TransactionalWriter,
} from "../../src/adapters/kafka/index.js";
import { murmur2, partitionForKey } from "../../src/core/join/murmur2.js";
import { type ErrorCode, StediError } from "../../src/errors.js";

/** Where an injected failure strikes a transaction. */
export type TransactionStep = "beforeSend" | "afterSend" | "afterSendOffset" | "beforeCommit" | "afterCommit";

export type MemoryKafkaOptions = {
  /**
   * `auto` (default): consumers fetch by themselves, one fetch per partition per macrotask turn.
   * `manual`: every fetch waits for `deliver()` (or `runUntilIdle()`).
   */
  delivery?: "auto" | "manual";
  /** How a group spreads partitions over its members; kafkajs's default is round-robin. */
  assignment?: "roundRobin" | "range";
  /** The most one fetch of one partition covers (Kafka's max.partition.fetch.bytes); at least one entry. */
  maxFetchBytes?: number;
  /** Record timestamps, in milliseconds since the epoch. */
  now?: () => number;
};

/** One entry of a partition log as a test sees it: records and transaction markers alike. */
export type LogEntry = {
  offset: number;
  kind: "record" | "commit" | "abort";
  /** The writing transaction's id; absent for records of plain producers. */
  transactionalId?: string;
  /** A record's transaction state; markers are `committed` or `aborted`. */
  state: "plain" | "open" | "committed" | "aborted";
  key: string | null;
  value: string | null;
};

/** One fetch handed over by `deliver()`. */
export type Delivery = {
  groupId: string;
  memberId: string;
  topic: string;
  partition: number;
  fromOffset: number;
  nextOffset: number;
  records: number;
};

export type DeliveryFilter = {
  groupId?: string;
  topic?: string;
  partition?: number;
  consumer?: GroupConsumer;
};

export interface MemoryKafka {
  /** A port on this cluster: one per simulated process, so that `crash(port)` takes all its clients. */
  createPort(clientId?: string): KafkaPort;
  /**
   * Manual delivery: runs one fetch of every consumer partition that has something to fetch (and
   * matches the filter), and resolves once their handlers returned. A handler that waits for
   * another delivery would wait forever here: use `runUntilIdle()` or auto delivery for those.
   */
  deliver(filter?: DeliveryFilter): Promise<Delivery[]>;
  /**
   * Lets every consumer read until all are caught up (each partition fetched at its read_committed
   * end, no handler running, no rebalance pending). Throws when more than `maxFetches` fetches
   * happen first: a handler that never moves on (returns undefined forever).
   */
  runUntilIdle(options?: { maxFetches?: number }): Promise<void>;
  /**
   * Makes transactions of `transactionalId` fail the next `times` (default 1) times they reach
   * `step`. `afterCommit` fails once the commit is durable, as a lost commit response does. The
   * error is an `unavailable` StediError unless given (an Error, or a code).
   */
  failTransaction(
    transactionalId: string,
    step: TransactionStep,
    options?: { error?: Error | ErrorCode; times?: number },
  ): void;
  /** The consumer fails as if its client gave up: it leaves its group and calls `onFailure`. */
  failConsumer(consumer: GroupConsumer, error?: Error): void;
  /**
   * Drops a port (every client it made), writer, producer or consumer as a SIGKILL would: no
   * cleanup. Its calls never settle from then on (except close(), which does nothing). A writer's
   * open transaction stays open, holding back read_committed readers, until a new writer of its id
   * fences it or `expireTransactions()`; a consumer stays in its group, its partitions unread,
   * until the next rebalance or `expireSessions()`.
   */
  crash(target: KafkaPort | TransactionalWriter | Producer | GroupConsumer): void;
  /** Session timeouts pass: crashed consumers leave their groups, which rebalance. */
  expireSessions(): void;
  /**
   * Transaction timeouts pass: open transactions (of one id, or all) are aborted and their
   * owners fenced, as Kafka's coordinator does.
   */
  expireTransactions(transactionalId?: string): void;
  /** A partition's log, markers included. */
  entries(topic: string, partition: number): LogEntry[];
  /** A topic's partition count and configs; undefined when it does not exist. */
  topic(name: string): { partitions: number; configs: Record<string, string> } | undefined;
  /** A group's live members and their partitions. */
  assignment(groupId: string): Map<string, Map<string, number[]>>;
}

type Coordinator = { transactionalId: string; epoch: number; current: Txn | undefined };

type Txn = {
  coordinator: Coordinator;
  status: "open" | "committed" | "aborted";
  /** Each partition written, with the transaction's first offset there (what holds the LSO back). */
  touched: Map<PartitionLog, number>;
  offsets: ConsumedOffset[];
};

type StoredRecord = {
  kind: "record";
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | Buffer[]][];
  timestamp: number;
  txn: Txn | undefined;
};
type Marker = { kind: "marker"; commit: boolean; txn: Txn };
type Entry = StoredRecord | Marker;

/** Rough sizes as in a record batch, so that fetch limits fall where they would on a broker. */
const markerBytes = 70;
const recordBytes = (record: StoredRecord) => {
  let size = 70 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of record.headers) {
    for (const item of Array.isArray(value) ? value : [value]) size += 8 + name.length + item.length;
  }
  return size;
};

const copy = (data: Buffer | null) => (data === null ? null : Buffer.from(data));
const bytesOf = (data: Buffer | string | null | undefined) =>
  data == null ? null : typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);

/** A call on a client that no longer exists: nothing ever answers. */
const limbo = <T>() => new Promise<T>(() => undefined);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

class PartitionLog {
  readonly entries: Entry[] = [];
  /** Transactions with records here that are neither committed nor aborted. */
  readonly open = new Set<Txn>();
  private readonly watchers = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** The log end offset: where the next entry goes. */
  get end(): number {
    return this.entries.length;
  }

  /** The last stable offset: read_committed readers stop before the earliest open transaction. */
  get stableEnd(): number {
    let stable = this.end;
    for (const txn of this.open) stable = Math.min(stable, txn.touched.get(this) ?? stable);
    return stable;
  }

  append(entry: Entry): number {
    this.entries.push(entry);
    for (const watcher of [...this.watchers]) watcher();
    return this.entries.length - 1;
  }

  /** Calls `onChange` after the next append; returns the way to stop watching. */
  watch(onChange: () => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  /**
   * A read_committed fetch from `from` up to `until` (at most the LSO): the visible records and the
   * offset after everything covered, aborted records and markers included.
   */
  read(from: number, until: number, maxBytes: number): { records: ConsumedRecord[]; next: number } {
    const records: ConsumedRecord[] = [];
    let offset = from;
    let bytes = 0;
    for (; offset < until; offset += 1) {
      const entry = this.entries[offset];
      if (entry === undefined) break;
      const size = entry.kind === "marker" ? markerBytes : recordBytes(entry);
      if (offset > from && bytes + size > maxBytes) break;
      bytes += size;
      if (entry.kind === "record" && (entry.txn === undefined || entry.txn.status === "committed")) {
        records.push({
          key: copy(entry.key),
          value: copy(entry.value),
          headers: Object.fromEntries(
            entry.headers.map(([name, value]) => [
              name,
              Array.isArray(value) ? value.map((item) => Buffer.from(item)) : Buffer.from(value),
            ]),
          ),
          offset: String(offset),
          timestamp: String(entry.timestamp),
        });
      }
    }
    return { records, next: offset };
  }
}

type Topic = { configs: Record<string, string>; logs: PartitionLog[] };

/** What a crash or a close does to a client; each port keeps those of the clients it made. */
type ClientState = { status: "open" | "closed" | "crashed" };

/** A simulated process: the clients one port made, crashed together. */
type Host = { clientId: string; state: ClientState; clients: Set<{ crash(): void }> };

class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

type Finish = (delivery: Delivery | undefined) => void;

class PartitionLoop {
  active = true;
  state: "starting" | "parked" | "gate" | "fetching" | "done" = "starting";
  /** The next offset to fetch; resolved from the committed offset at the first fetch. */
  position: number | undefined;
  /** The position of the last fetch that found nothing at all: caught up there. */
  emptyAt: number | undefined;
  wake: (() => void) | undefined;
  finished: Promise<void> = Promise.resolve();

  constructor(
    readonly member: Member,
    readonly log: PartitionLog,
  ) {}

  hasWork(): boolean {
    return (
      this.position === undefined || this.position < this.log.stableEnd || this.emptyAt !== this.position
    );
  }

  stop(): void {
    this.active = false;
    this.wake?.();
  }
}

type Group = { id: string; members: Member[]; rebalancePending: boolean };

class Member {
  state: "active" | "closing" | "closed" | "failed" | "crashed" = "active";
  assignment = new Map<string, number[]>();
  loops = new Map<string, PartitionLoop>();
  closing: Promise<void> | undefined;
  readonly slots: Slots;

  constructor(
    readonly id: string,
    readonly group: Group,
    readonly options: GroupConsumerOptions,
  ) {
    this.slots = new Slots(Math.max(1, options.concurrency ?? 1));
  }

  owns(topic: string, partition: number): boolean {
    return this.assignment.get(topic)?.includes(partition) ?? false;
  }

  /** Whether the member still takes part in its group (a closing one finishes its batches first). */
  get present(): boolean {
    return this.state === "active" || this.state === "closing";
  }
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Spreads the partitions of the members' topics over the members, ordered by member id as Kafka's
 * assignors do. Topics a member gets nothing of are absent from its map, as in kafkajs.
 */
export function assignPartitions(
  members: { id: string; topics: readonly string[] }[],
  partitionsOf: (topic: string) => number,
  strategy: "roundRobin" | "range",
): Map<string, Map<string, number[]>> {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const plan = new Map(sorted.map((member) => [member.id, new Map<string, number[]>()]));
  const give = (memberId: string, topic: string, partition: number) => {
    const topics = plan.get(memberId);
    if (!topics) return;
    topics.set(topic, [...(topics.get(topic) ?? []), partition]);
  };
  const topics = [...new Set(sorted.flatMap((member) => member.topics))].sort();
  let cursor = 0;
  for (const topic of topics) {
    const subscribers = sorted.filter((member) => member.topics.includes(topic));
    const count = partitionsOf(topic);
    if (strategy === "range") {
      const share = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      subscribers.forEach((member, index) => {
        const start = index * share + Math.min(index, extra);
        const length = share + (index < extra ? 1 : 0);
        for (let partition = start; partition < start + length; partition += 1)
          give(member.id, topic, partition);
      });
      continue;
    }
    for (let partition = 0; partition < count; partition += 1) {
      // The next member in the cycle that subscribes to this topic.
      for (let tries = 0; tries < sorted.length; tries += 1) {
        const member = sorted[cursor % sorted.length];
        cursor += 1;
        if (member?.topics.includes(topic)) {
          give(member.id, topic, partition);
          break;
        }
      }
    }
  }
  return plan;
}

const injectedError = (transactionalId: string, step: TransactionStep, error?: Error | ErrorCode) =>
  error instanceof Error
    ? error
    : new StediError(
        error ?? "unavailable",
        `injected failure ${step} in a transaction of ${transactionalId}`,
      );

/** The consumer's failure as the port reports it: a StediError. */
const asStediError = (error: unknown) =>
  error instanceof StediError
    ? error
    : new StediError(
        "internal",
        `consumer failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );

class Cluster {
  readonly topics = new Map<string, Topic>();
  readonly groups = new Map<string, Group>();
  /** Committed next offsets: group → topic → partition → offset. */
  readonly committed = new Map<string, Map<string, Map<number, string>>>();
  readonly coordinators = new Map<string, Coordinator>();
  readonly faults = new Map<string, { step: TransactionStep; error: () => Error; remaining: number }[]>();
  /** Manual delivery: loops waiting for `deliver()`, with the way to let each fetch once. */
  readonly gates = new Map<PartitionLoop, (finish: Finish) => void>();
  readonly handles = new WeakMap<object, { crash(): void }>();
  /** Fetches so far: what bounds `runUntilIdle()`. */
  fetches = 0;
  private memberSequence = 0;

  constructor(readonly options: Required<MemoryKafkaOptions>) {}

  topicOrFail(name: string): Topic {
    const topic = this.topics.get(name);
    if (!topic) throw new StediError("unavailable", `memory Kafka: topic ${name} does not exist`);
    return topic;
  }

  log(topic: string, partition: number): PartitionLog {
    const log = this.topicOrFail(topic).logs[partition];
    if (!log) throw new StediError("rejected", `memory Kafka: ${topic} has no partition ${partition}`);
    return log;
  }

  // Records and transactions.

  /** Appends records, placing those without a partition as Kafka's default partitioner does. */
  append(records: readonly TopicRecords[], txn: Txn | undefined, counter: { next: number }): void {
    const placed: [PartitionLog, OutgoingRecord][] = [];
    // Every record is checked before any is written: a refused request writes nothing.
    for (const { topic, records: outgoing } of records) {
      const { logs } = this.topicOrFail(topic);
      for (const record of outgoing) {
        const partition = partitionOf(record, logs.length, counter);
        placed.push([this.log(topic, partition), record]);
      }
    }
    for (const [log, record] of placed) {
      const offset = log.append({
        kind: "record",
        key: bytesOf(record.key),
        value: bytesOf(record.value),
        headers: storedHeaders(record.headers),
        timestamp: record.timestamp === undefined ? this.options.now() : Number(record.timestamp),
        txn,
      });
      if (txn && !txn.touched.has(log)) {
        txn.touched.set(log, offset);
        log.open.add(txn);
      }
    }
  }

  /** Commits or aborts: one marker per partition written, and the consumed offsets with a commit. */
  endTransaction(txn: Txn, commit: boolean): void {
    txn.status = commit ? "committed" : "aborted";
    if (txn.coordinator.current === txn) txn.coordinator.current = undefined;
    if (commit) {
      for (const offset of txn.offsets)
        this.storeOffset(offset.groupId, offset.topic, offset.partition, offset.nextOffset);
    }
    for (const log of txn.touched.keys()) {
      log.open.delete(txn);
      log.append({ kind: "marker", commit, txn });
    }
  }

  coordinator(transactionalId: string): Coordinator {
    let coordinator = this.coordinators.get(transactionalId);
    if (!coordinator) {
      coordinator = { transactionalId, epoch: 0, current: undefined };
      this.coordinators.set(transactionalId, coordinator);
    }
    return coordinator;
  }

  /** A new epoch for the id: the open transaction of the previous owner is aborted, the owner fenced. */
  bumpEpoch(coordinator: Coordinator): void {
    if (coordinator.current?.status === "open") this.endTransaction(coordinator.current, false);
    coordinator.epoch += 1;
  }

  injectFault(transactionalId: string, step: TransactionStep): void {
    const faults = this.faults.get(transactionalId);
    const fault = faults?.find((candidate) => candidate.step === step);
    if (!faults || !fault) return;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(faults.indexOf(fault), 1);
    throw fault.error();
  }

  storeOffset(groupId: string, topic: string, partition: number, nextOffset: string): void {
    let topics = this.committed.get(groupId);
    if (!topics) {
      topics = new Map();
      this.committed.set(groupId, topics);
    }
    let partitions = topics.get(topic);
    if (!partitions) {
      partitions = new Map();
      topics.set(topic, partitions);
    }
    partitions.set(partition, nextOffset);
  }

  committedOffset(groupId: string, topic: string, partition: number): string | undefined {
    return this.committed.get(groupId)?.get(topic)?.get(partition);
  }

  // Groups.

  join(options: GroupConsumerOptions, clientId: string): Member {
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = { id: options.groupId, members: [], rebalancePending: false };
      this.groups.set(options.groupId, group);
    }
    this.memberSequence += 1;
    const member = new Member(`${clientId}-${String(this.memberSequence).padStart(6, "0")}`, group, options);
    group.members.push(member);
    this.scheduleRebalance(group);
    return member;
  }

  /** Later, not within the call that changed the group: kafkajs reports assignments asynchronously too. */
  scheduleRebalance(group: Group): void {
    if (group.rebalancePending) return;
    group.rebalancePending = true;
    setImmediate(() => {
      if (group.rebalancePending) this.rebalance(group);
    });
  }

  flushRebalances(): void {
    for (const group of this.groups.values()) if (group.rebalancePending) this.rebalance(group);
  }

  /**
   * An eager rebalance. Crashed members are dropped (they never rejoin, so the rebalance timeout
   * removes them). Every member's partitions start over from the group's committed offsets, as
   * kafkajs's do: progress not committed is read again. A partition's new fetches wait for the
   * member's batch of it still running; a batch of a partition that moved is no longer current.
   */
  rebalance(group: Group): void {
    group.rebalancePending = false;
    group.members = group.members.filter((member) => member.present);
    const plan = assignPartitions(
      group.members.map((member) => ({ id: member.id, topics: member.options.topics })),
      (topic) => this.topics.get(topic)?.logs.length ?? 0,
      this.options.assignment,
    );
    const previous = new Map<Member, Map<string, PartitionLoop>>();
    for (const member of group.members) {
      member.assignment = plan.get(member.id) ?? new Map();
      for (const loop of member.loops.values()) loop.stop();
      previous.set(member, member.loops);
      member.loops = new Map();
    }
    for (const member of group.members) {
      if (member.state !== "active") continue;
      try {
        member.options.onAssigned?.(
          new Map([...member.assignment].map(([topic, parts]) => [topic, [...parts]])),
        );
      } catch (error) {
        this.failMember(member, error);
      }
    }
    for (const member of group.members) {
      if (member.state !== "active") continue;
      for (const [topic, partitions] of member.assignment) {
        for (const partition of partitions) {
          const loop = new PartitionLoop(member, this.log(topic, partition));
          const before = previous.get(member)?.get(key(topic, partition))?.finished ?? Promise.resolve();
          loop.finished = this.runLoop(loop, before);
          member.loops.set(key(topic, partition), loop);
        }
      }
    }
  }

  leave(member: Member): void {
    const group = member.group;
    const index = group.members.indexOf(member);
    if (index >= 0) group.members.splice(index, 1);
    this.scheduleRebalance(group);
  }

  failMember(member: Member, error: unknown): void {
    if (!member.present) return;
    member.state = "failed";
    for (const loop of member.loops.values()) loop.stop();
    this.leave(member);
    const failure = asStediError(error);
    queueMicrotask(() => member.options.onFailure(failure));
  }

  /** It stays in the group, holding its partitions unread, until its session expires or a rebalance. */
  crashMember(member: Member): void {
    member.state = "crashed";
    for (const loop of member.loops.values()) loop.stop();
  }

  expireSessions(): void {
    for (const group of this.groups.values()) {
      if (group.members.some((member) => member.state === "crashed")) {
        group.members = group.members.filter((member) => member.state !== "crashed");
        this.scheduleRebalance(group);
      }
    }
  }

  // Delivery.

  private async runLoop(loop: PartitionLoop, before: Promise<void>): Promise<void> {
    await before;
    while (loop.active) {
      if (!loop.hasWork()) {
        loop.state = "parked";
        await new Promise<void>((resolve) => {
          const done = () => {
            stopWatching();
            loop.wake = undefined;
            resolve();
          };
          const stopWatching = loop.log.watch(done);
          loop.wake = done;
        });
        continue;
      }
      loop.state = "gate";
      const finish = await this.turn(loop);
      if (!loop.active) {
        finish(undefined);
        break;
      }
      loop.state = "fetching";
      let delivery: Delivery | undefined;
      try {
        delivery = await this.fetch(loop);
      } finally {
        finish(delivery);
      }
    }
    loop.state = "done";
  }

  /** Auto delivery takes one macrotask turn per fetch, so loops interleave fairly with everything else. */
  private turn(loop: PartitionLoop): Promise<Finish> {
    if (this.options.delivery === "auto") return nextTurn().then(() => () => undefined);
    return new Promise<Finish>((resolve) => {
      this.gates.set(loop, resolve);
      loop.wake = () => {
        this.gates.delete(loop);
        loop.wake = undefined;
        resolve(() => undefined);
      };
    });
  }

  private async fetch(loop: PartitionLoop): Promise<Delivery | undefined> {
    const { member, log } = loop;
    const { options } = member;
    await member.slots.acquire();
    let released = false;
    const release = () => {
      if (!released) member.slots.release();
      released = true;
    };
    try {
      // Stopped while waiting for a slot: the partition was reassigned or the consumer stops.
      if (!loop.active) return undefined;
      if (loop.position === undefined || loop.position > log.end) {
        const start = loop.position === undefined ? options.startAt?.(log.topic, log.partition) : undefined;
        const committed = this.committedOffset(member.group.id, log.topic, log.partition);
        const fallback = options.fromBeginning ? 0 : log.stableEnd;
        loop.position =
          start !== undefined
            ? start <= log.end
              ? start
              : fallback
            : committed !== undefined && Number(committed) <= log.end
              ? Number(committed)
              : fallback;
      }
      const from = loop.position;
      const until = log.stableEnd;
      const { records, next } = log.read(from, until, this.options.maxFetchBytes);
      this.fetches += 1;
      const delivery: Delivery = {
        groupId: member.group.id,
        memberId: member.id,
        topic: log.topic,
        partition: log.partition,
        fromOffset: from,
        nextOffset: next,
        records: records.length,
      };
      let handled: number | undefined;
      if (records.length > 0) {
        const batch: ConsumedBatch = {
          topic: log.topic,
          partition: log.partition,
          records,
          nextOffset: next,
          highWatermark: until,
        };
        const context: BatchContext = {
          heartbeat: () => (member.state === "crashed" ? limbo() : Promise.resolve()),
          isCurrent: () => member.state === "active" && member.owns(log.topic, log.partition),
        };
        let last: string | undefined;
        try {
          last = await options.eachBatch(batch, context);
        } catch (error) {
          this.failMember(member, error);
          return delivery;
        }
        if (last !== undefined) handled = Number(last) + 1;
      } else if (next > from) {
        // Only aborted records and markers: the consumer moves past them by itself.
        handled = next;
      } else {
        loop.emptyAt = from;
      }
      release();
      if (!member.present) return delivery;
      if (handled !== undefined) {
        loop.position = handled;
        if (options.autoCommit && member.owns(log.topic, log.partition)) {
          this.storeOffset(member.group.id, log.topic, log.partition, String(handled));
        }
      }
      // As kafkajs, only after fetches that covered something: a fetch at the end reports nothing.
      if (next > from) {
        try {
          options.onRead?.(log.topic, log.partition, next, records.length);
        } catch (error) {
          this.failMember(member, error);
        }
      }
      return delivery;
    } finally {
      release();
    }
  }

  private matches(
    loop: PartitionLoop,
    filter: DeliveryFilter,
    consumerOf: (member: Member) => unknown,
  ): boolean {
    return (
      (filter.groupId === undefined || filter.groupId === loop.member.group.id) &&
      (filter.topic === undefined || filter.topic === loop.log.topic) &&
      (filter.partition === undefined || filter.partition === loop.log.partition) &&
      (filter.consumer === undefined || filter.consumer === consumerOf(loop.member))
    );
  }

  async deliver(filter: DeliveryFilter, consumerOf: (member: Member) => unknown): Promise<Delivery[]> {
    if (this.options.delivery !== "manual") {
      throw new Error("deliver() needs createMemoryKafka({ delivery: 'manual' }); use runUntilIdle()");
    }
    this.flushRebalances();
    // Loops started by the rebalance reach their gate within this turn.
    await nextTurn();
    const started: Promise<Delivery | undefined>[] = [];
    for (const [loop, release] of [...this.gates]) {
      if (!this.matches(loop, filter, consumerOf)) continue;
      this.gates.delete(loop);
      loop.wake = undefined;
      started.push(new Promise<Delivery | undefined>((resolve) => release(resolve)));
    }
    const deliveries = await Promise.all(started);
    return deliveries.filter((delivery): delivery is Delivery => delivery !== undefined);
  }

  /** What keeps the cluster from being idle, for messages; empty when idle. */
  busy(): string[] {
    const reasons: string[] = [];
    for (const group of this.groups.values()) {
      if (group.rebalancePending) reasons.push(`group ${group.id} is rebalancing`);
      for (const member of group.members) {
        if (!member.present) continue;
        for (const loop of member.loops.values()) {
          const idle = loop.state === "done" || (loop.state === "parked" && !loop.hasWork());
          if (!idle) {
            reasons.push(
              `${member.id} on ${loop.log.topic}[${loop.log.partition}] is ${loop.state} at ${loop.position ?? "its start"}`,
            );
          }
        }
      }
    }
    return reasons;
  }

  async runUntilIdle(maxFetches: number, consumerOf: (member: Member) => unknown): Promise<void> {
    const limit = this.fetches + maxFetches;
    // Idle twice in a row: work scheduled by handlers (a microtask chain, one turn) shows up in between.
    for (let quiet = 0; quiet < 2; ) {
      this.flushRebalances();
      if (this.options.delivery === "manual") await this.deliver({}, consumerOf);
      await nextTurn();
      quiet = this.busy().length === 0 ? quiet + 1 : 0;
      if (this.fetches > limit) {
        throw new Error(`memory Kafka is not idle after ${maxFetches} fetches: ${this.busy().join("; ")}`);
      }
    }
  }
}

function partitionOf(record: OutgoingRecord, partitions: number, counter: { next: number }): number {
  if (record.partition !== undefined) return record.partition;
  if (record.key === null || record.key === undefined) {
    // kafkajs spreads records without a key round-robin.
    const partition = counter.next % partitions;
    counter.next += 1;
    return partition;
  }
  return typeof record.key === "string"
    ? partitionForKey(record.key, partitions)
    : (murmur2(record.key) & 0x7fffffff) % partitions;
}

function storedHeaders(headers: RecordHeaders | undefined): [string, Buffer | Buffer[]][] {
  const stored: [string, Buffer | Buffer[]][] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const bytes = (item: Buffer | string) => bytesOf(item) ?? Buffer.alloc(0);
    stored.push([name, Array.isArray(value) ? value.map(bytes) : bytes(value)]);
  }
  return stored;
}

const text = (data: Buffer | null) => (data === null ? null : data.toString("utf8"));

/** Creates an empty cluster. Nothing runs until a port of it is used. */
export function createMemoryKafka(options: MemoryKafkaOptions = {}): MemoryKafka {
  const cluster = new Cluster({
    delivery: options.delivery ?? "auto",
    assignment: options.assignment ?? "roundRobin",
    maxFetchBytes: options.maxFetchBytes ?? 1024 * 1024,
    now: options.now ?? Date.now,
  });
  const consumers = new WeakMap<Member, GroupConsumer>();
  const consumerOf = (member: Member) => consumers.get(member);
  const members = new WeakMap<GroupConsumer, Member>();

  /**
   * Runs a client's call: a crashed client's calls never settle, a closed one's are refused. The
   * work itself is synchronous, so a crash never lands halfway through a call.
   */
  const call = async <T>(host: Host, state: ClientState, what: string, work: () => T): Promise<T> => {
    if (host.state.status === "crashed" || state.status === "crashed") return limbo<T>();
    if (state.status === "closed")
      throw new StediError("rejected", `memory Kafka: ${what} on a closed client`);
    return work();
  };

  const createWriter = (host: Host, transactionalId: string): TransactionalWriter => {
    const state: ClientState = { status: "open" };
    const coordinator = cluster.coordinator(transactionalId);
    cluster.bumpEpoch(coordinator);
    const epoch = coordinator.epoch;
    const counter = { next: 0 };
    let current: Txn | undefined;

    const checkEpoch = () => {
      if (coordinator.epoch !== epoch) {
        throw new StediError(
          "fenced",
          `${transactionalId}: fenced by a newer owner of the same transactional id`,
        );
      }
    };
    const checkOpen = (txn: Txn) => {
      checkEpoch();
      if (txn.status !== "open") {
        throw new StediError("rejected", `${transactionalId}: the transaction is already ${txn.status}`);
      }
    };

    const begin = () =>
      call(host, state, "beginning a transaction", (): Transaction => {
        checkEpoch();
        if (current?.status === "open") {
          throw new StediError("rejected", `${transactionalId}: a transaction is already open`);
        }
        const txn: Txn = { coordinator, status: "open", touched: new Map(), offsets: [] };
        current = txn;
        coordinator.current = txn;
        return {
          send: (records) =>
            call(host, state, "writing in a transaction", () => {
              checkOpen(txn);
              cluster.injectFault(transactionalId, "beforeSend");
              cluster.append(records, txn, counter);
              cluster.injectFault(transactionalId, "afterSend");
            }),
          sendOffset: (offset) =>
            call(host, state, "adding offsets to a transaction", () => {
              checkOpen(txn);
              txn.offsets.push({ ...offset });
              cluster.injectFault(transactionalId, "afterSendOffset");
            }),
          commit: () =>
            call(host, state, "committing a transaction", () => {
              checkOpen(txn);
              cluster.injectFault(transactionalId, "beforeCommit");
              cluster.endTransaction(txn, true);
              cluster.injectFault(transactionalId, "afterCommit");
            }),
          abort: () =>
            call(host, state, "aborting a transaction", () => {
              checkOpen(txn);
              cluster.endTransaction(txn, false);
            }),
        };
      });

    const writer: TransactionalWriter = {
      transactionalId,
      // The in-memory coordinator writes every marker at once: no transaction is ever left open.
      abortedAtStart: [],
      uncheckedAtStart: [],
      begin,
      async commit(records, offset) {
        const txn = await begin();
        try {
          await txn.send(records);
          if (offset !== undefined) await txn.sendOffset(offset);
          await txn.commit();
        } catch (error) {
          await txn.abort().catch(() => undefined);
          throw error;
        }
      },
      // As with kafkajs, closing leaves an open transaction to the coordinator (and its timeout).
      async close() {
        if (state.status === "open") state.status = "closed";
      },
    };
    const handle = {
      crash: () => {
        state.status = "crashed";
      },
    };
    host.clients.add(handle);
    cluster.handles.set(writer, handle);
    return writer;
  };

  const createProducer = (host: Host): Producer => {
    const state: ClientState = { status: "open" };
    const counter = { next: 0 };
    const producer: Producer = {
      send: (records) => call(host, state, "writing", () => cluster.append(records, undefined, counter)),
      async close() {
        if (state.status === "open") state.status = "closed";
      },
    };
    const handle = {
      crash: () => {
        state.status = "crashed";
      },
    };
    host.clients.add(handle);
    cluster.handles.set(producer, handle);
    return producer;
  };

  const consume = (host: Host, options: GroupConsumerOptions): GroupConsumer => {
    for (const topic of options.topics) cluster.topicOrFail(topic);
    const member = cluster.join(options, host.clientId);
    const consumer: GroupConsumer = {
      async close() {
        if (!member.present) return;
        if (member.state === "closing") return member.closing;
        member.state = "closing";
        const loops = [...member.loops.values()];
        for (const loop of loops) loop.stop();
        member.closing = Promise.all(loops.map((loop) => loop.finished)).then(() => {
          if (member.state !== "closing") return;
          member.state = "closed";
          cluster.leave(member);
        });
        return member.closing;
      },
    };
    const handle = { crash: () => cluster.crashMember(member) };
    host.clients.add(handle);
    cluster.handles.set(consumer, handle);
    consumers.set(member, consumer);
    members.set(consumer, member);
    return consumer;
  };

  /** Reads each partition from 0 to its last stable offset at the call, round-robin. */
  const readToEnd = async (topic: string, onBatch: (batch: ConsumedBatch) => void) => {
    const ends = cluster.topicOrFail(topic).logs.map((log) => ({ log, end: log.stableEnd, position: 0 }));
    for (;;) {
      const remaining = ends.filter((entry) => entry.position < entry.end);
      if (remaining.length === 0) return;
      let moved = false;
      for (const entry of remaining) {
        const until = Math.min(entry.log.stableEnd, entry.end);
        if (until <= entry.position) continue;
        const { records, next } = entry.log.read(entry.position, until, cluster.options.maxFetchBytes);
        entry.position = next;
        moved = true;
        if (records.length > 0) {
          onBatch({
            topic,
            partition: entry.log.partition,
            records,
            nextOffset: next,
            highWatermark: entry.log.stableEnd,
          });
        }
      }
      if (moved) {
        await Promise.resolve();
        continue;
      }
      // Every remaining partition waits for an open transaction to end.
      await new Promise<void>((resolve) => {
        const stops = remaining.map((entry) =>
          entry.log.watch(() => {
            for (const stop of stops) stop();
            resolve();
          }),
        );
      });
    }
  };

  const createPort = (clientId = "memory"): KafkaPort => {
    const host: Host = { clientId, state: { status: "open" }, clients: new Set() };
    const port: KafkaPort = {
      brokers: ["memory"],
      ensureTopics: (topics: (string | TopicSpec)[]) =>
        call(host, host.state, "creating topics", () => {
          for (const spec of topics.map((topic) => (typeof topic === "string" ? { topic } : topic))) {
            if (cluster.topics.has(spec.topic)) continue;
            const count = spec.numPartitions ?? 1;
            if (!Number.isInteger(count) || count < 1) {
              throw new StediError("rejected", `memory Kafka: ${spec.topic} cannot have ${count} partitions`);
            }
            cluster.topics.set(spec.topic, {
              configs: { ...spec.configs },
              logs: Array.from({ length: count }, (_, partition) => new PartitionLog(spec.topic, partition)),
            });
          }
        }),
      partitionCount: (topic) =>
        call(host, host.state, "reading partitions", () => cluster.topics.get(topic)?.logs.length ?? 0),
      offsetRanges: (topic) =>
        call(
          host,
          host.state,
          "reading offsets",
          () =>
            new Map<number, OffsetRange>(
              cluster.topicOrFail(topic).logs.map((log) => [log.partition, { low: 0, high: log.stableEnd }]),
            ),
        ),
      committedOffsets: (groupId, topic) =>
        call(
          host,
          host.state,
          "reading committed offsets",
          () => new Map(cluster.committed.get(groupId)?.get(topic)),
        ),
      groupState: (groupId) =>
        call(host, host.state, "describing a group", () => {
          const group = cluster.groups.get(groupId);
          if (!group?.members.some((member) => member.present)) return undefined;
          return group.rebalancePending ? "PreparingRebalance" : "Stable";
        }),
      topicConfigs: (topic) =>
        call(
          host,
          host.state,
          "describing configs",
          () => new Map(Object.entries(cluster.topicOrFail(topic).configs)),
        ),
      readRecordsAt: (topic, offsets) =>
        call(host, host.state, "reading records", () => {
          const logs = cluster.topicOrFail(topic).logs;
          const found = new Map<number, ConsumedRecord | undefined>();
          for (const [partition, offset] of offsets) {
            const log = logs[partition];
            const first = log === undefined ? undefined : log.read(offset, log.stableEnd, 1).records[0];
            found.set(partition, first?.offset === String(offset) ? first : undefined);
          }
          return found;
        }),
      readToEnd: async (topic, onBatch) => {
        await call(host, host.state, "reading", () => cluster.topicOrFail(topic));
        await readToEnd(topic, onBatch);
      },
      createProducer: () => call(host, host.state, "creating a producer", () => createProducer(host)),
      createTransactionalWriter: (transactionalId) =>
        call(host, host.state, "creating a transactional writer", () => createWriter(host, transactionalId)),
      consume: (options) => call(host, host.state, "subscribing", () => consume(host, options)),
      async close() {},
    };
    cluster.handles.set(port, {
      crash: () => {
        host.state.status = "crashed";
        for (const client of host.clients) client.crash();
      },
    });
    return port;
  };

  return {
    createPort,
    deliver: (filter = {}) => cluster.deliver(filter, consumerOf),
    runUntilIdle: (options = {}) => cluster.runUntilIdle(options.maxFetches ?? 10_000, consumerOf),
    failTransaction(transactionalId, step, options = {}) {
      const faults = cluster.faults.get(transactionalId) ?? [];
      faults.push({
        step,
        error: () => injectedError(transactionalId, step, options.error),
        remaining: options.times ?? 1,
      });
      cluster.faults.set(transactionalId, faults);
    },
    failConsumer(consumer, error) {
      const member = members.get(consumer);
      if (!member) throw new Error("failConsumer: not a consumer of this memory cluster");
      cluster.failMember(member, error ?? new StediError("unavailable", `memory Kafka: ${member.id} failed`));
    },
    crash(target) {
      const handle = cluster.handles.get(target);
      if (!handle) throw new Error("crash: not a client of this memory cluster");
      handle.crash();
    },
    expireSessions: () => cluster.expireSessions(),
    expireTransactions(transactionalId) {
      for (const coordinator of cluster.coordinators.values()) {
        if (transactionalId !== undefined && coordinator.transactionalId !== transactionalId) continue;
        if (coordinator.current?.status === "open") cluster.bumpEpoch(coordinator);
      }
    },
    entries(topic, partition) {
      return cluster.log(topic, partition).entries.map((entry, offset): LogEntry => {
        const transactionalId = entry.txn?.coordinator.transactionalId;
        if (entry.kind === "marker") {
          return {
            offset,
            kind: entry.commit ? "commit" : "abort",
            ...(transactionalId === undefined ? {} : { transactionalId }),
            state: entry.commit ? "committed" : "aborted",
            key: null,
            value: null,
          };
        }
        return {
          offset,
          kind: "record",
          ...(transactionalId === undefined ? {} : { transactionalId }),
          state: entry.txn?.status ?? "plain",
          key: text(entry.key),
          value: text(entry.value),
        };
      });
    },
    topic(name) {
      const topic = cluster.topics.get(name);
      return topic && { partitions: topic.logs.length, configs: { ...topic.configs } };
    },
    assignment(groupId) {
      const group = cluster.groups.get(groupId);
      return new Map(
        (group?.members ?? [])
          .filter((member) => member.present)
          .map((member) => [
            member.id,
            new Map([...member.assignment].map(([topic, parts]) => [topic, [...parts]])),
          ]),
      );
    },
  };
}
