import { describe, expect, it } from "vitest";
import { encodeSse, isAllowedHost } from "./http-server.js";

describe("encodeSse", () => {
  it.each([
    [{ event: "points", data: '[{"x":1}]' }, 'event: points\ndata: [{"x":1}]\n\n'],
    [{ event: "note", data: "a\nb\r\nc" }, "event: note\ndata: a\ndata: b\ndata: c\n\n"],
  ])("encodes %j", (message, wire) => {
    expect(encodeSse(message)).toBe(wire);
  });
});

describe("isAllowedHost", () => {
  it.each([
    ["127.0.0.1:4567", "127.0.0.1", true],
    ["localhost:4567", "127.0.0.1", true],
    ["LOCALHOST", "127.0.0.1", true],
    ["[::1]:4567", "127.0.0.1", true],
    ["graph.localhost:4567", "127.0.0.1", true],
    ["attacker.example:4567", "127.0.0.1", false],
    ["127.0.0.1.attacker.example", "127.0.0.1", false],
    [undefined, "127.0.0.1", false],
    ["attacker.example", "::1", false],
    ["attacker.example", "localhost", false],
    // Bound to every interface on purpose: any name may reach it.
    ["stedi.internal:8080", "0.0.0.0", true],
    [undefined, "0.0.0.0", true],
  ])("Host %s on a server bound to %s → %s", (header, bindHost, allowed) => {
    expect(isAllowedHost(header, bindHost)).toBe(allowed);
  });
});
