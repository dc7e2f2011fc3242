// The customer checkpoint on local disk (--state-dir): read and checked against the customer topic
// at start, written in the background while the join runs. Whatever goes wrong with it costs a read
// of the whole topic or a warning, never the join's correctness.

import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import type { KafkaPort, OffsetRange } from "../../adapters/kafka/index.js";
import {
  decideCheckpointUse,
  decodeCheckpoint,
  encodeCheckpoint,
  fingerprintOf,
  type RecordFingerprint,
  recordsToVerify,
} from "../../core/customers/checkpoint.js";
import { describeCause } from "../../errors.js";
import type { CustomerSeed, CustomerSnapshot } from "./state-reader.js";

/**
 * The checkpoint's file: one per join group and customer topic, as a Kafka Streams state directory
 * holds one store per application. Both names are escaped, so that neither can leave the folder.
 */
export const checkpointPathFor = (stateDir: string, groupId: string, topic: string): string =>
  join(stateDir, `${encodeURIComponent(groupId)}+${encodeURIComponent(topic)}.customers`);

export type CheckpointRestore =
  | { kind: "restored"; seed: CustomerSeed; customers: number; takenAt: number }
  | { kind: "rebuild"; reason: string };

/**
 * Reads the checkpoint at `path` and decides whether it still describes `topic`: decoded intact,
 * the same partitions, its positions within what the topic holds now, and the last record it took
 * of each partition still there, the same one (a topic deleted and recreated has other records at
 * those offsets). Throws nothing: any doubt is a rebuild, with the reason.
 */
export async function restoreCustomerCheckpoint(options: {
  path: string;
  topic: string;
  kafka: KafkaPort;
  /** The customer topic's offsets, as the join read them at start. */
  ranges: ReadonlyMap<number, OffsetRange>;
}): Promise<CheckpointRestore> {
  const { path, topic, kafka, ranges } = options;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      kind: "rebuild",
      reason: code === "ENOENT" ? "no checkpoint yet" : `unreadable: ${describeCause(error)}`,
    };
  }
  const decoded = decodeCheckpoint(bytes, topic, crc32);
  if (!decoded.ok) return { kind: "rebuild", reason: decoded.reason };
  const checkpoint = decoded.value;
  const toVerify = recordsToVerify(checkpoint.partitions, ranges);
  if (!toVerify.ok) return { kind: "rebuild", reason: toVerify.reason };
  const found = new Map<number, RecordFingerprint | undefined>();
  if (toVerify.value.size > 0) {
    try {
      const offsets = new Map([...toVerify.value].map(([partition, offset]) => [partition, Number(offset)]));
      for (const [partition, record] of await kafka.readRecordsAt(topic, offsets))
        found.set(partition, record === undefined ? undefined : fingerprintOf(record, crc32));
    } catch (error) {
      return { kind: "rebuild", reason: `its records could not be checked: ${describeCause(error)}` };
    }
  }
  const decision = decideCheckpointUse(checkpoint.partitions, ranges, found);
  if (!decision.ok) return { kind: "rebuild", reason: decision.reason };
  const lastRecords = new Map<number, RecordFingerprint>();
  for (const { partition, lastRecord } of checkpoint.partitions)
    if (lastRecord !== undefined) lastRecords.set(partition, lastRecord);
  return {
    kind: "restored",
    seed: { table: checkpoint.table, resumeAt: decision.value, lastRecords },
    customers: checkpoint.table.size,
    takenAt: checkpoint.takenAt,
  };
}

/** A write's temporary file beside the checkpoint: `<file>.<8 hex digits>.tmp`. */
const temporaryPathFor = (path: string) => `${path}.${randomUUID().slice(0, 8)}.tmp`;
const isTemporaryOf = (path: string, name: string) =>
  name.startsWith(basename(path)) && /^\.[0-9a-f]{8}\.tmp$/.test(name.slice(basename(path).length));

/**
 * Removes the temporary files of writes that never finished (a process killed while writing), once
 * they are older than `olderThanMs`: a write takes seconds, and another instance of the same group
 * on this machine may be writing one of its own right now. Best effort; returns the names removed.
 */
export async function removeAbandonedWrites(
  path: string,
  olderThanMs: number,
  now: number,
): Promise<string[]> {
  const folder = dirname(path);
  const names = await readdir(folder).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names.filter((candidate) => isTemporaryOf(path, candidate))) {
    const file = join(folder, name);
    const modified = await stat(file).then(
      (info) => info.mtimeMs,
      () => undefined,
    );
    if (modified === undefined || now - modified < olderThanMs) continue;
    if (
      await rm(file, { force: true }).then(
        () => true,
        () => false,
      )
    )
      removed.push(name);
  }
  return removed;
}

/**
 * Writes a checkpoint so that the file is either the old one or the new one, whole: a temporary
 * file beside it, flushed to disk, then renamed over it (and the folder flushed, so the rename
 * survives a power cut where the file system allows).
 */
export async function writeCheckpointFile(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temporary = temporaryPathFor(path);
  try {
    const file = await open(temporary, "w");
    try {
      for (const part of parts) await file.write(part);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  const directory = await open(folder, "r").catch(() => undefined);
  await directory
    ?.sync()
    .catch(() => undefined)
    .finally(() => directory.close());
}

/** A temporary file this old belongs to no write still under way. */
const abandonedAfterMs = 10 * 60_000;

export type CheckpointWriter = {
  /** Writes now if anything changed since the last write, after any write under way. */
  writeIfChanged(): Promise<void>;
  /** Stops the periodic writes and writes a last time if anything changed. */
  close(): Promise<void>;
};

/**
 * Writes the table's checkpoint now and then every `intervalMs` while it changes, one write at a
 * time. Taking a snapshot is synchronous and short (three array copies and a checksum: tens of ms
 * for a million customers); the file is written asynchronously. A failed write is a warning.
 */
export function createCheckpointWriter(options: {
  path: string;
  topic: string;
  intervalMs: number;
  snapshot: () => CustomerSnapshot;
  /** Changes whenever the table or its positions may have changed (customer records applied, dead letters). */
  version: () => string;
  /** The version the checkpoint on disk already has (after a restore), if any. */
  written?: string;
  warn: (message: string) => void;
  now: () => number;
}): CheckpointWriter {
  let written = options.written;
  let running: Promise<void> = Promise.resolve();
  let failing = false;
  const writeIfChanged = () => {
    running = running.then(async () => {
      const version = options.version();
      if (version === written) return;
      const { partitions, table } = options.snapshot();
      const parts = encodeCheckpoint(
        { topic: options.topic, takenAt: options.now(), partitions, table },
        crc32,
      );
      try {
        await writeCheckpointFile(options.path, parts);
        written = version;
        if (failing) options.warn(`join: customer checkpoint ${options.path} written again`);
        failing = false;
      } catch (error) {
        // Once per run of failures: the join goes on, a restart only reads more of the topic.
        if (!failing)
          options.warn(`join: cannot write the customer checkpoint ${options.path}: ${describeCause(error)}`);
        failing = true;
      }
    });
    return running;
  };
  // Leftovers of an earlier run killed mid-write go before this run writes its own.
  running = removeAbandonedWrites(options.path, abandonedAfterMs, options.now()).then(
    (removed) => {
      if (removed.length > 0)
        options.warn(`join: removed ${removed.length} unfinished checkpoint write(s) beside ${options.path}`);
    },
    () => undefined,
  );
  const timer = setInterval(() => void writeIfChanged(), options.intervalMs);
  return {
    writeIfChanged,
    async close() {
      clearInterval(timer);
      await writeIfChanged();
    },
  };
}
