import { describe, expect, it } from "vitest";
import { parseRedisUrl, redactRedisUrl } from "./redis-url.js";

describe("parseRedisUrl", () => {
  it.each([
    [
      "redis://127.0.0.1:6379",
      { host: "127.0.0.1", port: 6379, tls: false, username: undefined, password: undefined, db: 0 },
    ],
    [
      "redis://localhost",
      { host: "localhost", port: 6379, tls: false, username: undefined, password: undefined, db: 0 },
    ],
    [
      "rediss://:s%40cret@cache:6380/2",
      { host: "cache", port: 6380, tls: true, username: undefined, password: "s@cret", db: 2 },
    ],
    ["redis://app:pw@h:1/0", { host: "h", port: 1, tls: false, username: "app", password: "pw", db: 0 }],
  ])("parses %s", (text, expected) => {
    expect(parseRedisUrl(text)).toEqual(expected);
  });

  it.each(["127.0.0.1:6379", "http://h:1", "redis://h:1/x"])("rejects %s", (text) => {
    expect(() => parseRedisUrl(text)).toThrow(/Redis/);
  });

  it("never shows a password", () => {
    expect(redactRedisUrl("redis://user:hunter2@h:1")).toBe("redis://user:***@h:1");
    expect(redactRedisUrl("rediss://:hunter2@h:1")).toBe("rediss://:***@h:1");
    expect(() => parseRedisUrl("redis://:hunter2@h:1/x")).toThrow(/^(?!.*hunter2)/);
  });
});
