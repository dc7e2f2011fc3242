import { describe, expect, it } from "vitest";
import { decodePosition, encodePosition, positionKey } from "./source-position.js";

const replid = "07ed2ab74f2a4b008bdd2f53c74288a2a42a0b0a";

describe("the stored replication position", () => {
  it("round-trips and is keyed by server and topic, never by credentials", () => {
    expect(encodePosition({ replid, offset: 1290 })).toBe(`{"replid":"${replid}","offset":1290}`);
    expect(decodePosition(encodePosition({ replid, offset: 1290 }))).toEqual({
      ok: true,
      value: { replid, offset: 1290 },
    });
    expect(positionKey({ host: "cache", port: 6380, topic: "redis-server" })).toBe("cache:6380|redis-server");
  });

  it.each([
    ["{", /not JSON/],
    [`{"replid":"abc","offset":1}`, /replid/],
    [`{"replid":"${replid}","offset":-1}`, /offset/],
    [`{"replid":"${replid}"}`, /offset/],
  ])("rejects %s", (text, reason) => {
    const decoded = decodePosition(text);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? "" : decoded.reason).toMatch(reason);
  });
});
