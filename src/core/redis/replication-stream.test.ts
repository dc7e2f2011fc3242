import { describe, expect, it } from "vitest";
import { type ReplicationEvent, ReplicationStreamDecoder } from "./replication-stream.js";
import { encodeCommand } from "./resp.js";

const replid = "07ed2ab74f2a4b008bdd2f53c74288a2a42a0b0a";
const mark = "7c135009109c6c394d50972759c23227af553f64";
const rdb = Buffer.from("REDIS0010\xfa\x09redis-ver\x067.0.15\xff12345678", "latin1");
const select = encodeCommand(["SELECT", "0"]);
const zadd = encodeCommand(["zadd", "Customer", "0", "member"]);
const ping = encodeCommand(["ping"]);

/** Feeds `bytes` in pieces of `size` (1 = byte by byte) and collects the events. */
function decode(bytes: Buffer, size: number, continueOffset = 0) {
  const decoder = new ReplicationStreamDecoder(continueOffset);
  const events: ReplicationEvent[] = [];
  for (let start = 0; start < bytes.length; start += size)
    events.push(...decoder.push(bytes.subarray(start, start + size)));
  return { events, decoder };
}

const diskless = Buffer.concat([
  Buffer.from(`\n\n\n+FULLRESYNC ${replid} 100\r\n$EOF:${mark}\r\n`),
  rdb,
  Buffer.from(mark),
  select,
  zadd,
  ping,
]);
const diskBased = Buffer.concat([
  Buffer.from(`+FULLRESYNC ${replid} 100\r\n\n$${rdb.length}\r\n`),
  rdb,
  select,
  zadd,
]);

describe("ReplicationStreamDecoder", () => {
  it.each([1, 3, 7, 40, 1000])("decodes a diskless full resync fed %i bytes at a time", (size) => {
    const { events, decoder } = decode(diskless, size);
    expect(events).toEqual([
      { kind: "fullresync", replid, offset: 100 },
      { kind: "rdb", payload: rdb },
      { kind: "command", args: [Buffer.from("SELECT"), Buffer.from("0")], offset: 100 + select.length },
      {
        kind: "command",
        args: ["zadd", "Customer", "0", "member"].map((arg) => Buffer.from(arg)),
        offset: 100 + select.length + zadd.length,
      },
      {
        kind: "command",
        args: [Buffer.from("ping")],
        offset: 100 + select.length + zadd.length + ping.length,
      },
    ]);
    expect(decoder.offset).toBe(100 + select.length + zadd.length + ping.length);
    expect(decoder.streaming).toBe(true);
  });

  it.each([1, 5, 1000])(
    "decodes a disk-based full resync (no CRLF after the RDB) fed %i at a time",
    (size) => {
      const { events } = decode(diskBased, size);
      expect(events.map((event) => event.kind)).toEqual(["fullresync", "rdb", "command", "command"]);
      expect(events[1]).toEqual({ kind: "rdb", payload: rdb });
      expect(events[3]).toMatchObject({ offset: 100 + select.length + zadd.length });
    },
  );

  it("keeps an RDB that contains a part of the mark", () => {
    const tricky = Buffer.concat([rdb, Buffer.from(mark.slice(0, 39)), rdb]);
    const bytes = Buffer.concat([
      Buffer.from(`+FULLRESYNC ${replid} 0\r\n$EOF:${mark}\r\n`),
      tricky,
      Buffer.from(mark),
    ]);
    for (const size of [1, 13, 39, 40, 41, 4096]) {
      expect(decode(bytes, size).events[1], `size ${size}`).toEqual({ kind: "rdb", payload: tricky });
    }
  });

  it("continues counting from the offset asked for, with or without a new replication id", () => {
    const { events } = decode(Buffer.concat([Buffer.from("+CONTINUE\r\n"), zadd]), 4, 5000);
    expect(events).toEqual([
      { kind: "continue", replid: undefined, offset: 5000 },
      expect.objectContaining({ kind: "command", offset: 5000 + zadd.length }),
    ]);
    expect(decode(Buffer.from(`+CONTINUE ${replid}\r\n`), 100, 7).events).toEqual([
      { kind: "continue", replid, offset: 7 },
    ]);
  });

  it("reports a refusal and ignores what follows", () => {
    expect(
      decode(Buffer.from("-LOADING Redis is loading the dataset in memory\r\n*1\r\n"), 3).events,
    ).toEqual([{ kind: "refused", message: "LOADING Redis is loading the dataset in memory" }]);
  });

  it("rejects bytes that are not the replication protocol", () => {
    expect(() => decode(Buffer.from("HTTP/1.1 400 Bad Request\r\n"), 100)).toThrow(
      /unexpected reply to PSYNC/,
    );
    expect(() => decode(Buffer.from("+CONTINUE\r\n:1\r\n"), 100)).toThrow(/expected a command/);
  });
});
