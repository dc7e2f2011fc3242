// stedi join: customers from redis-server (a table) joined with risk events (a stream) into stedi-graph.

import { randomUUID } from "node:crypto";
import type { Batch, Consumer, KafkaMessage, Message, Producer } from "kafkajs";
import {
  createAdmin,
  createConsumer,
  createKafka,
  createProducer,
  ensureTopics,
  fetchEndOffsets,
  kafkaFailure,
  sendRecords,
} from "../adapters/kafka.js";
import { type LogFile, openLogFile } from "../adapters/log-file.js";
import type { Reporter } from "../adapters/terminal.js";
import { type CommonConfig, defaults, type JoinConfig } from "../config/config.js";
import { CommitFrontier } from "../core/commit-frontier.js";
import { type RecordBytes, toDeadLetter } from "../core/dead-letter.js";
import { encodeGraphRecord } from "../core/graph-record.js";
import { type JoinOutput, JoinState, type SourcePosition } from "../core/join.js";
import { decodeRedisRecord } from "../core/redis-record.js";
import { decodeRiskEvent } from "../core/risk-event.js";
import { createSerial } from "../core/serial.js";
import { renderBatch } from "../render/spark-console.js";
import type { Lifecycle } from "./lifecycle.js";
import { createStdout } from "./output.js";

export type JoinCounts = {
  customerRecords: number;
  customersSkipped: number;
  events: number;
  joined: number;
  deadLettered: number;
  waiting: number;
  customers: number;
};

/** Where a risk event came from, kept while it waits so it can be dead-lettered with its bytes. */
type EventOrigin = SourcePosition & { record: RecordBytes };

const joinedColumns = ["customer", "score", "email", "birthYear"];

/** Resolves once every partition of the customer topic has been read up to the end seen at start. */
function trackCatchUp(consumer: Consumer, ends: Map<number, { low: number; high: number }>) {
  const behind = new Map(
    [...ends].filter(([, end]) => end.high > end.low).map(([partition, end]) => [partition, end.high]),
  );
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let isReady = behind.size === 0;
  if (isReady) markReady();
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const high = behind.get(payload.partition);
    if (high === undefined || Number(payload.lastOffset) < high - 1) return;
    behind.delete(payload.partition);
    if (behind.size === 0 && !isReady) {
      isReady = true;
      markReady();
    }
  });
  return { ready, isReady: () => isReady };
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
  const connection = createKafka(common, "stedi-join");
  const admin = await createAdmin(connection);
  let customerEnds: Map<number, { low: number; high: number }>;
  try {
    await ensureTopics(connection, admin, [
      common.redisTopic,
      common.eventsTopic,
      common.outputTopic,
      common.dlqTopic,
    ]);
    customerEnds = await fetchEndOffsets(connection, admin, common.redisTopic);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  const groupId = common.group ?? defaults.joinGroup;
  const producer = await createProducer(connection, { idempotent: true, maxInFlightRequests: 1 });
  // Every instance needs every customer: the customer side is read whole by a throwaway group.
  const customerConsumer = await createConsumer(connection, {
    groupId: `${groupId}.customers.${randomUUID()}`,
  });
  const eventConsumer = await createConsumer(connection, { groupId });

  const stdout = createStdout(lifecycle);
  const log: LogFile | undefined = options.join.console
    ? openLogFile(common.logDir, "kafkajoin.log")
    : undefined;
  const state = new JoinState<EventOrigin>(options.join.waitMs);
  const frontier = new CommitFrontier();
  const serial = createSerial();
  const catchUp = trackCatchUp(customerConsumer, customerEnds);
  let consoleRows: string[][] = [];
  let consoleBatch = 0;

  const position = (topic: string, batch: Batch, message: KafkaMessage): SourcePosition => ({
    topic,
    partition: batch.partition,
    offset: message.offset,
  });
  const bytesOf = (message: KafkaMessage): RecordBytes => ({
    key: message.key,
    value: message.value,
    headers: message.headers as RecordBytes["headers"],
  });

  /** Writes outputs and dead letters in one request; afterwards their events are done. */
  const publish = async (outputs: JoinOutput<EventOrigin>[], deadLetters: RecordBytes[]) => {
    if (outputs.length === 0 && deadLetters.length === 0) return;
    await sendRecords(producer, [
      {
        topic: common.outputTopic,
        messages: outputs.map(({ record }) => ({ key: record.email, value: encodeGraphRecord(record) })),
      },
      { topic: common.dlqTopic, messages: deadLetters as Message[] },
    ]);
    counts.joined += outputs.length;
    counts.deadLettered += deadLetters.length;
    for (const { record } of outputs) {
      if (common.json) stdout.write(`${encodeGraphRecord(record)}\n`);
      if (log) consoleRows.push([record.customer, record.score, record.email, record.birthYear]);
    }
  };

  const commitEvents = async () => {
    const offsets = frontier.committable();
    if (offsets.length > 0) await eventConsumer.commitOffsets(offsets);
  };

  const closeAll = (origins: SourcePosition[]) => {
    for (const origin of origins) frontier.close(origin.topic, origin.partition, origin.offset);
  };

  const handleCustomers = async (batch: Batch) => {
    const outputs: JoinOutput<EventOrigin>[] = [];
    const deadLetters: RecordBytes[] = [];
    for (const message of batch.messages) {
      counts.customerRecords += 1;
      const decoded = decodeRedisRecord(message.value?.toString("utf8") ?? "");
      const where = position(common.redisTopic, batch, message);
      if (!decoded.ok) {
        reporter.badRecord(where, decoded.reason);
        deadLetters.push(toDeadLetter(bytesOf(message), where, decoded.reason));
        continue;
      }
      if (decoded.value.kind === "skipped") {
        counts.customersSkipped += 1;
        continue;
      }
      for (const customer of decoded.value.customers)
        outputs.push(...state.upsertCustomer(customer.email, customer.birthYear));
      if (decoded.value.rejected.length > 0) {
        const reason = decoded.value.rejected.join("; ");
        reporter.badRecord(where, reason);
        deadLetters.push(toDeadLetter(bytesOf(message), where, reason));
      }
    }
    await publish(outputs, deadLetters);
    if (outputs.length > 0) {
      closeAll(outputs.map(({ origin }) => origin));
      await commitEvents();
    }
  };

  const handleEvents = async (batch: Batch) => {
    const outputs: JoinOutput<EventOrigin>[] = [];
    const deadLetters: RecordBytes[] = [];
    const now = Date.now();
    for (const message of batch.messages) {
      counts.events += 1;
      const where = position(common.eventsTopic, batch, message);
      const decoded = decodeRiskEvent(message.value?.toString("utf8") ?? "");
      if (!decoded.ok) {
        reporter.badRecord(where, decoded.reason);
        deadLetters.push(toDeadLetter(bytesOf(message), where, decoded.reason));
        frontier.read(where.topic, where.partition, where.offset);
        continue;
      }
      const origin: EventOrigin = { ...where, record: bytesOf(message) };
      const output = state.addRiskEvent(decoded.value.customer, decoded.value.score, origin, now);
      frontier.read(where.topic, where.partition, where.offset, output === undefined);
      if (output) outputs.push(output);
    }
    await publish(outputs, deadLetters);
    await commitEvents();
  };

  const expireWaiting = async () => {
    const expired = state.expire(Date.now());
    if (expired.length === 0) return;
    const deadLetters = expired.map(({ event, reason }) => {
      reporter.badRecord(event.origin, reason);
      return toDeadLetter(event.origin.record, event.origin, reason);
    });
    await publish([], deadLetters);
    closeAll(expired.map(({ event }) => event.origin));
    await commitEvents();
  };

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

  const fail = (doing: string) => (error: unknown) =>
    lifecycle.stop({ kind: "failure", error: kafkaFailure(connection, doing, error) });

  let joinedGroups = 0;
  for (const consumer of [customerConsumer, eventConsumer]) {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joinedGroups += 1;
      if (joinedGroups === 2) lifecycle.watchIdle(common.exitOnIdleMs, catchUp.isReady);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail("consuming")(payload.error);
    });
  }

  const showStatus = () => {
    counts.waiting = state.waitingCount;
    counts.customers = state.customerCount;
    reporter.status(
      `join: ${counts.customers} customers, ${counts.events} events → ${counts.joined} joined, ${counts.waiting} waiting, ${counts.deadLettered} dead-lettered`,
    );
  };
  const timers = [
    setInterval(
      () => void serial(expireWaiting).catch(fail("dead-lettering expired events")),
      Math.min(1000, options.join.waitMs),
    ),
    setInterval(flushConsole, defaults.triggerMs),
    setInterval(showStatus, 250),
  ];

  try {
    await customerConsumer.subscribe({ topic: common.redisTopic, fromBeginning: true });
    await eventConsumer.subscribe({ topic: common.eventsTopic, fromBeginning: common.from === "earliest" });
    await customerConsumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (lifecycle.isStopping) return;
        await serial(() => handleCustomers(batch));
        lifecycle.markActivity();
      },
    });
    await eventConsumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        // Customers first: read the customer topic to its end before joining any event.
        while (!catchUp.isReady() && !lifecycle.isStopping) {
          await Promise.race([catchUp.ready, new Promise((resolve) => setTimeout(resolve, 1000))]);
          await heartbeat();
        }
        if (lifecycle.isStopping) return;
        await serial(() => handleEvents(batch));
        lifecycle.markActivity();
      },
    });
  } catch (error) {
    fail("subscribing")(error);
  }

  const reason = await lifecycle.stopped;
  for (const timer of timers) clearInterval(timer);
  await shutDown({
    consumers: [customerConsumer, eventConsumer],
    producer,
    drain: () => serial(commitEvents),
  });
  flushConsole();
  await log?.close();
  showStatus();
  reporter.close();
  if (reason.kind === "failure") throw reason.error;
  reporter.info(
    `join: ${counts.customers} customers (${counts.customerRecords} records, ${counts.customersSkipped} not customers), ${counts.events} events → ${counts.joined} joined, ${counts.deadLettered} dead-lettered`,
  );
  if (counts.waiting > 0) {
    reporter.warn(
      `join: ${counts.waiting} events still wait for their customer; the next run reads them again`,
    );
  }
  return counts;
}

/**
 * Lets the running batch finish (new batches see the lifecycle stopping and do nothing), commits,
 * then leaves the groups and disconnects.
 */
async function shutDown(options: { consumers: Consumer[]; producer: Producer; drain: () => Promise<void> }) {
  await options.drain().catch(() => undefined);
  await Promise.all(options.consumers.map((consumer) => consumer.stop().catch(() => undefined)));
  await Promise.all([
    ...options.consumers.map((consumer) => consumer.disconnect().catch(() => undefined)),
    options.producer.disconnect().catch(() => undefined),
  ]);
}
