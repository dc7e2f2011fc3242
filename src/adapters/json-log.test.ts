import { describe, expect, it } from "vitest";
import { StediError, unavailableError } from "../errors.js";
import { createJsonLog, createJsonReporter, redactCredentials } from "./json-log.js";
import { reportFailure } from "./terminal.js";

/** A destination that keeps every line pino writes, and a clock the test moves. */
function capture() {
  const chunks: string[] = [];
  const clock = { now: Date.parse("2026-12-01T10:00:00.000Z") };
  return {
    destination: { write: (chunk: string) => void chunks.push(chunk) },
    now: () => clock.now,
    clock,
    lines: () => chunks.join("").split("\n").filter(Boolean),
    entries: () =>
      chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("createJsonReporter", () => {
  it("writes info and warnings as one object per line with level, time, msg and fields", () => {
    const out = capture();
    const reporter = createJsonReporter(out);
    reporter.info("join: 3 customers", { customers: 3, events: 5 });
    out.clock.now += 1500;
    reporter.warn("redis-source: lost redis://127.0.0.1:6379; reconnecting");
    expect(out.entries()).toEqual([
      { level: "info", time: "2026-12-01T10:00:00.000Z", msg: "join: 3 customers", customers: 3, events: 5 },
      {
        level: "warn",
        time: "2026-12-01T10:00:01.500Z",
        msg: "redis-source: lost redis://127.0.0.1:6379; reconnecting",
      },
    ]);
  });

  it("gives bad records their topic, partition, offset and reason as fields", () => {
    const out = capture();
    createJsonReporter(out).badRecord({ topic: "stedi-events", partition: 2, offset: "41" }, "not JSON");
    expect(out.entries()).toEqual([
      {
        level: "warn",
        time: "2026-12-01T10:00:00.000Z",
        msg: "bad record",
        topic: "stedi-events",
        partition: 2,
        offset: "41",
        reason: "not JSON",
      },
    ]);
  });

  it("rate-limits bad records and counts the held-back ones at close", () => {
    const out = capture();
    const reporter = createJsonReporter(out);
    for (let offset = 0; offset < 8; offset += 1)
      reporter.badRecord({ topic: "t", partition: 0, offset: String(offset) }, "bad base64");
    reporter.close();
    const entries = out.entries();
    expect(entries.filter((entry) => entry.msg === "bad record")).toHaveLength(5);
    expect(entries.at(-1)).toMatchObject({ level: "warn", heldBack: 3 });
  });

  it("writes nothing for status lines, and no info when quiet", () => {
    const out = capture();
    const reporter = createJsonReporter({ ...out, quiet: true });
    reporter.status("join: 10 events/s");
    reporter.info("join: started");
    reporter.warn("join: slow");
    expect(out.entries().map((entry) => entry.msg)).toEqual(["join: slow"]);
  });

  it("leaves out fields that are undefined and keeps every line free of colour codes", () => {
    const out = capture();
    createJsonReporter(out).info("redis-source: published 0 records", { published: 0, position: undefined });
    expect(out.entries()).toEqual([
      {
        level: "info",
        time: "2026-12-01T10:00:00.000Z",
        msg: "redis-source: published 0 records",
        published: 0,
      },
    ]);
    expect(out.lines().join("")).not.toContain("\u001b[");
  });

  it("keeps a message with line breaks on one line", () => {
    const out = capture();
    createJsonReporter(out).warn("first\nsecond");
    expect(out.lines()).toHaveLength(1);
    expect(out.entries()[0]?.msg).toBe("first\nsecond");
  });
});

describe("redaction", () => {
  it("replaces URL passwords in messages and in string fields", () => {
    const out = capture();
    const reporter = createJsonReporter(out);
    reporter.warn("redis-source: rediss://admin:hunter2@redis-host:6380 still unreachable", {
      redis: "redis://:hunter2@127.0.0.1:9/0",
    });
    reporter.badRecord({ topic: "t", partition: 0, offset: "1" }, "see redis://u:hunter2@h:1");
    const text = out.lines().join("\n");
    expect(text).not.toContain("hunter2");
    expect(out.entries()[0]).toMatchObject({
      msg: "redis-source: rediss://admin:***@redis-host:6380 still unreachable",
      redis: "redis://:***@127.0.0.1:9/0",
    });
    expect(out.entries()[1]).toMatchObject({ reason: "see redis://u:***@h:1" });
  });

  it("replaces the values of secret fields, at the top and one object down", () => {
    const out = capture();
    const log = createJsonLog(out);
    log.write("error", "cannot authenticate", {
      password: "hunter2",
      token: "abc",
    } as Record<string, string>);
    log.write("error", "sasl", { sasl: { username: "stedi", password: "hunter2" } } as never);
    const [first, second] = out.entries();
    expect(first).toMatchObject({ level: "error", password: "***", token: "***" });
    expect(second).toMatchObject({ sasl: { username: "stedi", password: "***" } });
    expect(out.lines().join("\n")).not.toContain("hunter2");
  });

  it("leaves text without credentials alone", () => {
    expect(redactCredentials("cannot reach Kafka at 127.0.0.1:9 within 1.5 s")).toBe(
      "cannot reach Kafka at 127.0.0.1:9 within 1.5 s",
    );
    expect(redactCredentials("redis://127.0.0.1:6379 and http://user@host/x")).toBe(
      "redis://127.0.0.1:6379 and http://user@host/x",
    );
    expect(redactCredentials("two: redis://a:b@h:1, amqp://c:d@k")).toBe(
      "two: redis://a:***@h:1, amqp://c:***@k",
    );
  });
});

describe("reportFailure in JSON", () => {
  it("is one line at level error with the error's code and exit code as fields", () => {
    const out = capture();
    reportFailure(unavailableError("cannot reach Kafka at 127.0.0.1:9 within 1.5 s"), "json", out);
    reportFailure(
      new StediError("usage", "unknown option '--bogus'", { hint: "see stedi --help" }),
      "json",
      out,
    );
    expect(out.entries()).toEqual([
      {
        level: "error",
        time: "2026-12-01T10:00:00.000Z",
        msg: "cannot reach Kafka at 127.0.0.1:9 within 1.5 s",
        code: "unavailable",
        exitCode: 3,
      },
      {
        level: "error",
        time: "2026-12-01T10:00:00.000Z",
        msg: "unknown option '--bogus'",
        code: "usage",
        exitCode: 2,
        hint: "see stedi --help",
      },
    ]);
  });
});
