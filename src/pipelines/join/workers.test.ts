import { describe, expect, it } from "vitest";
import { isWorkerFailure, workerArguments, workerFailure, workerLine } from "./workers.js";

describe("join workers", () => {
  it("start with the command's own arguments, without --workers", () => {
    expect(workerArguments(["join", "--workers", "2", "--group", "g"])).toEqual(["join", "--group", "g"]);
    expect(workerArguments(["join", "--workers=4", "--json"])).toEqual(["join", "--json"]);
    expect(workerArguments(["join", "--group", "workers"])).toEqual(["join", "--group", "workers"]);
  });

  it("say whose a line is: text behind a prefix, JSON in a field", () => {
    expect(workerLine(1, "join: partition 0 taken over")).toBe("worker 1: join: partition 0 taken over");
    expect(workerLine(0, '{"level":"info","msg":"join: x"}')).toBe(
      '{"worker":0,"level":"info","msg":"join: x"}',
    );
    expect(workerLine(2, "{not json")).toBe("worker 2: {not json");
    expect(workerLine(2, "")).toBe("");
  });

  it("fail the command with the kind a failed worker's exit code says", () => {
    expect(workerFailure({ index: 1, code: 3, signal: null })).toMatchObject({
      code: "unavailable",
      message: "join: worker 1 exited with code 3; its own lines above say why",
    });
    expect(workerFailure({ index: 0, code: 2, signal: null }).code).toBe("config");
    expect(workerFailure({ index: 0, code: null, signal: "SIGKILL" })).toMatchObject({
      code: "internal",
      message: "join: worker 0 was stopped by SIGKILL; its own lines above say why",
    });
  });

  it("count an exit as a failure unless clean, or the end of a stop the command asked for", () => {
    expect(isWorkerFailure({ index: 0, code: 0, signal: null }, false)).toBe(false);
    expect(isWorkerFailure({ index: 0, code: 1, signal: null }, false)).toBe(true);
    expect(isWorkerFailure({ index: 0, code: null, signal: "SIGTERM" }, false)).toBe(true);
    expect(isWorkerFailure({ index: 0, code: null, signal: "SIGTERM" }, true)).toBe(false);
    expect(isWorkerFailure({ index: 0, code: null, signal: "SIGKILL" }, true)).toBe(true);
    expect(isWorkerFailure({ index: 0, code: 3, signal: null }, true)).toBe(true);
  });
});
