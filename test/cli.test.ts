import { describe, expect, it } from "vitest";
import { runStedi } from "./support/cli.js";

describe("the stedi binary", () => {
  it("prints help with examples and the environment, exit 0", async () => {
    const result = await runStedi(["join", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Examples:");
    expect(result.stdout).toContain("KAFKA_BROKERS");
    expect(result.stdout).toContain("--exit-on-idle");
  });

  it("rejects an unknown command with one line and exit 2", async () => {
    const result = await runStedi(["joinn"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("unknown command 'joinn'");
  });

  it("rejects invalid option values with exit 2", async () => {
    const result = await runStedi(["join", "--wait", "soon"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--wait");
  });

  it("gives one line and a non-zero exit within the timeout when no broker answers", async () => {
    for (const command of ["events-console", "redis-console", "join"]) {
      const result = await runStedi([command, "--brokers", "127.0.0.1:9", "--connect-timeout", "1500"]);
      expect(result.code, command).toBe(3);
      expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
      expect(result.stderr).toContain("cannot reach Kafka at 127.0.0.1:9 within 1.5 s");
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.ms).toBeLessThan(10_000);
    }
  });
});
