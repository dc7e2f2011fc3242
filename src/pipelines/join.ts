// stedi join: customers from redis-server (a table) joined with risk events (a stream) into
// stedi-graph, exactly once. Each input partition is a task with its own transactional producer
// (see join-task.ts); every instance reads all customers and the pending-event changelog.

import { randomUUID } from "node:crypto";
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from "kafkajs";
import {
  createAdmin,
  createConsumer,
  createKafka,
  ensureTopics,
  fetchEndOffsets,
  kafkaFailure,
  partitionCount,
} from "../adapters/kafka.js";
import { type LogFile, openLogFile } from "../adapters/log-file.js";
import { createMetricsServer, type MetricsServer } from "../adapters/metrics-server.js";
import type { Reporter } from "../adapters/terminal.js";
import { type CommonConfig, defaults, type JoinConfig } from "../config/config.js";
import { decodeRedisRecord } from "../core/connector/record.js";
import { scanCustomerZadd } from "../core/customers/customer-scan.js";
import { CustomerTable } from "../core/customers/customer-table.js";
import { encodeGraphRecord } from "../core/graph/graph-record.js";
import type { RecordBytes } from "../core/join/dead-letter.js";
import { decodePendingLogEntry, PendingLogReplica } from "../core/join/pending-log.js";
import { Counter, Gauge, Histogram, renderMetrics } from "../core/metrics.js";
import { renderBatch } from "../render/spark-console.js";
import { type BadCustomerRecord, PartitionTask, type TaskContext } from "./join-task.js";
import type { Lifecycle } from "./lifecycle.js";
import { createStdout } from "./output.js";
import { PositionTracker } from "./positions.js";

export type JoinCounts = {
  customerRecords: number;
  customersSkipped: number;
  events: number;
  joined: number;
  deadLettered: number;
  waiting: number;
  customers: number;
};

const joinedColumns = ["customer", "score", "email", "birthYear"];

export const changelogTopicFor = (groupId: string) => `${groupId}-pending-changelog`;

const bytesOf = (message: KafkaMessage): RecordBytes => ({
  key: message.key,
  value: message.value,
  headers: message.headers as RecordBytes["headers"],
});

/** A producer fenced by a newer owner of the same partition: the partition has moved, do not retry. */
const isFenced = (error: unknown): boolean => {
  const type = (error as { type?: string }).type ?? "";
  return (
    type === "INVALID_PRODUCER_EPOCH" ||
    type === "PRODUCER_FENCED" ||
    type === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"
  );
};

async function sleep(ms: number) {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

export async function runJoin(options: {
  common: CommonConfig;
  join: JoinConfig;
  reporter: Reporter;
  lifecycle: Lifecycle;
}): Promise<JoinCounts> {
  const { common, reporter, lifecycle } = options;
  const counts: JoinCounts = {
    customerRecords: 0,
    customersSkipped: 0,
    events: 0,
    joined: 0,
    deadLettered: 0,
    waiting: 0,
    customers: 0,
  };
  const metrics = {
    customerRecords: new Counter(
      "stedi_join_customer_records_total",
      "Records read from the customer topic.",
    ),
    events: new Counter("stedi_join_events_consumed_total", "Risk events read and committed."),
    produced: new Counter(
      "stedi_join_records_produced_total",
      "Joined records committed to the output topic.",
    ),
    deadLetters: new Counter("stedi_join_dead_letters_total", "Records committed to the dead-letter topic."),
    waiting: new Gauge("stedi_join_waiting_events", "Risk events waiting for their customer."),
    customers: new Gauge("stedi_join_customers", "Customers in the table."),
    partitions: new Gauge("stedi_join_partitions_owned", "Risk-event partitions this instance owns."),
    lag: new Gauge(
      "stedi_join_lag_records",
      "Records between the last commit and the partition's end, per partition.",
    ),
    transactions: new Histogram(
      "stedi_join_transaction_seconds",
      "Time from a batch's first record processed to its transaction committed.",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
  };
  const groupId = common.group ?? defaults.joinGroup;
  const changelogTopic = changelogTopicFor(groupId);
  const connection = createKafka(common, "stedi-join");
  const admin = await createAdmin(connection);
  let customerEnds: Map<number, { low: number; high: number }>;
  let outputPartitions: number;
  try {
    await ensureTopics(connection, admin, [
      common.redisTopic,
      common.eventsTopic,
      common.outputTopic,
      common.dlqTopic,
    ]);
    // Independent look-ups, at once: start-up time is mostly round trips to the broker.
    let partitions: number;
    [partitions, outputPartitions, customerEnds] = await Promise.all([
      partitionCount(connection, admin, common.eventsTopic),
      partitionCount(connection, admin, common.outputTopic),
      fetchEndOffsets(connection, admin, common.redisTopic),
    ]);
    await ensureTopics(connection, admin, [
      {
        topic: changelogTopic,
        numPartitions: partitions,
        configEntries: [{ name: "cleanup.policy", value: "compact" }],
      },
    ]);
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    throw error;
  }

  // Every instance needs every customer and can take over any partition: the customer topic and the
  // changelog are read whole, by a group of one that commits nothing.
  const stateConsumer = await createConsumer(connection, { groupId: `${groupId}.state.${randomUUID()}` });
  const eventConsumer = await createConsumer(connection, {
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  const positions = new PositionTracker(stateConsumer);
  const customers = new CustomerTable();
  const replicas = new Map<number, PendingLogReplica>();
  const replicaOf = (partition: number) => {
    let replica = replicas.get(partition);
    if (!replica) {
      replica = new PendingLogReplica();
      replicas.set(partition, replica);
    }
    return replica;
  };
  let badCustomers: BadCustomerRecord[] = [];

  const stdout = createStdout(lifecycle);
  const log: LogFile | undefined = options.join.console
    ? openLogFile(common.logDir, "kafkajoin.log")
    : undefined;
  let consoleRows: string[][] = [];
  let consoleBatch = 0;

  const fail = (doing: string) => (error: unknown) =>
    lifecycle.stop({ kind: "failure", error: kafkaFailure(connection, doing, error) });

  const context: TaskContext = {
    connection,
    admin,
    groupId,
    eventsTopic: common.eventsTopic,
    outputTopic: common.outputTopic,
    outputPartitions,
    dlqTopic: common.dlqTopic,
    changelogTopic,
    waitMs: options.join.waitMs,
    customers,
    async restore(partition) {
      const ends = await fetchEndOffsets(connection, admin, changelogTopic);
      const end = ends.get(partition) ?? { low: 0, high: 0 };
      await positions.reached(changelogTopic, partition, { start: end.low, end: end.high });
      const replica = replicaOf(partition);
      return {
        waiting: [...replica.waiting.values()],
        deadLetterMarks: new Map(replica.deadLetterMarks),
        position: replica.position,
      };
    },
    badRecord: (where, reason) => reporter.badRecord(where, reason),
    committed({ outputs, deadLetters, events, latencyMs }) {
      counts.events += events;
      counts.joined += outputs.length;
      counts.deadLettered += deadLetters;
      metrics.events.inc(events);
      metrics.produced.inc(outputs.length);
      metrics.deadLetters.inc(deadLetters);
      if (events > 0) metrics.transactions.observe(latencyMs / 1000);
      for (const record of outputs) {
        if (common.json) stdout.write(`${encodeGraphRecord(record)}\n`);
        if (log) consoleRows.push([record.customer, record.score, record.email, record.birthYear]);
      }
      lifecycle.markActivity();
    },
  };

  // Tasks by partition; a promise while the partition is being taken over.
  const tasks = new Map<number, Promise<PartitionTask | undefined>>();
  /** The task each settled take-over gave, read synchronously. */
  const startedTasks = new WeakMap<Promise<PartitionTask | undefined>, PartitionTask>();
  let assigned = new Set<number>();

  // One take-over per partition at a time: a start that is no longer the partition's current one
  // gives up, and a task that failed is replaced only by whoever finds it still current.
  const startTask = (partition: number): Promise<PartitionTask | undefined> => {
    const starting: Promise<PartitionTask | undefined> = (async () => {
      // Lets the lines below record this start as the partition's current one before it is checked.
      await Promise.resolve();
      const current = () => tasks.get(partition) === starting && assigned.has(partition);
      for (let attempt = 1; !lifecycle.isStopping && current(); attempt += 1) {
        try {
          const task = await PartitionTask.start(context, partition);
          if (!current()) {
            await task.stop();
            return undefined;
          }
          reporter.info(
            `join: partition ${partition} taken over at offset ${task.nextOffset ?? common.from}, ${task.waiting} events waiting`,
          );
          return task;
        } catch (error) {
          if (attempt === 1 || attempt % 10 === 0) {
            reporter.warn(
              `join: taking over partition ${partition} failed (${kafkaFailure(connection, "", error).message}); retrying`,
            );
          }
          await sleep(Math.min(5000, 250 * attempt));
        }
      }
      return undefined;
    })();
    tasks.set(partition, starting);
    void starting.then((task) => {
      if (task) startedTasks.set(starting, task);
    });
    return starting;
  };

  const taskFor = (partition: number) => tasks.get(partition) ?? startTask(partition);

  const dropTask = async (partition: number) => {
    const pending = tasks.get(partition);
    tasks.delete(partition);
    await (await pending)?.stop();
  };

  /** A failed transaction leaves memory ahead of the commit: start the partition again from its changelog. */
  const recover = async (partition: number, failed: PartitionTask, error: unknown) => {
    const pending = tasks.get(partition);
    const current = await pending;
    if (current !== failed || tasks.get(partition) !== pending) {
      // Already replaced (or dropped) by someone else.
      await failed.stop();
      return;
    }
    tasks.delete(partition);
    await failed.stop();
    if (isFenced(error)) {
      reporter.warn(`join: partition ${partition} was taken over by another instance`);
      return;
    }
    reporter.warn(
      `join: partition ${partition}: ${kafkaFailure(connection, "transaction", error).message}; restarting it from its last commit`,
    );
    if (assigned.has(partition) && !tasks.has(partition)) void startTask(partition);
  };

  const eachTask = async (work: (task: PartitionTask) => Promise<unknown>) => {
    await Promise.all(
      [...tasks.entries()].map(async ([partition, pending]) => {
        const task = await pending;
        if (!task || tasks.get(partition) !== pending) return;
        await work(task).catch((error: unknown) => recover(partition, task, error));
      }),
    );
  };

  // --- customers and changelog ------------------------------------------------------------------
  const customersBehind = new Map(
    [...customerEnds].filter(([, end]) => end.high > end.low).map(([partition, end]) => [partition, end]),
  );
  const customersReady = Promise.all(
    [...customersBehind].map(([partition, end]) =>
      positions.reached(common.redisTopic, partition, { start: end.low, end: end.high }),
    ),
  );
  let customersLoaded = customersBehind.size === 0;
  void customersReady.then(() => {
    customersLoaded = true;
  });

  // The state consumer commits nothing, so after any rejoin (a broker restart, a coordinator move)
  // it reads its topics again from the start. Replaying old changelog entries would briefly bring
  // back resolved events and old positions, so each record is applied once, in offset order.
  // The tracker moves after each batch is applied, so it is also where applying resumes.
  const unapplied = (topic: string, partition: number, messages: KafkaMessage[]) => {
    const next = positions.nextOf(topic, partition);
    return messages.filter((message) => Number(message.offset) >= next);
  };

  // Whether an arriving customer might release a waiting event: a task still starting counts, as its
  // restored events are not yet visible.
  const anyWaiting = () => {
    for (const pending of tasks.values()) {
      const task = startedTasks.get(pending);
      if (task === undefined || task.waiting > 0) return true;
    }
    return false;
  };
  // The emails of a batch's customers, kept only when some event may be waiting for them (asked once
  // per batch: the batch is applied synchronously, so the answer cannot change within it).
  let arrived: string[] | undefined;
  const recordCustomer = (email: Uint8Array, birthYear: number) => {
    customers.upsertUtf8(email, birthYear);
    arrived?.push(Buffer.from(email).toString("latin1"));
  };

  const handleCustomers = (partition: number, messages: KafkaMessage[]) => {
    arrived = anyWaiting() ? [] : undefined;
    for (const message of messages) {
      counts.customerRecords += 1;
      metrics.customerRecords.inc();
      if (message.value && scanCustomerZadd(message.value, recordCustomer)) continue;
      const position = { topic: common.redisTopic, partition, offset: message.offset };
      const decoded = decodeRedisRecord(message.value?.toString("utf8") ?? "");
      if (!decoded.ok) {
        reporter.badRecord(position, decoded.reason);
        badCustomers.push({ position, record: bytesOf(message), reason: decoded.reason });
        continue;
      }
      if (decoded.value.kind === "skipped") {
        counts.customersSkipped += 1;
        continue;
      }
      for (const customer of decoded.value.customers) {
        customers.upsert(customer.email, customer.birthYear);
        arrived?.push(customer.email);
      }
      if (decoded.value.rejected.length > 0) {
        const reason = decoded.value.rejected.join("; ");
        reporter.badRecord(position, reason);
        badCustomers.push({ position, record: bytesOf(message), reason });
      }
    }
    const released = arrived;
    if (released !== undefined && released.length > 0) void eachTask((task) => task.release(released));
  };

  const handleChangelog = (partition: number, messages: KafkaMessage[]) => {
    const replica = replicaOf(partition);
    for (const message of messages) {
      const entry = decodePendingLogEntry(message.key?.toString() ?? "", message.value);
      if (entry.kind === "unknown") reporter.warn(`join: ignoring changelog record with key ${entry.key}`);
      else replica.apply(entry);
    }
  };

  // --- periodic work -----------------------------------------------------------------------------
  const flushConsole = () => {
    if (!log || consoleRows.length === 0) return;
    const text = renderBatch(consoleBatch, joinedColumns, consoleRows, {
      truncate: true,
      maxRows: defaults.rows,
    });
    stdout.write(text);
    log.write(text);
    consoleBatch += 1;
    consoleRows = [];
  };

  const tick = async () => {
    await eachTask((task) => task.expire(Date.now()));
    if (badCustomers.length > 0 && customersLoaded) {
      const owner = await tasks.get(0);
      if (owner) {
        const handled = await owner
          .deadLetterCustomers(badCustomers)
          .catch((error: unknown): BadCustomerRecord[] => {
            void recover(0, owner, error);
            return [];
          });
        badCustomers = badCustomers.filter((record) => !handled.includes(record));
      }
    }
  };

  let ticking = false;
  const showStatus = async () => {
    let waiting = 0;
    for (const pending of tasks.values()) waiting += (await pending)?.waiting ?? 0;
    counts.waiting = waiting;
    counts.customers = customers.size;
    metrics.waiting.set(waiting);
    metrics.customers.set(customers.size);
    metrics.partitions.set(assigned.size);
    reporter.status(
      `join: ${counts.customers} customers, ${counts.events} events → ${counts.joined} joined, ${counts.waiting} waiting, ${counts.deadLettered} dead-lettered`,
    );
  };
  const timers = [
    setInterval(
      () => {
        if (ticking) return;
        ticking = true;
        void tick()
          .catch(fail("expiring waiting events"))
          .finally(() => {
            ticking = false;
          });
      },
      Math.min(1000, options.join.waitMs),
    ),
    setInterval(flushConsole, defaults.triggerMs),
    setInterval(() => void showStatus(), 250),
  ];

  // --- consumers -----------------------------------------------------------------------------------
  // How far each input partition has been read: our commits, and batches of transaction markers only.
  const readThrough = new Map<number, number>();
  const markRead = (partition: number, next: number) => {
    if ((readThrough.get(partition) ?? -1) < next) readThrough.set(partition, next);
  };
  eventConsumer.on(eventConsumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0) markRead(payload.partition, Number(payload.lastOffset) + 1);
  });

  /** Idle means caught up: customers loaded, every assigned partition taken over and read to its end. */
  const caughtUp = async () => {
    if (!customersLoaded || assigned.size === 0) return false;
    // The owner of partition 0 still has customer records to dead-letter.
    if (assigned.has(0) && badCustomers.length > 0) return false;
    const ends = await fetchEndOffsets(connection, admin, common.eventsTopic);
    // Partitions this instance does not own count too: until a dead member's session expires its
    // partitions are nobody's, and idle must not mean "my share is done".
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [common.eventsTopic] });
    for (const { partition, offset } of offsets?.partitions ?? []) {
      if (assigned.has(partition)) continue;
      const end = ends.get(partition) ?? { low: 0, high: 0 };
      if (end.high > end.low && Number(offset) < end.high) return false;
    }
    for (const partition of assigned) {
      const task = await tasks.get(partition);
      if (!task) return false;
      const end = ends.get(partition) ?? { low: 0, high: 0 };
      // Starting from the latest offset with nothing committed, a partition is caught up by definition.
      if (task.nextOffset === undefined && common.from === "latest") continue;
      const read = Math.max(readThrough.get(partition) ?? -1, Number(task.nextOffset ?? -1), end.low);
      if (read < end.high) return false;
    }
    return true;
  };

  let joinedGroups = 0;
  const watchIdleOnce = () => {
    joinedGroups += 1;
    if (joinedGroups === 2) lifecycle.watchIdle(common.exitOnIdleMs, caughtUp);
  };
  stateConsumer.on(stateConsumer.events.GROUP_JOIN, watchIdleOnce);
  eventConsumer.on(eventConsumer.events.GROUP_JOIN, ({ payload }) => {
    if (joinedGroups < 2) watchIdleOnce();
    assigned = new Set(payload.memberAssignment[common.eventsTopic] ?? []);
    for (const partition of tasks.keys())
      if (!assigned.has(partition)) metrics.lag.remove({ partition: String(partition) });
    for (const partition of [...tasks.keys()]) if (!assigned.has(partition)) void dropTask(partition);
    for (const partition of assigned) if (!tasks.has(partition)) void startTask(partition);
  });
  for (const consumer of [stateConsumer, eventConsumer]) {
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail("consuming")(payload.error);
    });
  }

  const waitWithHeartbeats = async (ready: Promise<unknown>, heartbeat: () => Promise<void>) => {
    let settled = false;
    void ready.then(() => {
      settled = true;
    });
    while (!settled && !lifecycle.isStopping) {
      await Promise.race([ready, sleep(1000)]);
      await heartbeat();
    }
  };

  const handleEvents = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    if (lifecycle.isStopping || !isRunning() || isStale()) return;
    // Customers first: read the customer topic to its end before joining any event.
    await waitWithHeartbeats(customersReady, heartbeat);
    const pending = taskFor(batch.partition);
    await waitWithHeartbeats(pending, heartbeat);
    const task = await pending;
    if (!task || lifecycle.isStopping || isStale()) return;
    try {
      const last = await task.process(batch);
      if (last !== undefined) {
        resolveOffset(last);
        metrics.lag.set(Math.max(0, Number(batch.highWatermark) - Number(last) - 1), {
          partition: String(batch.partition),
        });
      }
    } catch (error) {
      await recover(batch.partition, task, error);
    }
  };

  let metricsServer: MetricsServer | undefined;
  if (options.join.metricsPort !== undefined) {
    try {
      metricsServer = await createMetricsServer({
        host: options.join.metricsHost,
        port: options.join.metricsPort,
        metrics: () => renderMetrics(Object.values(metrics)),
        health: () => ({
          healthy: customersLoaded && joinedGroups >= 2 && !lifecycle.isStopping,
          details: {
            customersLoaded,
            partitions: [...assigned],
            customers: customers.size,
            waiting: counts.waiting,
          },
        }),
      });
      reporter.info(`join: metrics on ${metricsServer.url}/metrics, health on ${metricsServer.url}/healthz`);
    } catch (error) {
      lifecycle.stop({ kind: "failure", error });
    }
  }

  try {
    await stateConsumer.subscribe({ topics: [common.redisTopic, changelogTopic], fromBeginning: true });
    await eventConsumer.subscribe({ topic: common.eventsTopic, fromBeginning: common.from === "earliest" });
    await stateConsumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const messages = unapplied(batch.topic, batch.partition, batch.messages);
        if (batch.topic === common.redisTopic) handleCustomers(batch.partition, messages);
        else handleChangelog(batch.partition, messages);
        lifecycle.markActivity();
      },
    });
    await eventConsumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: handleEvents,
    });
  } catch (error) {
    fail("subscribing")(error);
  }

  const reason = await lifecycle.stopped;
  for (const timer of timers) clearInterval(timer);
  await shutDown({ eventConsumer, stateConsumer, admin, tasks: [...tasks.values()] });
  await metricsServer?.close();
  flushConsole();
  await log?.close();
  await showStatus();
  reporter.close();
  if (reason.kind === "failure") throw reason.error;
  reporter.info(
    `join: ${counts.customers} customers (${counts.customerRecords} records, ${counts.customersSkipped} not customers), ${counts.events} events → ${counts.joined} joined, ${counts.deadLettered} dead-lettered`,
  );
  if (counts.waiting > 0) {
    reporter.warn(
      `join: ${counts.waiting} events still wait for their customer; they are kept in ${changelogTopic}`,
    );
  }
  return counts;
}

/**
 * Lets the running batch finish (new batches see the lifecycle stopping and do nothing), lets each
 * task finish its transaction, then leaves the groups and disconnects.
 */
async function shutDown(options: {
  eventConsumer: Consumer;
  stateConsumer: Consumer;
  admin: Admin;
  tasks: Promise<PartitionTask | undefined>[];
}) {
  await options.eventConsumer.stop().catch(() => undefined);
  await Promise.all(options.tasks.map(async (pending) => (await pending.catch(() => undefined))?.stop()));
  await options.stateConsumer.stop().catch(() => undefined);
  await Promise.all([
    options.eventConsumer.disconnect().catch(() => undefined),
    options.stateConsumer.disconnect().catch(() => undefined),
    options.admin.disconnect().catch(() => undefined),
  ]);
}
