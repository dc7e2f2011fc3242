// A small Redis command client over one socket (TCP or TLS): enough for stedi's writes and reads.

import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { describeEndpoint, type RedisEndpoint } from "../config/redis-url.js";
import { encodeCommand, RespReader, type RespValue } from "../core/redis/resp.js";
import { describeCause, StediError, unavailableError } from "../errors.js";

export type RedisClient = {
  endpoint: RedisEndpoint;
  /** Sends one command; rejects with a StediError on a Redis error reply or a lost connection. */
  command(args: (string | Buffer | number)[]): Promise<RespValue>;
  /** Sends several commands in one write and resolves with their replies in order. */
  pipeline(commands: (string | Buffer | number)[][]): Promise<RespValue[]>;
  close(): Promise<void>;
};

const startHint = "is Redis running? For the local stack: npm run stack:up";

/** Opens a socket to the endpoint within `timeoutMs`. */
export function openSocket(endpoint: RedisEndpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = endpoint.tls
      ? connectTls({ host: endpoint.host, port: endpoint.port, servername: endpoint.host })
      : connectTcp({ host: endpoint.host, port: endpoint.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        unavailableError(`cannot reach Redis at ${describeEndpoint(endpoint)} within ${timeoutMs / 1000} s`, {
          hint: startHint,
        }),
      );
    }, timeoutMs);
    socket.once(endpoint.tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(
        unavailableError(`cannot reach Redis at ${describeEndpoint(endpoint)}: ${describeCause(error)}`, {
          hint: startHint,
          cause: error,
        }),
      );
    });
  });
}

/** The AUTH and SELECT commands an endpoint needs before anything else. */
export function handshakeCommands(endpoint: RedisEndpoint): (string | number)[][] {
  const commands: (string | number)[][] = [];
  if (endpoint.password !== undefined) {
    commands.push(
      endpoint.username ? ["AUTH", endpoint.username, endpoint.password] : ["AUTH", endpoint.password],
    );
  }
  if (endpoint.db !== 0) commands.push(["SELECT", endpoint.db]);
  return commands;
}

export async function createRedisClient(endpoint: RedisEndpoint, timeoutMs = 10_000): Promise<RedisClient> {
  const socket = await openSocket(endpoint, timeoutMs);
  const reader = new RespReader();
  const waiting: { resolve: (value: RespValue) => void; reject: (error: Error) => void }[] = [];
  let failure: StediError | undefined;

  const failAll = (error: StediError) => {
    failure ??= error;
    for (const pending of waiting.splice(0)) pending.reject(failure);
  };
  socket.on("data", (chunk: Buffer) => {
    try {
      for (const value of reader.push(chunk)) waiting.shift()?.resolve(value);
    } catch (error) {
      failAll(
        unavailableError(
          `Redis at ${describeEndpoint(endpoint)} sent bytes that are not RESP: ${describeCause(error)}`,
        ),
      );
      socket.destroy();
    }
  });
  socket.on("error", (error) =>
    failAll(unavailableError(`Redis connection lost: ${describeCause(error)}`, { hint: startHint })),
  );
  socket.on("close", () =>
    failAll(
      unavailableError(`Redis at ${describeEndpoint(endpoint)} closed the connection`, { hint: startHint }),
    ),
  );

  const send = (args: (string | Buffer | number)[]) =>
    new Promise<RespValue>((resolve, reject) => {
      if (failure) return reject(failure);
      waiting.push({ resolve, reject });
      socket.write(encodeCommand(args));
    });
  const checked = async (args: (string | Buffer | number)[]) => {
    const reply = await send(args);
    if (reply.type === "error") {
      // Never echo arguments: AUTH carries a password.
      throw new StediError("unavailable", `Redis refused ${String(args[0]).toUpperCase()}: ${reply.value}`);
    }
    return reply;
  };

  try {
    for (const handshake of handshakeCommands(endpoint)) await checked(handshake);
  } catch (error) {
    socket.destroy();
    throw error;
  }

  return {
    endpoint,
    command: checked,
    pipeline: (commands) => Promise.all(commands.map((args) => checked(args))),
    close: () =>
      new Promise((resolve) => {
        if (socket.destroyed) return resolve();
        socket.end(() => resolve());
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 1000).unref();
      }),
  };
}
