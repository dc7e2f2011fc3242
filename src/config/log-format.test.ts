import { describe, expect, it } from "vitest";
import { StediError } from "../errors.js";
import { findLogFormat, resolveLogFormat } from "./log-format.js";

describe("resolveLogFormat", () => {
  it.each([
    [undefined, {}, "text"],
    [undefined, { STEDI_LOG_FORMAT: "json" }, "json"],
    ["json", {}, "json"],
    ["text", { STEDI_LOG_FORMAT: "json" }, "text"],
    ["json", { STEDI_LOG_FORMAT: "text" }, "json"],
  ] as const)("flag %s with %j gives %s", (flag, env, format) => {
    expect(resolveLogFormat(flag, env)).toBe(format);
  });

  it("names the flag or the variable that holds an unknown format, as a config error", () => {
    expect(() => resolveLogFormat("xml", {})).toThrowError('--log-format must be text or json, got "xml"');
    expect(() => resolveLogFormat(undefined, { STEDI_LOG_FORMAT: "JSON" })).toThrowError(
      'STEDI_LOG_FORMAT must be text or json, got "JSON"',
    );
    try {
      resolveLogFormat(undefined, { STEDI_LOG_FORMAT: "" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StediError);
      expect((error as StediError).exitCode).toBe(2);
    }
  });
});

describe("findLogFormat", () => {
  it.each([
    [["join"], {}, "text"],
    [["join", "--log-format", "json"], {}, "json"],
    [["join", "--log-format=json", "--bogus"], {}, "json"],
    [["join"], { STEDI_LOG_FORMAT: "json" }, "json"],
    [["join", "--log-format", "text"], { STEDI_LOG_FORMAT: "json" }, "text"],
    [["join", "--log-format", "json", "--log-format", "text"], {}, "text"],
    [["join", "--log-format", "xml"], { STEDI_LOG_FORMAT: "json" }, "text"],
    [["join", "--log-format"], {}, "text"],
    [["join", "--", "--log-format", "json"], {}, "text"],
    [["join"], { STEDI_LOG_FORMAT: "yaml" }, "text"],
  ] as const)("%j with %j gives %s", (args, env, format) => {
    expect(findLogFormat(args, env)).toBe(format);
  });
});
