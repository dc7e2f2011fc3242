import { describe, expect, it } from "vitest";
import { encodeCommand, parseValue, RespProtocolError, RespReader } from "./resp.js";

describe("RESP", () => {
  it("encodes commands as arrays of bulk strings, bytes kept as they are", () => {
    expect(encodeCommand(["ZADD", "Customer", 0, "é"]).toString("utf8")).toBe(
      "*4\r\n$4\r\nZADD\r\n$8\r\nCustomer\r\n$1\r\n0\r\n$2\r\né\r\n",
    );
    expect(encodeCommand([Buffer.from([0, 255])])).toEqual(
      Buffer.from([...Buffer.from("*1\r\n$2\r\n"), 0, 255, 13, 10]),
    );
  });

  it.each([
    ["+OK\r\n", { type: "simple", value: "OK" }],
    ["-ERR wrong\r\n", { type: "error", value: "ERR wrong" }],
    [":42\r\n", { type: "integer", value: 42 }],
    ["$-1\r\n", { type: "bulk", value: null }],
    ["*-1\r\n", { type: "array", value: null }],
    ["$0\r\n\r\n", { type: "bulk", value: Buffer.alloc(0) }],
    [
      "*2\r\n$3\r\nfoo\r\n:1\r\n",
      {
        type: "array",
        value: [
          { type: "bulk", value: Buffer.from("foo") },
          { type: "integer", value: 1 },
        ],
      },
    ],
  ])("parses %j", (text, expected) => {
    expect(parseValue(Buffer.from(text))).toEqual({ value: expected, end: Buffer.byteLength(text) });
  });

  it("waits for the rest of a value split across chunks, byte by byte", () => {
    const reader = new RespReader();
    const wire = Buffer.from("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n+PONG\r\n");
    const values = [];
    for (const byte of wire) values.push(...reader.push(Buffer.from([byte])));
    expect(values.map((value) => value.type)).toEqual(["array", "simple"]);
    expect(reader.pending).toBe(0);
  });

  it("refuses bytes that are not RESP", () => {
    expect(() => parseValue(Buffer.from("hello\r\n"))).toThrow(RespProtocolError);
  });
});
