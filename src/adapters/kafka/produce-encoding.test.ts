import { createRequire } from "node:module";
import { afterEach, describe, expect, it, vi } from "vitest";
import { kafkajsOriginal } from "../../../test/support/kafkajs-original.js";
import { seeded } from "../../../test/support/random.js";
import { patchesInstalled } from "./kafkajs-patches.js";
import {
  crc32c,
  encodeProduceRequest,
  type ProduceMessage,
  type ProduceRequestArgs,
} from "./produce-encoding.js";

const require = createRequire(import.meta.url);

type KafkajsRequest = { encode: () => Promise<{ buffer: Buffer }> };

/** A private copy of kafkajs's own Produce v3 request (the cached one is wrapped). */
const kafkajsProduceRequest = () =>
  kafkajsOriginal<(args: ProduceRequestArgs) => KafkajsRequest>(
    "kafkajs/src/protocol/requests/produce/v3/request.js",
  );

const kafkajsEncoding = kafkajsProduceRequest();
const crc32cOfKafkajs = require("kafkajs/src/protocol/recordBatch/crc32C/index.js") as (
  bytes: Buffer,
) => number;

const now = 1_764_000_000_123;
afterEach(() => {
  vi.useRealTimers();
});

async function bothEncodings(args: ProduceRequestArgs) {
  vi.useFakeTimers({ now, toFake: ["Date"] });
  const theirs = (await kafkajsEncoding(args).encode()).buffer;
  vi.useRealTimers();
  return { ours: encodeProduceRequest(args, now), theirs };
}

function randomBytes(random: () => number): Buffer | string | null | undefined {
  const kind = Math.floor(random() * 6);
  const length = random() < 0.02 ? 200 + Math.floor(random() * 20_000) : Math.floor(random() * 80);
  const text = Array.from({ length }, () => 'aZ09 é日"{}'.charAt(Math.floor(random() * 11))).join("");
  if (kind === 0) return null;
  if (kind === 1) return undefined;
  if (kind === 2) return Buffer.from(text, "utf8");
  return text;
}

function randomMessage(random: () => number): ProduceMessage {
  const headers: Record<string, unknown> = {};
  const count = Math.floor(random() * 3);
  for (let index = 0; index < count; index += 1) {
    const value = () => (random() < 0.5 ? `v${Math.floor(random() * 1000)}é` : Buffer.from([1, 2, 255]));
    headers[`h${index}-${Math.floor(random() * 9)}`] = random() < 0.3 ? [value(), value()] : value();
  }
  return { key: randomBytes(random), value: randomBytes(random), ...(count > 0 ? { headers } : {}) };
}

describe("encodeProduceRequest", () => {
  it("is what kafkajs sends", () => {
    expect(patchesInstalled.produceEncoding).toBe(true);
  });

  it("writes the bytes kafkajs writes, for random requests", async () => {
    const random = seeded(3);
    for (let round = 0; round < 60; round += 1) {
      const topics = 1 + Math.floor(random() * 3);
      const args: ProduceRequestArgs = {
        transactionalId: round % 3 === 0 ? null : round % 3 === 1 ? `stedi-join-t-${round}` : "",
        acks: round % 2 === 0 ? -1 : 1,
        timeout: 30_000,
        producerId: round % 2 === 0 ? 4321 + round : String(98_765_432_109 + round),
        producerEpoch: round % 7,
        topicData: Array.from({ length: topics }, (_, topic) => ({
          topic: `topic-${topic}-é`,
          partitions: Array.from({ length: 1 + Math.floor(random() * 3) }, (_, partition) => ({
            partition,
            ...(random() < 0.8 ? { firstSequence: Math.floor(random() * 100_000) } : {}),
            messages: Array.from({ length: Math.floor(random() * (round % 10 === 0 ? 3000 : 40)) }, () =>
              randomMessage(random),
            ),
          })),
        })),
      };
      const { ours, theirs } = await bothEncodings(args);
      // Compared as bytes: a diff of megabyte buffers would say nothing more than where they part.
      const firstDifference =
        ours === undefined ? -1 : ours.findIndex((byte, index) => byte !== theirs[index]);
      expect({ round, length: ours?.length, firstDifference }).toEqual({
        round,
        length: theirs.length,
        firstDifference: -1,
      });
    }
  });

  it("writes the bytes kafkajs writes for a transaction's request of 5,000 records", async () => {
    const random = seeded(5000);
    const args: ProduceRequestArgs = {
      transactionalId: "stedi-join-stedi-events-0",
      acks: -1,
      timeout: 30_000,
      producerId: "98765432109",
      producerEpoch: 3,
      topicData: [
        {
          topic: "stedi-graph",
          partitions: [0, 1].map((partition) => ({
            partition,
            firstSequence: 1000 * partition,
            messages: Array.from({ length: 2500 }, () => randomMessage(random)),
          })),
        },
      ],
    };
    const { ours, theirs } = await bothEncodings(args);
    expect(ours).toBeDefined();
    expect(Buffer.compare(ours as Buffer, theirs)).toBe(0);
  });

  it("leaves compression, timestamps and values of other types to kafkajs", () => {
    const args = (message: ProduceMessage, compression = 0): ProduceRequestArgs => ({
      acks: -1,
      timeout: 1000,
      compression,
      topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [message] }] }],
    });
    expect(encodeProduceRequest(args({ value: "x" }, 1))).toBeUndefined();
    expect(encodeProduceRequest(args({ value: "x", timestamp: "1700000000000" }))).toBeUndefined();
    expect(encodeProduceRequest(args({ value: 7 as unknown as string }))).toBeUndefined();
    expect(encodeProduceRequest(args({ value: "x", headers: { h: undefined } }))).toBeUndefined();
    expect(encodeProduceRequest(args({ value: "x" }))).toBeInstanceOf(Buffer);
  });
});

describe("crc32c", () => {
  it("agrees with the check value and with kafkajs over every alignment", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    const random = seeded(9);
    const bytes = Buffer.from(Array.from({ length: 300 }, () => Math.floor(random() * 256)));
    for (let start = 0; start < 20; start += 1) {
      for (const end of [start, start + 1, start + 7, start + 8, start + 9, 300]) {
        expect(crc32c(bytes, start, end)).toBe(crc32cOfKafkajs(bytes.subarray(start, end)));
      }
    }
  });
});
