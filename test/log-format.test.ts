import { describe, expect, it } from "vitest";
import { exampleRiskEvent, riskEventJson } from "./fixtures.js";
import { runStedi } from "./support/cli.js";
import { brokers, freshTopic, produce } from "./support/kafka.js";

type Entry = Record<string, unknown> & { level: string; time: string; msg: string };

/** Every stderr line as a JSON object; fails the test on a line that is not one. */
function entriesOf(stderr: string): Entry[] {
  const lines = stderr.split("\n").filter((line) => line !== "");
  return lines.map((line) => {
    const entry = JSON.parse(line) as Entry;
    expect(entry, line).toEqual(
      expect.objectContaining({
        level: expect.any(String),
        time: expect.any(String),
        msg: expect.any(String),
      }),
    );
    expect(Number.isNaN(Date.parse(entry.time)), line).toBe(false);
    return entry;
  });
}

describe("--log-format json", () => {
  it("writes every stderr diagnostic as one JSON object per line, and leaves stdout as it was", async () => {
    const topic = await freshTopic("log-format");
    await produce(topic, [exampleRiskEvent(), "not json at all", riskEventJson("Dan.Jones@test.com", "5")]);
    const args = ["events-console", "--brokers", brokers.join(","), "--events-topic", topic, "--json"];
    const idle = ["--no-log", "--exit-on-idle", "1500"];

    const text = await runStedi([...args, ...idle]);
    const json = await runStedi([...args, "--log-format", "json", ...idle]);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).toBe(text.stdout);
    expect(text.stderr).toContain(`bad record ${topic}[0]@1: not JSON`);

    const entries = entriesOf(json.stderr);
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "bad record",
        topic,
        partition: 0,
        offset: "1",
        reason: expect.stringMatching(/^not JSON/),
      }),
    );
    expect(entries.at(-1)).toMatchObject({ level: "info", records: 3, rows: 2, bad: 1 });
    expect(json.stderr).not.toContain("\u001b[");

    // The final error line, chosen by the environment, with its code and exit code; secrets stay out.
    const failed = await runStedi(["redis-source", "--redis", "redis://:hunter2@127.0.0.1:9"], {
      // Colour forced, NO_COLOR unset (Node 24 warns when both are set): JSON lines stay uncoloured.
      env: { STEDI_LOG_FORMAT: "json", FORCE_COLOR: "1", NO_COLOR: undefined },
    });
    expect(failed.code).toBe(3);
    expect(entriesOf(failed.stderr)).toEqual([
      expect.objectContaining({
        level: "error",
        code: "unavailable",
        exitCode: 3,
        msg: expect.stringContaining("cannot reach Redis at redis://127.0.0.1:9"),
      }),
    ]);
    expect(failed.stderr).not.toContain("hunter2");
    expect(failed.stderr).not.toContain("\u001b[");
  });
});
