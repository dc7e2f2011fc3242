import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runStedi } from "./support/cli.js";
import { joinArgs } from "./support/join-args.js";
import { brokers, readAll } from "./support/kafka.js";

describe("stedi demo", () => {
  it("runs the whole system, joins simulated scores within a minute, and stops with nothing left behind", async () => {
    const id = randomUUID().slice(0, 8);
    const topics = {
      redis: `demo-redis-${id}`,
      events: `demo-events-${id}`,
      output: `demo-graph-${id}`,
      dlq: `demo-dlq-${id}`,
    };
    const result = await runStedi(
      [
        "demo",
        ...joinArgs({ brokers, topics, group: `demo-${id}` }, [
          "--port",
          "0",
          "--speed",
          "120",
          "--run-for",
          "40s",
          "--keep-stack",
          "--redis",
          process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? "6379"}`,
        ]),
      ],
      { timeoutMs: 90_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/the graph is live at http:\/\/127\.0\.0\.1:\d+/);
    const joined = await readAll(topics.output);
    expect(joined.length).toBeGreaterThan(0);
    // The closing status line counts records, as a read_committed reader sees them, not offsets.
    const closing = result.stderr.split("\n").findLast((line) => line.startsWith("demo: records: ")) ?? "";
    const counted = (stage: string) =>
      Number(new RegExp(`${stage} (\\d+) \\(`).exec(closing)?.[1] ?? Number.NaN);
    expect(counted(`join → ${topics.output}`)).toBe(joined.length);
    expect(counted(`simulate → ${topics.events}`)).toBe((await readAll(topics.events)).length);
    for (const record of joined.slice(0, 20)) {
      expect(JSON.parse(record.value)).toEqual({
        customer: expect.stringMatching(/@test\.com$/),
        score: expect.stringMatching(/^-?\d+\.\d+$/),
        email: record.key,
        birthYear: expect.stringMatching(/^19\d\d$/),
      });
    }
    const leftovers = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes(id));
    expect(leftovers).toEqual([]);
  }, 120_000);
});
