// Six of kafkajs's internal modules are replaced, one wrapped, and two of its classes patched,
// before kafkajs is first loaded; this module must be imported before "kafkajs" (adapters/kafka.ts
// does so on its first line, the test helpers too).
//
// - Grouping a produce request's messages by partition: kafkajs copies the partition's array for every
//   message, which is quadratic in the request's size and dominated the join's profile.
// - Hiding aborted transactions from read_committed consumers: kafkajs activates at most one aborted
//   transaction per message and expects the broker's list in offset order, so when transactions of
//   several producers interleave on a partition (as on every output partition of the join) records
//   of aborted transactions reach the application.
// - Encoding Produce requests: kafkajs builds an encoder per record and copies each record several
//   times; kafka-produce-encoding.ts writes the same bytes in one pass.
// - Sending a batch to the partitions' leaders: kafkajs retries while other leaders' requests are
//   still in flight and so writes records twice (kafkajs-send.ts says how).
// - Decoding fetched record batches, and the Batch built from each partition's fetch: kafkajs builds a
//   decoder per record, parses the batch's first offset and timestamp from text for every record, and
//   its Batch parses every offset once more; with their garbage, about four tenths of the CPU of a
//   consume→produce copy (kafkajs-fetch.ts).
// - Finding coordinators: kafkajs sends FindCoordinator before every coordinator request, four
//   times per transaction; coordinator-cache.ts keeps the answer until a request to it fails.
// - Creating a transactional producer's state: wrapped, not replaced, so that the writer can learn
//   its producer id and cluster (kafkajs exposes neither) to close transactions left open under it.

import { createRequire } from "node:module";
import { type CoordinatorBroker, type CoordinatorKey, createCoordinatorCache } from "./coordinator-cache.js";
import { decodeRecordBatch, FetchedBatch } from "./kafkajs-fetch.js";
import { createSendMessages } from "./kafkajs-send.js";
import { encodeProduceRequest, type ProduceRequestArgs } from "./produce-encoding.js";

const require = createRequire(import.meta.url);

type Message = { partition?: number | null };
type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;

export function groupMessagesPerPartition(args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: Partitioner;
}): Record<number, Message[]> {
  const { topic, partitionMetadata, messages, partitioner } = args;
  const grouped: Record<number, Message[]> = {};
  if (partitionMetadata.length === 0) return grouped;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const existing = grouped[partition];
    if (existing) existing.push(message);
    else grouped[partition] = [message];
  }
  return grouped;
}

/** A fetched record as kafkajs decodes it: offsets and producer ids are decimal strings. */
export type FetchedRecord = {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
};

export type AbortedTransaction = { producerId: string; firstOffset: string };

/** A control record's key is a version (int16) and a type (int16): type 0 ends an aborted transaction. */
const isAbortMarker = (record: FetchedRecord) =>
  record.isControlRecord === true &&
  record.key !== null &&
  record.key.length >= 4 &&
  record.key.readInt16BE(2) === 0;

/**
 * The records of a fetched partition that belong to no aborted transaction, as Kafka's own consumer
 * decides: an aborted transaction of producer P covers P's transactional records from its first
 * offset up to P's abort marker. Control records are kept (kafkajs drops them afterwards).
 */
export function filterAbortedMessages(args: {
  messages: FetchedRecord[];
  abortedTransactions?: AbortedTransaction[];
}): FetchedRecord[] {
  const { messages, abortedTransactions } = args;
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const upcoming = [...abortedTransactions].sort((a, b) => {
    const difference = BigInt(a.firstOffset) - BigInt(b.firstOffset);
    return difference < 0n ? -1 : difference > 0n ? 1 : 0;
  });
  let next = 0;
  const aborting = new Set<string>();
  return messages.filter((record) => {
    const offset = BigInt(record.offset);
    while (next < upcoming.length && BigInt((upcoming[next] as AbortedTransaction).firstOffset) <= offset) {
      aborting.add((upcoming[next] as AbortedTransaction).producerId);
      next += 1;
    }
    const { producerId, inTransaction } = record.batchContext;
    if (record.isControlRecord) {
      if (isAbortMarker(record)) aborting.delete(producerId);
      return true;
    }
    return !(inTransaction && aborting.has(producerId));
  });
}

function replaceModule(specifier: string, replacement: unknown): boolean {
  const path = require.resolve(specifier);
  const cache = require.cache as Record<string, unknown>;
  if (cache[path] === undefined) {
    const { Module } = require("node:module") as {
      Module: new (id: string) => { filename: string; loaded: boolean; exports: unknown };
    };
    const module = new Module(path);
    module.filename = path;
    module.loaded = true;
    module.exports = replacement;
    cache[path] = module;
  }
  return (require(specifier) as unknown) === replacement;
}

type ProduceRequest = { encode: () => Promise<{ buf: Buffer; offset: number }> };
type ProduceRequestModule = (args: ProduceRequestArgs) => ProduceRequest;

/**
 * Wraps kafkajs's Produce v3 request (which v4–v7 build on) so that its body comes from
 * encodeProduceRequest, falling back to kafkajs's own encoding for what that leaves to it.
 * True when installed before kafkajs's later versions captured the original.
 */
function installProduceEncoding(): boolean {
  const path = require.resolve("kafkajs/src/protocol/requests/produce/v3/request.js");
  const cache = require.cache as Record<string, { exports: unknown } | undefined>;
  const later = ["v4", "v5", "v6", "v7"].map((version) =>
    require.resolve(`kafkajs/src/protocol/requests/produce/${version}/request.js`),
  );
  if (later.some((laterPath) => cache[laterPath] !== undefined)) return false;
  const original = require(path) as ProduceRequestModule;
  const Encoder = require("kafkajs/src/protocol/encoder.js") as new () => { buf: Buffer; offset: number };
  const wrapped: ProduceRequestModule = (args) => {
    const request = original(args);
    return {
      ...request,
      encode: async () => {
        const body = encodeProduceRequest(args);
        if (body === undefined) return request.encode();
        const encoder = new Encoder();
        encoder.buf = body;
        encoder.offset = body.length;
        return encoder;
      },
    };
  };
  (cache[path] as { exports: unknown }).exports = wrapped;
  return true;
}

type RequestQueue = {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
};

/** How soon kafkajs looks at its queue again when requests wait and nothing is throttled. */
const pendingRequestsRecheckMs = 10;

/**
 * kafkajs arms its throttle check with `throttledUntil - Date.now()` even when nothing is throttled
 * (throttledUntil is -1): a negative delay, which Node 20 silently treats as 1 ms and Node 24 reports
 * with a TimeoutNegativeWarning on stderr. The replacement schedules the same checks with delays of
 * at least 1 ms. Patching the class's prototype works whenever kafkajs was loaded.
 */
function clampThrottleCheckDelay(): boolean {
  const { prototype } = require("kafkajs/src/network/requestQueue/index.js") as { prototype: RequestQueue };
  if (typeof prototype.scheduleCheckPendingRequests !== "function") return false;
  prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue) {
    if (this.throttleCheckTimeoutId) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    const delayMs =
      untilUnthrottled > 0 ? untilUnthrottled : this.pending.length > 0 ? pendingRequestsRecheckMs : 1;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delayMs);
  };
  return true;
}

/** What kafkajs creates for a transactional producer on its first transaction: its cluster and its producer id. */
export type TransactionalSession = {
  cluster: unknown;
  producerId(): bigint;
  producerEpoch(): number;
};

type EosManagerOptions = { cluster: unknown; transactional: boolean };
type EosManager = { getProducerId(): number | string; getProducerEpoch(): number };

let sessionsCreated: TransactionalSession[] | undefined;

/**
 * Calls `begin` (kafkajs's producer.transaction()) and returns, with its result, the session kafkajs
 * created for it; none when the producer had already begun a transaction before. kafkajs creates
 * it synchronously, before the call's first await.
 */
export function withTransactionalSession<T>(begin: () => T): {
  result: T;
  session: TransactionalSession | undefined;
} {
  const created: TransactionalSession[] = [];
  sessionsCreated = created;
  try {
    return { result: begin(), session: created[0] };
  } finally {
    sessionsCreated = undefined;
  }
}

/** Wraps kafkajs's transaction state factory; true when installed before kafkajs's producer loaded. */
function observeTransactionalSessions(): boolean {
  const cache = require.cache as Record<string, { exports: unknown } | undefined>;
  if (cache[require.resolve("kafkajs/src/producer/index.js")] !== undefined) return false;
  const path = require.resolve("kafkajs/src/producer/eosManager/index.js");
  const original = require(path) as (options: EosManagerOptions) => EosManager;
  const wrapped = (options: EosManagerOptions) => {
    const manager = original(options);
    if (options.transactional)
      sessionsCreated?.push({
        cluster: options.cluster,
        producerId: () => BigInt(manager.getProducerId()),
        producerEpoch: () => manager.getProducerEpoch(),
      });
    return manager;
  };
  (cache[path] as { exports: unknown }).exports = wrapped;
  return true;
}

type Cluster = {
  findGroupCoordinator(key: CoordinatorKey): Promise<CoordinatorBroker>;
  findBroker(args: { nodeId: number }): Promise<CoordinatorBroker>;
};

const cachedLookup = Symbol("stedi coordinator cache");

/** Each cluster (one per kafkajs client) remembers its coordinators. Patching the prototype works whenever kafkajs was loaded. */
function cacheCoordinators(): boolean {
  const { prototype } = require("kafkajs/src/cluster/index.js") as { prototype: Cluster };
  const current = prototype.findGroupCoordinator as Cluster["findGroupCoordinator"] & {
    [cachedLookup]?: true;
  };
  if (typeof current !== "function") return false;
  if (current[cachedLookup]) return true;
  const caches = new WeakMap<Cluster, (key: CoordinatorKey) => Promise<CoordinatorBroker>>();
  const findGroupCoordinator = function (this: Cluster, key: CoordinatorKey) {
    let find = caches.get(this);
    if (find === undefined) {
      find = createCoordinatorCache({
        find: (wanted) => current.call(this, wanted),
        broker: (nodeId) => this.findBroker({ nodeId }),
      });
      caches.set(this, find);
    }
    return find(key);
  };
  prototype.findGroupCoordinator = Object.assign(findGroupCoordinator, { [cachedLookup]: true as const });
  return true;
}

/** True when kafkajs uses these replacements (it was not loaded before this module). */
export const patchesInstalled = {
  linearGrouping: replaceModule(
    "kafkajs/src/producer/groupMessagesPerPartition.js",
    groupMessagesPerPartition,
  ),
  abortedFilter: replaceModule("kafkajs/src/consumer/filterAbortedMessages.js", filterAbortedMessages),
  recordBatchDecoding: replaceModule("kafkajs/src/protocol/recordBatch/v0/decoder.js", decodeRecordBatch),
  fetchedBatch: replaceModule("kafkajs/src/consumer/batch.js", FetchedBatch),
  produceEncoding: installProduceEncoding(),
  sendOnceThroughFailover: replaceModule("kafkajs/src/producer/sendMessages.js", createSendMessages),
  throttleCheckDelay: clampThrottleCheckDelay(),
  transactionalSessions: observeTransactionalSessions(),
  // Last: the cluster module loads most of kafkajs, after which modules can no longer be replaced.
  coordinatorCache: cacheCoordinators(),
};
