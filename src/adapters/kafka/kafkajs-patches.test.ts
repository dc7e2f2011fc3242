import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import {
  type FetchedRecord,
  filterAbortedMessages,
  patchesInstalled,
  withTransactionalSession,
} from "./kafkajs-patches.js";

const require = createRequire(import.meta.url);

describe("kafkajs's replaced internals", () => {
  it("are all installed, the fetch path's decoder and batch included", () => {
    expect(patchesInstalled).toEqual({
      linearGrouping: true,
      abortedFilter: true,
      recordBatchDecoding: true,
      fetchedBatch: true,
      produceEncoding: true,
      sendOnceThroughFailover: true,
      throttleCheckDelay: true,
      transactionalSessions: true,
      coordinatorCache: true,
    });
  });
});

describe("the linear message grouping for kafkajs", () => {
  it("is what kafkajs loads", () => {
    expect(patchesInstalled.linearGrouping).toBe(true);
    const group = require("kafkajs/src/producer/groupMessagesPerPartition.js") as (
      args: unknown,
    ) => Record<number, unknown[]>;
    const messages = [{ partition: 1 }, { partition: 0 }, { partition: 1 }];
    const grouped = group({
      topic: "t",
      partitionMetadata: [{}, {}],
      messages,
      partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    });
    expect(grouped).toEqual({ 0: [messages[1]], 1: [messages[0], messages[2]] });
    expect(group({ topic: "t", partitionMetadata: [], messages, partitioner: () => 0 })).toEqual({});
  });
});

const record = (offset: number, producerId: string, inTransaction = true): FetchedRecord => ({
  offset: String(offset),
  key: Buffer.from(`k${offset}`),
  batchContext: { producerId, inTransaction },
});
const marker = (offset: number, producerId: string, type: "abort" | "commit"): FetchedRecord => ({
  offset: String(offset),
  key: Buffer.from([0, 0, 0, type === "abort" ? 0 : 1]),
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
});
const offsetsOf = (records: FetchedRecord[]) =>
  records.filter((r) => !r.isControlRecord).map((r) => Number(r.offset));

describe("hiding aborted transactions from read_committed consumers", () => {
  // Producers a and b interleave two transactions that both abort; c commits one after them.
  const log = [
    record(0, "a"),
    record(1, "b"),
    record(2, "a"),
    record(3, "b"),
    marker(4, "a", "abort"),
    marker(5, "b", "abort"),
    record(6, "c"),
    marker(7, "c", "commit"),
  ];
  const aborted = [
    { producerId: "b", firstOffset: "1" },
    { producerId: "a", firstOffset: "0" },
  ];

  it("is what kafkajs loads", () => {
    expect(patchesInstalled.abortedFilter).toBe(true);
    expect(require("kafkajs/src/consumer/filterAbortedMessages.js")).toBe(filterAbortedMessages);
  });

  it("drops every record of interleaved aborted transactions, whatever the list's order", () => {
    expect(offsetsOf(filterAbortedMessages({ messages: log, abortedTransactions: aborted }))).toEqual([6]);
  });

  it("drops them when a fetch starts in the middle of both transactions", () => {
    for (let start = 1; start <= 6; start += 1) {
      const fetched = log.filter((r) => Number(r.offset) >= start);
      expect(offsetsOf(filterAbortedMessages({ messages: fetched, abortedTransactions: aborted }))).toEqual([
        6,
      ]);
    }
  });

  it("keeps committed transactions, earlier ones of the same producer and records outside transactions", () => {
    const messages = [
      record(0, "a"),
      marker(1, "a", "commit"),
      record(2, "n", false),
      record(3, "a"),
      marker(4, "a", "abort"),
      record(5, "a"),
      marker(6, "a", "commit"),
    ];
    const result = filterAbortedMessages({
      messages,
      abortedTransactions: [{ producerId: "a", firstOffset: "3" }],
    });
    expect(offsetsOf(result)).toEqual([0, 2, 5]);
    expect(result.filter((r) => r.isControlRecord)).toHaveLength(3);
  });

  it("returns the fetch as it is when nothing was aborted", () => {
    expect(filterAbortedMessages({ messages: log })).toBe(log);
    expect(filterAbortedMessages({ messages: log, abortedTransactions: [] })).toBe(log);
  });
});

describe("the transactional session of a kafkajs producer", () => {
  it("is observed as kafkajs creates it: its cluster and its producer id", async () => {
    expect(patchesInstalled.transactionalSessions).toBe(true);
    const { Kafka, logLevel } = require("kafkajs") as typeof import("kafkajs");
    const kafka = new Kafka({
      brokers: ["127.0.0.1:9"],
      connectionTimeout: 100,
      retry: { retries: 1, initialRetryTime: 10, maxRetryTime: 10 },
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ transactionalId: "t", idempotent: true, maxInFlightRequests: 1 });
    const opening = withTransactionalSession(() => producer.transaction());
    // No broker answers: the producer id is never initialised, but the session exists.
    await expect(opening.result).rejects.toThrow();
    expect(opening.session?.producerId()).toBe(-1n);
    expect(typeof (opening.session?.cluster as { findBroker?: unknown } | undefined)?.findBroker).toBe(
      "function",
    );
    // Outside the call nothing is observed.
    expect(withTransactionalSession(() => 1)).toEqual({ result: 1, session: undefined });
  });
});
