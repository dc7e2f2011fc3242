import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { encodeCommandRecord } from "./command-record.js";

const b = (text: string) => Buffer.from(text, "utf8").toString("base64");
const cmd = (...args: (string | Buffer)[]) =>
  args.map((arg) => (Buffer.isBuffer(arg) ? arg : Buffer.from(arg)));
const impl = (name: string) => `com.moilioncircle.redis.replicator.cmd.impl.${name}`;

const sam =
  '{"customerName":"Sam Test","email":"sam.test@test.com","phone":"8015551212","birthDay":"2001-01-03"}';

describe("encodeCommandRecord", () => {
  it("turns the reference ZADD into exactly the fixture's bytes", () => {
    const fixture = readFileSync(dataPath("fixtures", "redis-server", "zadd-customer-sam-test.json"), "utf8");
    // redis-cli sends the name as typed; Redis propagates it unchanged.
    expect(encodeCommandRecord(cmd("zadd", "Customer", "0", sam))).toEqual({
      kind: "record",
      name: "ZADD",
      record: { key: impl("ZAddCommand"), value: fixture },
    });
  });

  const entries = (...pairs: [string, string][]) =>
    `[${pairs.map(([element, score]) => `{"element":"${b(element)}","score":${score}}`).join(",")}]`;
  const zadd = (flags: string, list: string) =>
    `{"key":"${b("z")}",${flags},"zSetEntries":${list},"zsetEntries":${list}}`;

  it.each([
    [
      "ZADD, several pairs",
      cmd("ZADD", "z", "1", "a", "2.5", "b"),
      "ZAddCommand",
      zadd('"existType":"NONE","ch":false,"incr":false', entries(["a", "1.0"], ["b", "2.5"])),
    ],
    [
      "ZADD XX CH INCR",
      cmd("zadd", "z", "xx", "ch", "incr", "2", "m"),
      "ZAddCommand",
      zadd('"existType":"XX","ch":true,"incr":true', entries(["m", "2.0"])),
    ],
    [
      "ZADD NX",
      cmd("ZADD", "z", "NX", "1e7", "m"),
      "ZAddCommand",
      zadd('"existType":"NX","ch":false,"incr":false', entries(["m", "1.0E7"])),
    ],
    [
      "ZADD GT (no field for it)",
      cmd("zadd", "z", "gt", "5", "m", "1", "n"),
      "ZAddCommand",
      zadd('"existType":"NONE","ch":false,"incr":false', entries(["m", "5.0"], ["n", "1.0"])),
    ],
    [
      "ZADD -inf, 1e-4",
      cmd("ZADD", "z", "-inf", "m", "0.0001", "n"),
      "ZAddCommand",
      zadd('"existType":"NONE","ch":false,"incr":false', entries(["m", '"-Infinity"'], ["n", "1.0E-4"])),
    ],
    [
      "SET plain",
      cmd("set", "k", "v"),
      "SetCommand",
      `{"key":"${b("k")}","value":"${b("v")}","expiredType":"NONE","expiredValue":null,"existType":"NONE"}`,
    ],
    [
      "SET NX",
      cmd("set", "f", "6", "nx"),
      "SetCommand",
      `{"key":"${b("f")}","value":"${b("6")}","expiredType":"NONE","expiredValue":null,"existType":"NX"}`,
    ],
    [
      "SET EX",
      cmd("SET", "k", "v", "EX", "100"),
      "SetCommand",
      `{"key":"${b("k")}","value":"${b("v")}","expiredType":"SECOND","expiredValue":100,"existType":"NONE"}`,
    ],
    [
      "SET XX PX",
      cmd("SET", "k", "v", "XX", "PX", "1500"),
      "SetCommand",
      `{"key":"${b("k")}","value":"${b("v")}","expiredType":"MS","expiredValue":1500,"existType":"XX"}`,
    ],
    // Redis 7 turns EX/PX/EXAT/SETEX/PSETEX into PXAT, which the original's SetParser did not know.
    [
      "SET PXAT (Redis 7's form of every TTL)",
      cmd("SET", "b", "2", "PXAT", "1795423561611"),
      "SetCommand",
      `{"key":"${b("b")}","value":"${b("2")}","expiredType":"NONE","expiredValue":null,"existType":"NONE"}`,
    ],
    [
      "SET KEEPTTL (INCRBYFLOAT's form)",
      cmd("SET", "fl", "1.5", "KEEPTTL"),
      "SetCommand",
      `{"key":"${b("fl")}","value":"${b("1.5")}","expiredType":"NONE","expiredValue":null,"existType":"NONE"}`,
    ],
    [
      "SET NX EXAT",
      cmd("SET", "k", "v", "NX", "EXAT", "2000000000"),
      "SetCommand",
      `{"key":"${b("k")}","value":"${b("v")}","expiredType":"NONE","expiredValue":null,"existType":"NX"}`,
    ],
    [
      "SETEX",
      cmd("SETEX", "g", "100", "v"),
      "SetExCommand",
      `{"key":"${b("g")}","ex":100,"value":"${b("v")}"}`,
    ],
    [
      "PSETEX",
      cmd("PSETEX", "h", "1000", "v"),
      "PSetExCommand",
      `{"key":"${b("h")}","ex":1000,"value":"${b("v")}"}`,
    ],
    ["DEL", cmd("del", "b", "c"), "DelCommand", `{"keys":["${b("b")}","${b("c")}"]}`],
    ["DEL of an expired key", cmd("DEL", "short"), "DelCommand", `{"keys":["${b("short")}"]}`],
    ["UNLINK", cmd("unlink", "d"), "UnLinkCommand", `{"keys":["${b("d")}"]}`],
    ["EXPIRE", cmd("EXPIRE", "a", "100"), "ExpireCommand", `{"key":"${b("a")}","ex":100}`],
    ["PEXPIRE", cmd("PEXPIRE", "a", "100000"), "PExpireCommand", `{"key":"${b("a")}","ex":100000}`],
    [
      "EXPIREAT",
      cmd("EXPIREAT", "a", "2000000000"),
      "ExpireAtCommand",
      `{"key":"${b("a")}","ex":2000000000}`,
    ],
    [
      "PEXPIREAT (Redis 7's form of EXPIRE and PEXPIRE)",
      cmd("PEXPIREAT", "a", "1795423561700"),
      "PExpireAtCommand",
      `{"key":"${b("a")}","ex":1795423561700}`,
    ],
    [
      "PEXPIREAT with a Redis 7 flag",
      cmd("PEXPIREAT", "a", "1795423561700", "NX"),
      "PExpireAtCommand",
      `{"key":"${b("a")}","ex":1795423561700}`,
    ],
    [
      "ZREM",
      cmd("zrem", "z", "n", "o"),
      "ZRemCommand",
      `{"key":"${b("z")}","members":["${b("n")}","${b("o")}"]}`,
    ],
    [
      "ZINCRBY",
      cmd("zincrby", "z", "1.5", "m"),
      "ZIncrByCommand",
      `{"key":"${b("z")}","increment":1.5,"member":"${b("m")}"}`,
    ],
    [
      "ZINCRBY integral",
      cmd("ZINCRBY", "z", "-3", "m"),
      "ZIncrByCommand",
      `{"key":"${b("z")}","increment":-3.0,"member":"${b("m")}"}`,
    ],
    [
      "ZREMRANGEBYSCORE",
      cmd("zremrangebyscore", "z", "-inf", "(1"),
      "ZRemRangeByScoreCommand",
      `{"key":"${b("z")}","min":"${b("-inf")}","max":"${b("(1")}"}`,
    ],
    [
      "HSET (first pair only)",
      cmd("hset", "hh", "f", "v", "f2", "v2"),
      "HSetCommand",
      `{"key":"${b("hh")}","field":"${b("f")}","value":"${b("v")}"}`,
    ],
    [
      "SADD",
      cmd("sadd", "s", "a", "b"),
      "SAddCommand",
      `{"key":"${b("s")}","members":["${b("a")}","${b("b")}"]}`,
    ],
    ["SREM", cmd("srem", "s", "a"), "SRemCommand", `{"key":"${b("s")}","members":["${b("a")}"]}`],
    [
      "LPUSH",
      cmd("lpush", "l", "a", "b"),
      "LPushCommand",
      `{"key":"${b("l")}","values":["${b("a")}","${b("b")}"]}`,
    ],
    ["RPUSH", cmd("rpush", "l", "c"), "RPushCommand", `{"key":"${b("l")}","values":["${b("c")}"]}`],
    ["SELECT", cmd("SELECT", "0"), "SelectCommand", `{"index":0}`],
    ["SELECT 15", cmd("SELECT", "15"), "SelectCommand", `{"index":15}`],
    ["FLUSHDB", cmd("flushdb"), "FlushDBCommand", `{"async":false}`],
    ["FLUSHALL", cmd("flushall"), "FlushAllCommand", `{"async":false}`],
    ["FLUSHALL ASYNC", cmd("FLUSHALL", "ASYNC"), "FlushAllCommand", `{"async":true}`],
    ["FLUSHDB SYNC", cmd("FLUSHDB", "SYNC"), "FlushDBCommand", `{"async":false}`],
  ])("%s", (_, args, className, value) => {
    expect(encodeCommandRecord(args)).toMatchObject({
      kind: "record",
      record: { key: impl(className), value },
    });
  });

  it("writes binary keys and members as padded base64, byte for byte", () => {
    const key = Buffer.from([0x00, 0xff, 0xfe]);
    const member = Buffer.from([0x80]);
    expect(encodeCommandRecord(cmd("SADD", key, member))).toMatchObject({
      record: { value: '{"key":"AP/+","members":["gA=="]}' },
    });
  });

  it.each([
    [cmd("PING"), "PING"],
    [cmd("REPLCONF", "GETACK", "*"), "REPLCONF"],
    [cmd("MULTI"), "MULTI"],
    [cmd("exec"), "EXEC"],
  ])("treats %s as protocol, not data", (args, name) => {
    expect(encodeCommandRecord(args)).toEqual({ kind: "protocol", name });
  });

  it.each([
    [cmd("hmset", "hh", "a", "b"), "not a command the connector publishes"],
    [cmd("incr", "cnt"), "not a command the connector publishes"],
    [cmd("ZADD", "z", "1", "a", "2"), "score/member pairs do not pair up"],
    [cmd("ZADD", "z", "one", "a"), 'score "one" is not a number'],
    [cmd("SETEX", "k", "99999999999", "v"), "seconds 99999999999 is out of range"],
    [cmd("SET", "k"), "missing value"],
    [cmd("DEL"), "missing keys"],
    [[], "empty command"],
  ])("skips %s with the reason", (args, reason) => {
    expect(encodeCommandRecord(args)).toMatchObject({ kind: "skipped", reason });
  });
});
