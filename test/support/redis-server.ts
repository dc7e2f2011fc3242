// A private redis-server per test file, on a free port, that tests may flush, kill and restart
// without disturbing the shared Redis on 6379.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type PrivateRedis = {
  port: number;
  url: string;
  /** Its working directory: `SAVE` writes dump.rdb here, and a restart loads it. */
  dir: string;
  /** Runs redis-cli against it with these arguments; resolves with its stdout, rejects on an error reply. */
  cli(...args: string[]): Promise<string>;
  /** SIGKILL: no shutdown save, the way a crash or an OOM kill ends it. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (loading dump.rdb if one was saved). */
  restart(): Promise<void>;
  /** Kills it and deletes its directory. */
  stop(): Promise<void>;
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Starts redis-server without persistence on a free port. `repl-diskless-sync-delay 0`: a full
 * resync starts at once instead of after the default 5 s wait for more replicas.
 */
export async function startPrivateRedis(options: { password?: string } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "stedi-redis-"));
  let child: ChildProcess | undefined;
  const auth = options.password === undefined ? [] : ["--no-auth-warning", "-a", options.password];
  const cli = async (...args: string[]) => {
    const { stdout } = await run("redis-cli", ["-p", String(port), ...auth, ...args], { encoding: "utf8" });
    if (/^(ERR|WRONGTYPE|NOAUTH|LOADING)\b/.test(stdout))
      throw new Error(`redis-cli ${args[0]}: ${stdout.trim()}`);
    return stdout;
  };

  const start = async () => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--logfile",
      join(dir, "redis.log"),
    ];
    args.push("--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0");
    if (options.password !== undefined) args.push("--requirepass", options.password);
    const started = spawn("redis-server", args, { stdio: "ignore" });
    child = started;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`redis-server on ${port} exited (see ${dir}/redis.log)`);
      const pong = await cli("ping").catch(() => "");
      if (pong.trim() === "PONG") return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };
  process.once("exit", () => child?.kill("SIGKILL"));

  await start();
  return {
    port,
    url: `redis://${options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`}127.0.0.1:${port}`,
    dir,
    cli,
    kill,
    restart: start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
