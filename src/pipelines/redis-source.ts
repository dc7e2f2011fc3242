// stedi redis-source: Redis (as a replica) → the connector's records on Kafka, exactly once.
//
// Exactly once, across restarts of either side: records and the replication position they end at
// ({replid, offset}) are written in ONE Kafka transaction, to the records topic and to a compacted
// offsets topic. A crash loses only an uncommitted transaction, which Kafka aborts; the next run
// reads the last committed position and asks Redis to continue right after it (PSYNC). When Redis
// cannot continue (restarted without persistence, backlog overrun) it sends a full RDB: we say so
// and publish its keys as snapshot records — in one transaction, so the snapshot is all or nothing.

import type { TransactionalWriter } from "../adapters/kafka/index.js";
import { createKafkaPort } from "../adapters/kafka/index.js";
import { createMetricsRegistry, type MetricsServer } from "../adapters/metrics-server.js";
import {
  openReplication,
  type ReplicationLink,
  type ReplicationPosition,
  readMasterOffset,
} from "../adapters/replication.js";
import type { Reporter } from "../adapters/terminal.js";
import type { CommonConfig, MetricsConfig } from "../config/config.js";
import type { RedisSourceConfig } from "../config/redis-source.js";
import { describeEndpoint } from "../config/redis-url.js";
import type { ConnectorRecord } from "../core/connector/command-record.js";
import {
  describePosition,
  type ReplicationEffect,
  startReplication,
  stepReplication,
} from "../core/connector/replication-plan.js";
import { encodeSnapshotRecords, maxSnapshotRecordBytes } from "../core/connector/snapshot-record.js";
import { positionKey } from "../core/connector/source-position.js";
import { decodeRdb } from "../core/redis/rdb.js";
import type { ReplicationEvent } from "../core/redis/replication-stream.js";
import { describeCause } from "../errors.js";
import type { Lifecycle } from "./lifecycle.js";
import { createStdout } from "./output.js";
import { createRedisSourceMetrics } from "./redis-source-metrics.js";
import { ensureSourceTopics, readStoredPosition } from "./redis-source-offsets.js";
import { createSourcePublisher, type SourcePublisher } from "./redis-source-publisher.js";
import { serveMetrics } from "./serve-metrics.js";
import { writerStartNotices } from "./writer-notices.js";

export type RedisSourceCounts = {
  published: number;
  snapshotRecords: number;
  skipped: number;
  skippedByCommand: Map<string, number>;
  reconnects: number;
};

/** A flush (one transaction holding everything pending) at least this often; sooner when many records wait. */
const flushEveryMs = 100;
const reconnectDelaysMs = [250, 500, 1000, 2000, 5000];

export async function runRedisSource(options: {
  common: CommonConfig;
  source: RedisSourceConfig;
  reporter: Reporter;
  lifecycle: Lifecycle;
  /** --metrics-port and --metrics-host; no server without them. */
  metrics?: MetricsConfig;
}): Promise<RedisSourceCounts> {
  const { common, source, reporter, lifecycle } = options;
  const redis = describeEndpoint({ ...source.endpoint, db: 0 });
  const topic = common.redisTopic;
  const key = positionKey({ host: source.endpoint.host, port: source.endpoint.port, topic });
  const counts: RedisSourceCounts = {
    published: 0,
    snapshotRecords: 0,
    skipped: 0,
    skippedByCommand: new Map(),
    reconnects: 0,
  };

  // Declared here for the metrics, which read them at each scrape; set as the run goes.
  let position: ReplicationPosition | undefined;
  let publisher: SourcePublisher | undefined;
  let link: ReplicationLink | undefined;
  const registry = createMetricsRegistry();
  const metrics = createRedisSourceMetrics(registry, {
    position: () => position?.offset,
    committed: () => publisher?.committed?.offset,
    pending: () => publisher?.pendingCount ?? 0,
    connected: () => link !== undefined,
  });
  // Served from the start, so /ready says "not yet" while Kafka and Redis are being reached.
  const metricsServer: MetricsServer | undefined = await serveMetrics({
    name: "redis-source",
    config: options.metrics,
    registry,
    // Ready once attached to Redis as a replica; not while reconnecting.
    status: () => ({
      ready: link !== undefined && !lifecycle.isStopping,
      details: { attached: link !== undefined, position: position ? describePosition(position) : null },
    }),
    reporter,
  });

  const kafka = createKafkaPort(common, "stedi-redis-source");
  let writer: TransactionalWriter | undefined;
  let stored: ReplicationPosition | undefined;
  try {
    await ensureSourceTopics(kafka, { records: topic, offsets: source.offsetsTopic });
    // Creating the writer initializes the transactional id, which makes Kafka abort any transaction
    // a crashed earlier run left open (and fences that run if it is still alive). It must come before
    // reading the position: only then is the offsets topic's end stable.
    writer = await kafka.createTransactionalWriter(`stedi-redis-source|${key}`, {
      writesTo: [topic, source.offsetsTopic],
    });
    const notices = writerStartNotices("redis-source", writer);
    for (const notice of [...notices.aborted, ...notices.unchecked]) reporter.warn(notice);
    stored = await readStoredPosition(kafka, {
      topic: source.offsetsTopic,
      key,
      onBad: (reason) => reporter.warn(`redis-source: ignoring the stored position under ${key}: ${reason}`),
    });
  } catch (error) {
    await writer?.close();
    await metricsServer?.close();
    throw error;
  } finally {
    await kafka.close();
  }
  const kafkaWriter = writer;

  const start = startReplication({ redis, stored, snapshot: source.snapshot });
  let replication = start.state;
  // replication.position, for the Kafka side: the position after the last event handled.
  position = replication.position;
  const stdout = createStdout(lifecycle);
  const warned = new Set<string>();

  const fail = (error: unknown) => lifecycle.stop({ kind: "failure", error });

  // ---- Kafka side: one transaction per flush, records and position together.
  const kafkaSide = createSourcePublisher({
    writer: kafkaWriter,
    topic,
    offsetsTopic: source.offsetsTopic,
    key,
    stored,
    position: () => position,
    isStopping: () => lifecycle.isStopping,
    markActivity: () => lifecycle.markActivity(),
    pauseReading: () => link?.pause(),
    resumeReading: () => link?.resume(),
    published(records) {
      counts.published += records.length;
      metrics.published.inc(records.length);
      if (common.json)
        for (const record of records)
          stdout.write(`{"key":${JSON.stringify(record.key)},"value":${record.value}}\n`);
    },
    fail,
  });
  publisher = kafkaSide;
  const enqueue = (record: ConnectorRecord) => kafkaSide.enqueue(record);
  const requestFlush = () => kafkaSide.requestFlush();

  // ---- Redis side: every event, in stream order, synchronously; replication-plan decides.
  const apply = (effect: ReplicationEffect) => {
    switch (effect.kind) {
      case "info":
        return reporter.info(effect.message);
      case "warn":
        return reporter.warn(effect.message);
      case "snapshot":
        return publishSnapshot(effect.payload);
      case "record":
        return enqueue(effect.record);
      case "skipped":
        return skip(effect.name, effect.reason);
    }
  };
  const onEvent = (event: ReplicationEvent) => {
    const step = stepReplication(replication, event);
    replication = step.state;
    position = replication.position;
    // A sync reply is activity even when it publishes nothing; a command is once it is enqueued.
    if (event.kind === "fullresync" || event.kind === "continue") lifecycle.markActivity();
    for (const effect of step.effects) apply(effect);
  };

  const publishSnapshot = (payload: Buffer) => {
    const contents = decodeRdb(payload);
    let published = 0;
    let keys = 0;
    let oversized = 0;
    const unsupported = new Map<string, number>();
    for (const entry of contents.entries) {
      if (entry.value.type === "unsupported") {
        unsupported.set(entry.value.what, (unsupported.get(entry.value.what) ?? 0) + 1);
        continue;
      }
      const { records, leftOut } = encodeSnapshotRecords(entry);
      for (const record of records) enqueue(record);
      published += records.length;
      if (records.length > 0) keys += 1;
      oversized += leftOut;
    }
    counts.snapshotRecords += published;
    metrics.snapshots.inc();
    metrics.snapshotRecords.inc(published);
    const left = [
      ...[...unsupported].map(([what, count]) => `${count} ${what} keys`),
      ...(oversized > 0
        ? [`${oversized} values over ${maxSnapshotRecordBytes.toLocaleString("en-US")} bytes`]
        : []),
    ].join(", ");
    const split = published > keys ? ` in ${published} records (large keys split)` : "";
    reporter.info(`redis-source: snapshot of ${keys} keys${split}${left ? ` (left out: ${left})` : ""}`);
    if (oversized > 0) {
      reporter.warn(
        `redis-source: ${oversized} values of the snapshot are over ${maxSnapshotRecordBytes.toLocaleString("en-US")} bytes on their own and were not published (a Kafka record batch holds 1 MiB by default)`,
      );
    }
    if (contents.error) {
      reporter.warn(
        `redis-source: the snapshot is incomplete: ${contents.error}; keys after that point are not published`,
      );
    }
    // All of the snapshot goes into one transaction with its position.
    requestFlush();
  };

  const skip = (name: string, reason: string) => {
    counts.skipped += 1;
    counts.skippedByCommand.set(name, (counts.skippedByCommand.get(name) ?? 0) + 1);
    metrics.skipped.inc({ command: name });
    const message = `${name}: ${reason}`;
    if (warned.has(message) || warned.size > 50) return;
    warned.add(message);
    reporter.warn(`redis-source: skipping ${message} (further ones are counted)`);
  };

  for (const effect of start.effects) apply(effect);

  // ---- The replication link, re-opened after losses until the command stops.
  const connect = () =>
    openReplication({
      endpoint: source.endpoint,
      from: position,
      connectTimeoutMs: common.connectTimeoutMs,
      onEvent,
    });
  // A Ctrl-C while the first sync is still being prepared ends the command at once.
  const stoppedFirst = lifecycle.stopped.then(() => undefined);
  const opening = connect();
  try {
    link = await Promise.race([opening, stoppedFirst]);
  } catch (error) {
    await kafkaWriter.close();
    await metricsServer?.close();
    throw error;
  }
  if (!link) {
    void opening.then((late) => late.close()).catch(() => undefined);
    await kafkaWriter.close();
    await metricsServer?.close();
    reporter.close();
    return counts;
  }
  lifecycle.watchIdle(common.exitOnIdleMs, () => kafkaSide.idle());
  const connected = keepConnected({
    first: link,
    connect,
    lifecycle,
    reporter,
    redis,
    lost: () => {
      link = undefined;
      kafkaSide.linkReplaced();
    },
    reconnected: (current) => {
      link = current;
      counts.reconnects += 1;
      metrics.reconnects.inc();
    },
  }).catch(fail);

  const timers = [
    setInterval(() => {
      if (kafkaSide.behind()) requestFlush();
    }, flushEveryMs),
    setInterval(() => {
      reporter.status(
        `redis-source: ${counts.published} published, ${kafkaSide.pendingCount} pending, ${counts.skipped} skipped${position ? `, at ${describePosition(position)}` : ""}`,
      );
    }, 250),
  ];

  const reason = await lifecycle.stopped;
  for (const timer of timers) clearInterval(timer);
  // On Ctrl-C or SIGTERM, first read what Redis has already acknowledged to its clients (bounded).
  if (reason.kind === "signal" && link && position) await drain(link, source, () => position?.offset ?? 0);
  link?.close();
  // A reconnection attempt in progress may take a while to fail; it closes itself when it ends.
  await Promise.race([connected, sleep(1000)]);
  // Ctrl-C, SIGTERM, idle: publish what was read, with its position. After a failure, the next run
  // continues from the last committed position instead.
  let lastFlush: unknown;
  if (reason.kind !== "failure") {
    await kafkaSide.flush().catch((error: unknown) => {
      lastFlush = error;
    });
  }
  await kafkaWriter.close();
  await metricsServer?.close();
  reporter.close();
  if (reason.kind === "failure") throw reason.error;
  if (lastFlush !== undefined) throw lastFlush;
  const committed = kafkaSide.committed;
  const skipped = [...counts.skippedByCommand].map(([name, count]) => `${name} ${count}`).join(", ");
  reporter.info(
    `redis-source: published ${counts.published} records (${counts.snapshotRecords} snapshot), skipped ${counts.skipped}${skipped ? ` (${skipped})` : ""}${committed ? `; position ${describePosition(committed)}` : ""}`,
    {
      published: counts.published,
      snapshotRecords: counts.snapshotRecords,
      skipped: counts.skipped,
      position: committed ? describePosition(committed) : undefined,
    },
  );
  return counts;
}

/**
 * Watches the replication link and opens it again whenever it is lost, with growing delays, until
 * the command stops. Resolves when it stops.
 */
async function keepConnected(options: {
  first: ReplicationLink;
  connect: () => Promise<ReplicationLink>;
  lifecycle: Lifecycle;
  reporter: Reporter;
  redis: string;
  lost: () => void;
  reconnected: (link: ReplicationLink) => void;
}): Promise<void> {
  const { lifecycle, reporter, redis } = options;
  let current: ReplicationLink | undefined = options.first;
  let attempt = 0;
  let lastReport = 0;
  while (!lifecycle.isStopping) {
    if (current) {
      const cause = await Promise.race([current.closed, lifecycle.stopped.then(() => undefined)]);
      if (lifecycle.isStopping) return;
      reporter.warn(`redis-source: lost ${redis}: ${describeCause(cause)}; reconnecting`);
      current = undefined;
      options.lost();
      attempt = 0;
    }
    const delay = reconnectDelaysMs[Math.min(attempt, reconnectDelaysMs.length - 1)] as number;
    await Promise.race([sleep(delay), lifecycle.stopped]);
    if (lifecycle.isStopping) return;
    try {
      current = await options.connect();
      if (lifecycle.isStopping) {
        current.close();
        return;
      }
      options.reconnected(current);
      reporter.info(`redis-source: reconnected to ${redis}`);
    } catch (error) {
      attempt += 1;
      if (Date.now() - lastReport >= 30_000) {
        lastReport = Date.now();
        reporter.warn(`redis-source: ${redis} still unreachable (${describeCause(error)}); retrying`);
      }
    }
  }
}

/** Waits (at most 2 s) until the stream has been read up to the master's offset at this moment. */
async function drain(link: ReplicationLink, source: RedisSourceConfig, offset: () => number): Promise<void> {
  const deadline = Date.now() + 2000;
  link.resume();
  const target = await readMasterOffset(source.endpoint, 1000);
  if (target === undefined) return;
  while (offset() < target && Date.now() < deadline) await sleep(10);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
