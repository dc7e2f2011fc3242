// events-console and redis-console: a topic, decoded, printed as Spark-style micro-batches.

import { randomUUID } from "node:crypto";
import type { ConsumedRecord, GroupConsumer } from "../adapters/kafka/index.js";
import { createKafkaPort } from "../adapters/kafka/index.js";
import { openLogFile } from "../adapters/log-file.js";
import type { Reporter } from "../adapters/terminal.js";
import type { CommonConfig, ConsoleConfig } from "../config/config.js";
import type { ConsoleView } from "../render/console-views.js";
import { renderBatch } from "../render/spark-console.js";
import type { Lifecycle } from "./lifecycle.js";
import { createStdout } from "./output.js";

export type ConsoleCounts = { records: number; rows: number; skipped: number; bad: number; batches: number };

export async function runConsole(options: {
  common: CommonConfig;
  console: ConsoleConfig;
  view: ConsoleView;
  reporter: Reporter;
  lifecycle: Lifecycle;
}): Promise<ConsoleCounts> {
  const { common, view, reporter, lifecycle } = options;
  const counts: ConsoleCounts = { records: 0, rows: 0, skipped: 0, bad: 0, batches: 0 };
  const stdout = createStdout(lifecycle);
  const log = openLogFile(common.logDir, view.logName);
  const port = createKafkaPort(common, `stedi-${view.name}`);
  // Without --group every run reads afresh, as the seed's Spark query did; with one, it resumes.
  const groupId = common.group ?? `stedi-${view.name}-${randomUUID()}`;
  // A topic nobody has written yet is created, so the console waits for data instead of failing.
  try {
    await port.ensureTopics([view.topic]);
  } catch (error) {
    await port.close();
    throw error;
  }

  let pendingRecords = 0;
  let pendingRows: string[][] = [];
  const flush = () => {
    if (pendingRecords === 0) return;
    const text = renderBatch(counts.batches, view.columns, pendingRows, {
      truncate: options.console.truncate,
      maxRows: options.console.rows,
    });
    if (!common.json) stdout.write(text);
    log.write(text);
    counts.batches += 1;
    pendingRecords = 0;
    pendingRows = [];
  };

  const handle = (message: ConsumedRecord, partition: number) => {
    counts.records += 1;
    pendingRecords += 1;
    const shown = view.view(message.value?.toString("utf8") ?? "");
    if (shown.kind === "bad") {
      counts.bad += 1;
      reporter.badRecord({ topic: view.topic, partition, offset: message.offset }, shown.reason);
    } else if (shown.kind === "skipped") {
      counts.skipped += 1;
    } else {
      for (const problem of shown.problems ?? []) {
        counts.bad += 1;
        reporter.badRecord({ topic: view.topic, partition, offset: message.offset }, problem);
      }
      counts.rows += shown.rows.length;
      pendingRows.push(...shown.rows);
      if (common.json) for (const row of shown.json) stdout.write(`${JSON.stringify(row)}\n`);
    }
  };

  const trigger = setInterval(flush, options.console.triggerMs);
  let consumer: GroupConsumer | undefined;
  try {
    consumer = await port.consume({
      groupId,
      topics: [view.topic],
      fromBeginning: common.from === "earliest",
      autoCommit: common.group !== undefined,
      eachBatch: async (batch) => {
        for (const message of batch.records) handle(message, batch.partition);
        lifecycle.markActivity();
        reporter.status(
          `${view.name}: ${counts.records} records, ${counts.batches} batches from ${view.topic}`,
        );
        return batch.records.at(-1)?.offset;
      },
      onAssigned: () => lifecycle.watchIdle(common.exitOnIdleMs),
      onFailure: (error) => lifecycle.stop({ kind: "failure", error }),
    });
  } catch (error) {
    lifecycle.stop({ kind: "failure", error });
  }

  const reason = await lifecycle.stopped;
  clearInterval(trigger);
  // Closing lets the running batch finish, so the last flush holds everything read.
  await consumer?.close();
  flush();
  await port.close();
  await log.close();
  reporter.close();
  if (reason.kind === "failure") throw reason.error;
  reporter.info(
    `${view.name}: ${counts.records} records in ${counts.batches} batches, ${counts.rows} rows, ${counts.skipped} skipped, ${counts.bad} bad; log: ${log.path}`,
    {
      records: counts.records,
      batches: counts.batches,
      rows: counts.rows,
      skipped: counts.skipped,
      bad: counts.bad,
      logFile: common.logDir === null ? undefined : log.path,
    },
  );
  return counts;
}
