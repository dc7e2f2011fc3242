// The Redis replication link: connects as a replica (PSYNC), keeps the master happy with ACKs, and
// hands every decoded event (sync, RDB, command) to the caller in order.

import type { Socket } from "node:net";
import { describeEndpoint, type RedisEndpoint } from "../config/redis-url.js";
import { type ReplicationEvent, ReplicationStreamDecoder } from "../core/redis/replication-stream.js";
import { encodeCommand, RespReader, type RespValue } from "../core/redis/resp.js";
import { describeCause, StediError, unavailableError } from "../errors.js";
import { createRedisClient, handshakeCommands, openSocket, type RedisClient } from "./redis.js";

/** Where a replica stands in a master's history: replication id and the offset it has processed. */
export type ReplicationPosition = { replid: string; offset: number };

export type ReplicationLink = {
  /** Resolves once the link is down, with the cause; undefined after `close()`. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  /** Stops reading (TCP back-pressure reaches Redis); ACKs go on. */
  pause(): void;
  resume(): void;
  close(): void;
};

/** Redis pings replicas every 10 s by default (repl-ping-replica-period) and gives up after 60 s. */
const silenceLimitMs = 60_000;
const ackIntervalMs = 1000;

const refused = (what: string, message: string) =>
  new StediError("unavailable", `Redis refused ${what}: ${message}`, {
    hint:
      what === "AUTH" || /^(NOAUTH|WRONGPASS)/.test(message)
        ? "check the user and password in the Redis URL"
        : "the Redis user needs the PSYNC and REPLCONF commands (replication rights)",
  });

/**
 * Connects to `endpoint` as a replica and asks to continue after `from` (`PSYNC <replid> <offset+1>`),
 * or for a full resync when `from` is undefined (`PSYNC ? -1`).
 *
 * Resolves once the master accepted (FULLRESYNC or CONTINUE, already passed to `onEvent`); from
 * then on every event goes to `onEvent` synchronously, in stream order. Rejects with an
 * `unavailable` StediError when Redis cannot be reached within `connectTimeoutMs` or refuses AUTH,
 * REPLCONF or PSYNC (e.g. LOADING). `onEvent` must not throw; if it does, the link closes with it.
 */
export async function openReplication(options: {
  endpoint: RedisEndpoint;
  from: ReplicationPosition | undefined;
  connectTimeoutMs: number;
  onEvent: (event: ReplicationEvent) => void;
}): Promise<ReplicationLink> {
  const { endpoint, from, connectTimeoutMs, onEvent } = options;
  const where = describeEndpoint(endpoint);
  const socket = await openSocket(endpoint, connectTimeoutMs);
  socket.setKeepAlive(true, 10_000);

  let settleClosed!: (cause: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => {
    settleClosed = resolve;
  });
  let down = false;
  let ackTimer: NodeJS.Timeout | undefined;
  // Our own ACKs count as activity for socket.setTimeout, so silence from the master is timed here.
  let lastData = Date.now();
  let paused = false;
  const watchdog = setInterval(() => {
    if (!paused && Date.now() - lastData > silenceLimitMs)
      shutDown(unavailableError(`nothing from ${where} for ${silenceLimitMs / 1000} s`));
  }, 1000);
  const shutDown = (cause: Error | undefined) => {
    if (down) return;
    down = true;
    clearInterval(ackTimer);
    clearInterval(watchdog);
    socket.destroy();
    settleClosed(cause);
  };
  socket.on("data", () => {
    lastData = Date.now();
  });
  socket.on("error", (error) => shutDown(unavailableError(`connection lost: ${describeCause(error)}`)));
  socket.on("close", () => shutDown(unavailableError(`${where} closed the connection`)));

  try {
    await handshake(socket, endpoint, connectTimeoutMs, closed);
  } catch (error) {
    shutDown(undefined);
    throw error;
  }

  // From PSYNC on, every byte belongs to the replication stream.
  const decoder = new ReplicationStreamDecoder(from?.offset ?? 0);
  const ack = () => {
    if (!down) socket.write(encodeCommand(["REPLCONF", "ACK", decoder.offset]));
  };
  const accepted = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      try {
        for (const event of decoder.push(chunk)) {
          if (event.kind === "refused") {
            reject(refused("PSYNC", event.message));
            shutDown(undefined);
            return;
          }
          onEvent(event);
          if (event.kind === "fullresync" || event.kind === "continue") resolve();
          if (event.kind === "command" && isGetAck(event.args)) ack();
          // After a diskless RDB the master streams nothing until the first ACK; then one a second.
          if (event.kind === "rdb" || event.kind === "continue") {
            ack();
            ackTimer ??= setInterval(ack, ackIntervalMs);
          }
        }
      } catch (error) {
        shutDown(unavailableError(`replication stream from ${where} failed: ${describeCause(error)}`));
      }
    };
    socket.on("data", onData);
    void closed.then((cause) => reject(cause ?? unavailableError(`${where} closed the connection`)));
  });
  const psync = from ? ["PSYNC", from.replid, from.offset + 1] : ["PSYNC", "?", -1];
  socket.write(encodeCommand(psync));
  await accepted;

  return {
    closed,
    pause: () => {
      paused = true;
      socket.pause();
    },
    resume: () => {
      paused = false;
      lastData = Date.now();
      socket.resume();
    },
    close: () => shutDown(undefined),
  };
}

const isGetAck = (args: Buffer[]) =>
  args.length >= 2 &&
  args[0]?.toString("latin1").toUpperCase() === "REPLCONF" &&
  args[1]?.toString("latin1").toUpperCase() === "GETACK";

/**
 * AUTH, then REPLCONF listening-port and capabilities, one at a time: Redis refuses PSYNC while
 * earlier replies are still unsent ("SYNC and PSYNC are invalid with pending output").
 */
async function handshake(
  socket: Socket,
  endpoint: RedisEndpoint,
  timeoutMs: number,
  closed: Promise<Error | undefined>,
): Promise<void> {
  const reader = new RespReader();
  let waiting: ((reply: RespValue) => void) | undefined;
  const onData = (chunk: Buffer) => {
    for (const reply of reader.push(chunk)) waiting?.(reply);
  };
  socket.on("data", onData);
  const ask = async (args: (string | number)[], what: string) => {
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      new Promise<RespValue>((resolve) => {
        waiting = resolve;
        socket.write(encodeCommand(args));
      }),
      closed.then((cause) => {
        throw cause ?? unavailableError(`${describeEndpoint(endpoint)} closed the connection`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              unavailableError(
                `${describeEndpoint(endpoint)} did not answer ${what} within ${timeoutMs / 1000} s`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    // Never echo the arguments: AUTH carries a password.
    if (reply.type === "error") throw refused(what, reply.value);
  };
  try {
    // Replication is server-wide: the URL's database (a SELECT) does not apply here.
    for (const auth of handshakeCommands(endpoint).filter(([name]) => name === "AUTH"))
      await ask(auth, "AUTH");
    await ask(["REPLCONF", "listening-port", socket.localPort ?? 0], "REPLCONF listening-port");
    await ask(["REPLCONF", "capa", "eof", "capa", "psync2"], "REPLCONF capa");
  } finally {
    socket.off("data", onData);
  }
}

/**
 * The master's current replication offset (`master_repl_offset` of INFO replication), asked over
 * a separate connection: how far a replica must read to have every write acknowledged so far.
 * Undefined when Redis cannot tell within `timeoutMs`.
 */
export async function readMasterOffset(
  endpoint: RedisEndpoint,
  timeoutMs: number,
): Promise<number | undefined> {
  let client: RedisClient | undefined;
  try {
    client = await createRedisClient({ ...endpoint, db: 0 }, timeoutMs);
    const reply = await Promise.race([
      client.command(["INFO", "replication"]),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref()),
    ]);
    const text = reply?.type === "bulk" ? reply.value?.toString("latin1") : undefined;
    const match = text ? /^master_repl_offset:(\d+)/m.exec(text) : null;
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    await client?.close();
  }
}
