import { describe, expect, it } from "vitest";
import { linearGroupingInstalled } from "./kafkajs-grouping.js";

describe("the linear message grouping for kafkajs", () => {
  it("is what kafkajs loads", async () => {
    expect(linearGroupingInstalled).toBe(true);
    const { createRequire } = await import("node:module");
    const require = createRequire(import.meta.url);
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
