// stedi join: customers from redis-server (a table) joined with risk events (a stream) into
// stedi-graph, exactly once. Wiring only: each input partition is a task with its own transactional
// writer (partition-task.ts) doing what the join's steps decide (core/join/join-steps.ts); every
// instance reads all customers and the pending-event changelog (state-reader.ts), the customers
// from a local checkpoint on when --state-dir keeps one (customer-checkpoint.ts).

import { randomUUID } from "node:crypto";
import type { ConsumedBatch, GroupConsumer, KafkaPort } from "../../adapters/kafka/index.js";
import { classifyKafkaError, createKafkaPort } from "../../adapters/kafka/index.js";
import { createMetricsRegistry } from "../../adapters/metrics-server.js";
import type { Reporter } from "../../adapters/terminal.js";
import { type CommonConfig, defaults, type JoinConfig } from "../../config/config.js";
import type { Lifecycle } from "../lifecycle.js";
import { serveMetrics } from "../serve-metrics.js";
import { isCaughtUp } from "./caught-up.js";
import {
  type CheckpointWriter,
  checkpointPathFor,
  createCheckpointWriter,
  restoreCustomerCheckpoint,
} from "./customer-checkpoint.js";
import { createJoinConsole } from "./join-console.js";
import { createJoinMetrics, type JoinReadings } from "./join-metrics.js";
import { PartitionTask, type TaskContext } from "./partition-task.js";
import { JoinStateReader } from "./state-reader.js";
import { TaskRegistry } from "./task-registry.js";

export type JoinCounts = {
  customerRecords: number;
  customersSkipped: number;
  events: number;
  joined: number;
  deadLettered: number;
  waiting: number;
  customers: number;
};

export const changelogTopicFor = (groupId: string) => `${groupId}-pending-changelog`;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runJoin(options: {
  common: CommonConfig;
  join: JoinConfig;
  reporter: Reporter;
  lifecycle: Lifecycle;
  /** The cluster; by default the one the common options name. */
  kafka?: KafkaPort;
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
  const registry = createMetricsRegistry();
  let readings: JoinReadings | undefined;
  const metrics = createJoinMetrics(registry, () => readings);
  const groupId = common.group ?? defaults.joinGroup;
  const changelogTopic = changelogTopicFor(groupId);
  const kafka = options.kafka ?? createKafkaPort(common, "stedi-join");
  const classify = (doing: string) => (error: unknown) => classifyKafkaError(kafka.brokers, doing, error);
  const fail = (doing: string) => (error: unknown) =>
    lifecycle.stop({ kind: "failure", error: classify(doing)(error) });

  let setup: Awaited<ReturnType<typeof setUpTopics>>;
  try {
    setup = await setUpTopics(kafka, common, changelogTopic);
  } catch (error) {
    await kafka.close();
    throw error;
  }

  const checkpointPath =
    options.join.stateDir === undefined
      ? undefined
      : checkpointPathFor(options.join.stateDir, groupId, common.redisTopic);
  const restore =
    checkpointPath === undefined
      ? undefined
      : await restoreCustomerCheckpoint({
          path: checkpointPath,
          topic: common.redisTopic,
          kafka,
          ranges: setup.customerEnds,
        });
  if (checkpointPath !== undefined && restore?.kind === "restored") {
    const offsets = [...restore.seed.resumeAt]
      .sort(([a], [b]) => a - b)
      .map(([partition, offset]) => `${partition}:${offset}`)
      .join(", ");
    reporter.info(
      `join: ${restore.customers} customers from checkpoint ${checkpointPath} (taken ${new Date(restore.takenAt).toISOString()}); reading ${common.redisTopic} on from offsets ${offsets}`,
      {
        checkpoint: checkpointPath,
        customers: restore.customers,
        resumeAt: offsets,
      },
    );
  } else if (checkpointPath !== undefined && restore?.kind === "rebuild") {
    reporter.info(
      `join: reading ${common.redisTopic} from the start: checkpoint ${checkpointPath} not used (${restore.reason})`,
      { checkpoint: checkpointPath, reason: restore.reason },
    );
  }

  const output = createJoinConsole({
    json: common.json,
    console: options.join.console,
    logDir: common.logDir,
    lifecycle,
  });

  const tasks: TaskRegistry = new TaskRegistry({
    start: (partition) => PartitionTask.start(context, partition),
    isStopping: () => lifecycle.isStopping,
    classify: classify("taking over a partition"),
    started: (task) =>
      reporter.info(
        `join: partition ${task.partition} taken over at offset ${task.nextOffset ?? common.from}, ${task.waiting} events waiting`,
        { partition: task.partition, offset: task.nextOffset ?? common.from, waiting: task.waiting },
      ),
    warn: (message) => reporter.warn(message),
    sleep,
  });
  const state = new JoinStateReader({
    kafka,
    customerTopic: common.redisTopic,
    changelogTopic,
    customerEnds: setup.customerEnds,
    reporter,
    mayRelease: () => tasks.anyWaiting(),
    arrived: (emails) => void tasks.eachTask((task) => task.release(emails)),
    ...(restore?.kind === "restored" ? { seed: restore.seed } : {}),
  });

  // The checkpoint is written once the customers are loaded (a partly read topic would make a
  // checkpoint no better than the one restored), then whenever the table changed.
  const checkpointVersion = () =>
    `${state.counts.customerRecords} ${JSON.stringify(state.checkpointPositions())}`;
  const restoredVersion = restore?.kind === "restored" ? checkpointVersion() : undefined;
  let checkpointWriter: CheckpointWriter | undefined;
  if (checkpointPath !== undefined) {
    void state.customersReady.then(() => {
      if (lifecycle.isStopping) return;
      checkpointWriter = createCheckpointWriter({
        path: checkpointPath,
        topic: common.redisTopic,
        intervalMs: options.join.checkpointIntervalMs,
        snapshot: () => state.snapshot(),
        version: checkpointVersion,
        ...(restoredVersion === undefined ? {} : { written: restoredVersion }),
        warn: (message) => reporter.warn(message),
        now: () => Date.now(),
      });
      void checkpointWriter.writeIfChanged();
    });
  }

  const warnedOnce = new Set<string>();
  const context: TaskContext = {
    kafka,
    groupId,
    eventsTopic: common.eventsTopic,
    outputTopic: common.outputTopic,
    outputPartitions: setup.outputPartitions,
    dlqTopic: common.dlqTopic,
    changelogTopic,
    waitMs: options.join.waitMs,
    customers: state.customers,
    now: () => Date.now(),
    restore: (partition) => state.restore(partition),
    badRecord: (where, reason) => reporter.badRecord(where, reason),
    warn(message, options) {
      if (options?.once) {
        if (warnedOnce.has(message)) return;
        warnedOnce.add(message);
      }
      reporter.warn(message);
    },
    committed({ outputs, deadLetters, events, latencyMs }) {
      counts.events += events;
      counts.joined += outputs.length;
      counts.deadLettered += deadLetters;
      metrics.events.inc(events);
      metrics.produced.inc(outputs.length);
      metrics.deadLetters.inc(deadLetters);
      if (events > 0) metrics.transactions.observe(latencyMs / 1000);
      output.written(outputs);
      lifecycle.markActivity();
    },
  };

  // --- periodic work -----------------------------------------------------------------------------
  const tick = async () => {
    const handled = await tasks.maintain(Date.now(), state.customersLoaded ? state.badCustomers : []);
    if (handled.length > 0)
      state.badCustomers = state.badCustomers.filter((record) => !handled.includes(record));
  };

  readings = {
    customers: () => state.customers.size,
    waiting: () => tasks.waitingCount(),
    partitions: () => tasks.partitions.size,
  };
  const showStatus = async () => {
    counts.waiting = await tasks.waitingCount();
    counts.customers = state.customers.size;
    reporter.status(
      `join: ${counts.customers} customers, ${counts.events} events → ${counts.joined} joined, ${counts.waiting} waiting, ${counts.deadLettered} dead-lettered`,
    );
  };
  let ticking = false;
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
    setInterval(() => output.flush(), defaults.triggerMs),
    setInterval(() => void showStatus(), 250),
  ];

  // --- consumers ---------------------------------------------------------------------------------
  // How far each input partition has been read by fetches of transaction markers only.
  const readThrough = new Map<number, number>();
  let joinedGroups = 0;
  const watchIdleOnce = () => {
    joinedGroups += 1;
    if (joinedGroups === 2) {
      lifecycle.watchIdle(common.exitOnIdleMs, () =>
        isCaughtUp({
          kafka,
          groupId,
          eventsTopic: common.eventsTopic,
          from: common.from,
          customersLoaded: state.customersLoaded,
          badCustomersLeft: state.badCustomers.length,
          tasks,
          readThrough,
        }),
      );
    }
  };

  // Every batch asks: once a promise has settled, the answer costs no timer and no heartbeat.
  const settled = new WeakSet<Promise<unknown>>();
  const waitWithHeartbeats = async (ready: Promise<unknown>, heartbeat: () => Promise<void>) => {
    if (settled.has(ready)) return;
    const markSettled = () => {
      settled.add(ready);
    };
    void ready.then(markSettled, markSettled);
    while (!settled.has(ready) && !lifecycle.isStopping) {
      await Promise.race([ready, sleep(1000)]);
      await heartbeat();
    }
  };

  const handleEvents = async (
    batch: ConsumedBatch,
    consumer: { heartbeat(): Promise<void>; isCurrent(): boolean },
  ): Promise<string | undefined> => {
    if (lifecycle.isStopping || !consumer.isCurrent()) return undefined;
    // Customers first: read the customer topic to its end before joining any event.
    await waitWithHeartbeats(state.customersReady, consumer.heartbeat);
    const pending = tasks.taskFor(batch.partition);
    await waitWithHeartbeats(pending, consumer.heartbeat);
    const task = await pending;
    if (!task || lifecycle.isStopping || !consumer.isCurrent()) return undefined;
    try {
      const last = await task.process(batch.records);
      if (last !== undefined) {
        metrics.lag.set(
          { partition: String(batch.partition) },
          Math.max(0, batch.highWatermark - Number(last) - 1),
        );
      }
      return last;
    } catch (error) {
      await tasks.recover(batch.partition, task, error);
      return undefined;
    }
  };

  const metricsServer = await serveMetrics({
    name: "join",
    config: options.join,
    registry,
    // Ready once every customer is loaded and both groups have assigned their partitions.
    status: () => ({
      ready: state.customersLoaded && joinedGroups >= 2 && !lifecycle.isStopping,
      details: {
        customersLoaded: state.customersLoaded,
        partitions: [...tasks.partitions],
        customers: state.customers.size,
        waiting: counts.waiting,
      },
    }),
    reporter,
  }).catch((error: unknown) => {
    lifecycle.stop({ kind: "failure", error });
    return undefined;
  });

  let stateConsumer: GroupConsumer | undefined;
  let eventConsumer: GroupConsumer | undefined;
  try {
    // Every instance needs every customer and can take over any partition: the customer topic and
    // the changelog are read whole, by a group of one that commits nothing.
    stateConsumer = await kafka.consume({
      groupId: `${groupId}.state.${randomUUID()}`,
      topics: [common.redisTopic, changelogTopic],
      fromBeginning: true,
      autoCommit: false,
      eachBatch: async (batch) => {
        const before = state.counts.customerRecords;
        state.apply(batch);
        metrics.customerRecords.inc(state.counts.customerRecords - before);
        lifecycle.markActivity();
        return batch.records.at(-1)?.offset;
      },
      startAt: (topic, partition) => state.startAt(topic, partition),
      onAssigned: watchIdleOnce,
      onRead: (topic, partition, next) => state.positions.advance(topic, partition, next),
      onFailure: (error) => lifecycle.stop({ kind: "failure", error }),
    });
    eventConsumer = await kafka.consume({
      groupId,
      topics: [common.eventsTopic],
      fromBeginning: common.from === "earliest",
      // Offsets are committed by each task's transactions.
      autoCommit: false,
      concurrency: 4,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      eachBatch: handleEvents,
      onAssigned: (assignment) => {
        if (joinedGroups < 2) watchIdleOnce();
        const dropped = tasks.assign(assignment.get(common.eventsTopic) ?? []);
        for (const partition of dropped) metrics.lag.remove({ partition: String(partition) });
      },
      onRead: (_topic, partition, next, records) => {
        if (records === 0 && (readThrough.get(partition) ?? -1) < next) readThrough.set(partition, next);
      },
      onFailure: (error) => lifecycle.stop({ kind: "failure", error }),
    });
  } catch (error) {
    fail("subscribing")(error);
  }

  const reason = await lifecycle.stopped;
  for (const timer of timers) clearInterval(timer);
  // Lets the running batch finish (new batches see the lifecycle stopping and do nothing), lets
  // each task finish its transaction, then leaves the groups and disconnects.
  await eventConsumer?.close();
  await tasks.stopAll();
  await stateConsumer?.close();
  await checkpointWriter?.close();
  await kafka.close();
  await metricsServer?.close();
  await output.close();
  counts.customerRecords = state.counts.customerRecords;
  counts.customersSkipped = state.counts.customersSkipped;
  await showStatus();
  reporter.close();
  if (reason.kind === "failure") throw reason.error;
  reporter.info(
    `join: ${counts.customers} customers (${counts.customerRecords} records, ${counts.customersSkipped} not customers), ${counts.events} events → ${counts.joined} joined, ${counts.deadLettered} dead-lettered`,
    {
      customers: counts.customers,
      customerRecords: counts.customerRecords,
      customersSkipped: counts.customersSkipped,
      events: counts.events,
      joined: counts.joined,
      deadLettered: counts.deadLettered,
    },
  );
  if (counts.waiting > 0) {
    reporter.warn(
      `join: ${counts.waiting} events still wait for their customer; they are kept in ${changelogTopic}`,
      { waiting: counts.waiting, changelogTopic },
    );
  }
  return counts;
}

/** Creates the join's topics where missing and reads what start-up needs, with independent look-ups at once. */
async function setUpTopics(kafka: KafkaPort, common: CommonConfig, changelogTopic: string) {
  await kafka.ensureTopics([common.redisTopic, common.eventsTopic, common.outputTopic, common.dlqTopic]);
  // Start-up time is mostly round trips to the broker.
  const [partitions, outputPartitions, customerEnds] = await Promise.all([
    kafka.partitionCount(common.eventsTopic),
    kafka.partitionCount(common.outputTopic),
    kafka.offsetRanges(common.redisTopic),
  ]);
  await kafka.ensureTopics([
    { topic: changelogTopic, numPartitions: partitions, configs: { "cleanup.policy": "compact" } },
  ]);
  return { outputPartitions, customerEnds };
}
