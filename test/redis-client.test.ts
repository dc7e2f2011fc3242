import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createRedisClient } from "../src/adapters/redis.js";
import { parseRedisUrl } from "../src/config/redis-url.js";
import { StediError } from "../src/errors.js";

const redisUrl = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? "6379"}`;

describe("the Redis client against a real Redis", () => {
  it("writes and reads a sorted set, pipelined", async () => {
    const client = await createRedisClient(parseRedisUrl(redisUrl));
    const key = `test-${randomUUID()}`;
    try {
      const replies = await client.pipeline([
        ["ZADD", key, 0, "a"],
        ["ZADD", key, 0, Buffer.from("b")],
        ["ZRANGE", key, 0, -1],
      ]);
      expect(replies).toEqual([
        { type: "integer", value: 1 },
        { type: "integer", value: 1 },
        {
          type: "array",
          value: [
            { type: "bulk", value: Buffer.from("a") },
            { type: "bulk", value: Buffer.from("b") },
          ],
        },
      ]);
      await expect(client.command(["INCR", key])).rejects.toThrow(/Redis refused INCR: WRONGTYPE/);
    } finally {
      await client.command(["DEL", key]);
      await client.close();
    }
  });

  it("fails with one clear error when nothing listens", async () => {
    const failure = await createRedisClient(parseRedisUrl("redis://127.0.0.1:9"), 2000).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StediError);
    expect((failure as StediError).message).toMatch(/^cannot reach Redis at redis:\/\/127\.0\.0\.1:9/);
  });
});
