// A write command as Redis propagates it to replicas → the original connector's record (contracts §1).
//
// The original connector was Kafka Connect around redis-replicator: each parsed command became one
// record, keyed by the command class's name, valued by Jackson's serialization of that class. The
// parsers here follow the redis-replicator version whose SetCommand has exactly the five fields of
// the contract (before `keepTtl`/`xatType` were added), including its blind spots:
//
// - `SET k v PXAT t` / `EXAT t` / `KEEPTTL` / `GET`: that parser knows only NX/XX/EX/PX, so these
//   come out as `"expiredType":"NONE","expiredValue":null`. Redis 7 propagates every SET with a
//   TTL (EX, PX, EXAT, SETEX, PSETEX) as `SET k v PXAT <epoch-ms>`, so against Redis 7 the original
//   never reported a SET's TTL; neither do we (later redis-replicator versions carry it in extra
//   `xatType`/`xatValue` fields, which the contract's consumers do not know).
// - `EXPIRE`/`PEXPIRE`/`EXPIREAT` arrive from Redis 7 as `PEXPIREAT k <epoch-ms>`: we emit what
//   arrives, `PExpireAtCommand {"key","ex"}`; EXPIRE/PEXPIRE/EXPIREAT are still mapped for masters
//   that propagate them verbatim (Redis ≤ 6).
// - `ZADD` GT/LT (Redis ≥ 6.2) have no field in the contract's ZAddCommand: accepted and not shown.
// - `HSET k f v f2 v2`: only the first pair, as the original's HSetCommand.
// - scores `inf`/`+inf`/`-inf`, which Redis accepts and Java's parser does not, are read as
//   ±Infinity (written `"Infinity"`, as Jackson quotes non-finite doubles).

import { bean, type JavaObject, JavaWritten, writeJava } from "./jackson.js";

/** One Kafka record of the `redis-server` topic: key and value as UTF-8 text. */
export type ConnectorRecord = { key: string; value: string };

/**
 * What one propagated command means:
 * - `record`: a write the connector publishes;
 * - `protocol`: replication plumbing (PING, REPLCONF, MULTI, EXEC), never a record nor a warning;
 * - `skipped`: a command the connector does not publish, or one it cannot read (with the reason).
 */
export type CommandOutcome =
  | { kind: "record"; name: string; record: ConnectorRecord }
  | { kind: "protocol"; name: string }
  | { kind: "skipped"; name: string; reason: string };

const commandPackage = "com.moilioncircle.redis.replicator.cmd.impl.";

/** Thrown inside a parser for arguments it cannot read; becomes a `skipped` outcome. */
class BadArguments extends Error {}

const text = (arg: Uint8Array) =>
  (Buffer.isBuffer(arg) ? arg : Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength)).toString("latin1");
const upper = (arg: Uint8Array) => text(arg).toUpperCase();

const int32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const int64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/** Java's Integer.valueOf / Long.valueOf: optional sign, decimal digits, in range. */
function javaInteger(arg: Uint8Array | undefined, what: string, range = int64): bigint {
  const digits = arg === undefined ? "" : text(arg);
  if (!/^[+-]?\d+$/.test(digits))
    throw new BadArguments(`${what} ${JSON.stringify(digits)} is not an integer`);
  const value = BigInt(digits);
  if (value < range.min || value > range.max) throw new BadArguments(`${what} ${digits} is out of range`);
  return value;
}

const decimalPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A score or increment as Redis accepts it (decimal, exponent, inf); NaN is refused, as Redis does. */
function javaDouble(arg: Uint8Array | undefined, what: string): number {
  const written = arg === undefined ? "" : text(arg);
  const infinity = /^([+-]?)inf(?:inity)?$/i.exec(written);
  if (infinity) return infinity[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (!decimalPattern.test(written))
    throw new BadArguments(`${what} ${JSON.stringify(written)} is not a number`);
  return Number(written);
}

function required(args: Uint8Array[], index: number, what: string): Uint8Array {
  const arg = args[index];
  if (arg === undefined) throw new BadArguments(`missing ${what}`);
  return arg;
}

/** The arguments from `from` on; at least one. */
function rest(args: Uint8Array[], from: number, what: string): Uint8Array[] {
  const values = args.slice(from);
  if (values.length === 0) throw new BadArguments(`missing ${what}`);
  return values;
}

type Parser = { className: string; parse: (args: Uint8Array[]) => JavaObject };

const keyAndList = (field: string) => (args: Uint8Array[]) =>
  bean({ key: required(args, 1, "key"), [field]: rest(args, 2, field) });

const keyAndLong =
  (what: string, range = int64) =>
  (args: Uint8Array[]) =>
    bean({ key: required(args, 1, "key"), ex: javaInteger(args[2], what, range) });

const keyLongValue = (what: string, range: { min: bigint; max: bigint }) => (args: Uint8Array[]) =>
  bean({
    key: required(args, 1, "key"),
    ex: javaInteger(args[2], what, range),
    value: required(args, 3, "value"),
  });

/** SetParser of the contract's redis-replicator version: NX/XX, EX/PX; everything else ignored. */
function parseSet(args: Uint8Array[]): JavaObject {
  const key = required(args, 1, "key");
  const value = required(args, 2, "value");
  let existType = "NONE";
  let expiredType = "NONE";
  let expiredValue: bigint | null = null;
  let existSeen = false;
  let expirySeen = false;
  for (let index = 3; index < args.length; index += 1) {
    const option = upper(args[index] as Uint8Array);
    if (!existSeen && (option === "NX" || option === "XX")) {
      existType = option;
      existSeen = true;
    } else if (!expirySeen && (option === "EX" || option === "PX")) {
      expiredType = option === "EX" ? "SECOND" : "MS";
      index += 1;
      expiredValue = javaInteger(args[index], option);
      expirySeen = true;
    }
  }
  return bean({ key, value, expiredType, expiredValue, existType });
}

/** ZAddParser: flags before the first score, then score/member pairs; both entry fields written. */
function parseZAdd(args: Uint8Array[]): JavaObject {
  const key = required(args, 1, "key");
  let existType = "NONE";
  let ch = false;
  let incr = false;
  let index = 2;
  for (; index < args.length; index += 1) {
    const flag = upper(args[index] as Uint8Array);
    if (existType === "NONE" && (flag === "NX" || flag === "XX")) existType = flag;
    else if (flag === "CH") ch = true;
    else if (flag === "INCR") incr = true;
    else if (flag !== "GT" && flag !== "LT") break;
  }
  const pairs = args.slice(index);
  if (pairs.length === 0 || pairs.length % 2 !== 0)
    throw new BadArguments("score/member pairs do not pair up");
  const entries: JavaObject[] = [];
  for (let pair = 0; pair < pairs.length; pair += 2) {
    const score = javaDouble(pairs[pair], "score");
    entries.push(bean({ element: pairs[pair + 1] as Uint8Array, score }));
  }
  // Jackson saw the field `zSetEntries` and, through the getter getZSetEntries(), `zsetEntries`.
  const written = new JavaWritten(writeJava(entries));
  return bean({ key, existType, ch, incr, zSetEntries: written, zsetEntries: written });
}

const flush = (args: Uint8Array[]) => bean({ async: args.slice(1).some((arg) => upper(arg) === "ASYNC") });

const parsers = new Map<string, Parser>(
  Object.entries({
    ZADD: { className: "ZAddCommand", parse: parseZAdd },
    SET: { className: "SetCommand", parse: parseSet },
    SETEX: { className: "SetExCommand", parse: keyLongValue("seconds", int32) },
    PSETEX: { className: "PSetExCommand", parse: keyLongValue("milliseconds", int64) },
    DEL: { className: "DelCommand", parse: (args) => bean({ keys: rest(args, 1, "keys") }) },
    UNLINK: { className: "UnLinkCommand", parse: (args) => bean({ keys: rest(args, 1, "keys") }) },
    EXPIRE: { className: "ExpireCommand", parse: keyAndLong("seconds", int32) },
    PEXPIRE: { className: "PExpireCommand", parse: keyAndLong("milliseconds") },
    EXPIREAT: { className: "ExpireAtCommand", parse: keyAndLong("timestamp") },
    PEXPIREAT: { className: "PExpireAtCommand", parse: keyAndLong("timestamp") },
    ZREM: { className: "ZRemCommand", parse: keyAndList("members") },
    ZINCRBY: {
      className: "ZIncrByCommand",
      parse: (args) =>
        bean({
          key: required(args, 1, "key"),
          increment: javaDouble(args[2], "increment"),
          member: required(args, 3, "member"),
        }),
    },
    ZREMRANGEBYSCORE: {
      className: "ZRemRangeByScoreCommand",
      parse: (args) =>
        bean({ key: required(args, 1, "key"), min: required(args, 2, "min"), max: required(args, 3, "max") }),
    },
    HSET: {
      className: "HSetCommand",
      parse: (args) =>
        bean({
          key: required(args, 1, "key"),
          field: required(args, 2, "field"),
          value: required(args, 3, "value"),
        }),
    },
    SADD: { className: "SAddCommand", parse: keyAndList("members") },
    SREM: { className: "SRemCommand", parse: keyAndList("members") },
    LPUSH: { className: "LPushCommand", parse: keyAndList("values") },
    RPUSH: { className: "RPushCommand", parse: keyAndList("values") },
    SELECT: {
      className: "SelectCommand",
      parse: (args) => bean({ index: javaInteger(args[1], "database index", int32) }),
    },
    FLUSHDB: { className: "FlushDBCommand", parse: flush },
    FLUSHALL: { className: "FlushAllCommand", parse: flush },
  } satisfies Record<string, Parser>),
);

/** Replication plumbing and transaction brackets: not data, not worth a warning. */
const protocolCommands = new Set(["PING", "REPLCONF", "MULTI", "EXEC"]);

/** The Kafka record key of a command class, e.g. `…cmd.impl.ZAddCommand`. */
export const commandClassName = (simpleName: string) => `${commandPackage}${simpleName}`;

/** The command names this module turns into records. */
export const publishedCommands: readonly string[] = [...parsers.keys()];

/**
 * Turns one propagated command (its arguments as bytes, name first) into the connector's record.
 * Never throws: unknown commands and unreadable arguments are `skipped` with the reason.
 */
export function encodeCommandRecord(args: readonly Uint8Array[]): CommandOutcome {
  const first = args[0];
  if (first === undefined) return { kind: "skipped", name: "", reason: "empty command" };
  const name = upper(first);
  if (protocolCommands.has(name)) return { kind: "protocol", name };
  const parser = parsers.get(name);
  if (!parser) return { kind: "skipped", name, reason: "not a command the connector publishes" };
  try {
    const value = writeJava(parser.parse([...args]));
    return { kind: "record", name, record: { key: commandClassName(parser.className), value } };
  } catch (error) {
    if (!(error instanceof BadArguments)) throw error;
    return { kind: "skipped", name, reason: error.message };
  }
}
