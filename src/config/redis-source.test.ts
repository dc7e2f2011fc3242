import { describe, expect, it } from "vitest";
import { resolveRedisSourceConfig } from "./redis-source.js";

describe("resolveRedisSourceConfig", () => {
  it("takes the flag over REDIS_URL over the default, and puts the offsets beside the topic", () => {
    expect(resolveRedisSourceConfig({}, {}, "redis-server")).toEqual({
      endpoint: {
        host: "127.0.0.1",
        port: 6379,
        tls: false,
        username: undefined,
        password: undefined,
        db: 0,
      },
      snapshot: false,
      offsetsTopic: "redis-server-offsets",
    });
    expect(
      resolveRedisSourceConfig({}, { REDIS_URL: "rediss://:pw@cache:6380" }, "t").endpoint,
    ).toMatchObject({
      host: "cache",
      tls: true,
      password: "pw",
    });
    expect(
      resolveRedisSourceConfig(
        { redis: "redis://h:1", snapshot: true, offsetsTopic: "pos" },
        { REDIS_URL: "redis://x" },
        "t",
      ),
    ).toMatchObject({ endpoint: { host: "h", port: 1 }, snapshot: true, offsetsTopic: "pos" });
  });

  it("refuses a bad URL without showing its password, and an offsets topic equal to the records topic", () => {
    expect(() => resolveRedisSourceConfig({ redis: "redis://:hunter2@h:1/x" }, {}, "t")).toThrow(
      /^(?!.*hunter2)/,
    );
    expect(() => resolveRedisSourceConfig({ redis: "http://h" }, {}, "t")).toThrow(/redis:\/\//);
    expect(() => resolveRedisSourceConfig({ offsetsTopic: "t" }, {}, "t")).toThrow(/--offsets-topic/);
  });
});
