import { describe, expect, it } from "vitest";
import { StediError } from "../errors.js";
import { resolveGraphConfig } from "./graph.js";

describe("resolveGraphConfig", () => {
  it("fills defaults", () => {
    expect(resolveGraphConfig({}, {})).toEqual({ host: "127.0.0.1", port: 4567, window: 300 });
  });

  it("prefers flags over the environment over defaults", () => {
    expect(resolveGraphConfig({}, { STEDI_GRAPH_PORT: "8080" }).port).toBe(8080);
    expect(resolveGraphConfig({ port: "0" }, { STEDI_GRAPH_PORT: "8080" }).port).toBe(0);
    expect(resolveGraphConfig({ host: "0.0.0.0", window: "30" }, {})).toMatchObject({
      host: "0.0.0.0",
      window: 30,
    });
  });

  it.each([
    [{ port: "http" }, "--port must be a number"],
    [{ port: "70000" }, "--port must be 0 to 65535"],
    [{ port: "-1" }, "--port must be 0 to 65535"],
    [{ port: "80.5" }, "--port must be a whole number"],
    [{ window: "0" }, "--window must be positive"],
    [{ window: "1000000" }, "--window must be at most 100000"],
    [{ host: " " }, "--host is empty"],
  ])("rejects %j with a config error", (flags, message) => {
    let caught: unknown;
    try {
      resolveGraphConfig(flags, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StediError);
    expect((caught as StediError).exitCode).toBe(2);
    expect((caught as StediError).message).toContain(message);
  });
});
