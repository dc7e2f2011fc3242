// `stedi join --workers n`: n join processes in one consumer group, started and stopped as one
// command. Each owns the input partitions the group gives it, with the exactly-once of any member
// of the group (its own transactional writers, fenced on takeover); the command adds only the
// supervision: one Ctrl-C stops them all, the first failure stops the rest, and their output comes
// out as whole lines.

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Reporter } from "../../adapters/terminal.js";
import { type ErrorCode, StediError } from "../../errors.js";
import type { Lifecycle } from "../lifecycle.js";

/** The command line of one worker: this one without `--workers`. */
export function workerArguments(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === "--workers") {
      index += 1;
      continue;
    }
    if (arg.startsWith("--workers=")) continue;
    kept.push(arg);
  }
  return kept;
}

/**
 * A worker's diagnostic line as the command shows it, saying whose it is: a text line behind
 * `worker i: `, a JSON line (--log-format json) with a `worker` field first.
 */
export function workerLine(index: number, line: string): string {
  if (line.length === 0) return line;
  if (line.startsWith("{")) {
    try {
      const fields: unknown = JSON.parse(line);
      if (fields !== null && typeof fields === "object" && !Array.isArray(fields))
        return JSON.stringify({ worker: index, ...fields });
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return `worker ${index}: ${line}`;
}

type Exit = { index: number; code: number | null; signal: string | null };

/**
 * Whether a worker's exit is a failure: any but a clean one, except the end of a worker that the
 * command itself was stopping (one still starting has no handler yet and dies of the SIGTERM).
 */
export const isWorkerFailure = (exit: Exit, stopping: boolean): boolean =>
  exit.code !== 0 && !(stopping && exit.signal === "SIGTERM");

/** The command's failure for a failed worker, of the kind its exit code says. */
export function workerFailure(exit: Exit): StediError {
  const kinds: Record<number, ErrorCode> = { 2: "config", 3: "unavailable" };
  const how = exit.code === null ? `was stopped by ${exit.signal}` : `exited with code ${exit.code}`;
  return new StediError(
    (exit.code === null ? undefined : kinds[exit.code]) ?? "internal",
    `join: worker ${exit.index} ${how}; its own lines above say why`,
  );
}

type Worker = { index: number; child: ChildProcess; exited: Promise<Exit> };

/**
 * Runs `count` workers of this command until the lifecycle stops or they have all exited.
 * Resolves when all have exited; a failure of any is thrown as the command's failure (its own line
 * was already printed by the worker).
 */
export async function runJoinWorkers(options: {
  count: number;
  /** This process's command line after the node binary: the script and its arguments. */
  argv: readonly string[];
  reporter: Reporter;
  lifecycle: Lifecycle;
}): Promise<void> {
  const { count, reporter, lifecycle } = options;
  const [script, ...args] = options.argv;
  const workers: Worker[] = [];
  for (let index = 0; index < count; index += 1) {
    // Each in its own process group: a Ctrl-C at the terminal reaches this process alone, which
    // stops every worker once. A worker whose supervisor dies sees its channel close and stops.
    const child = spawn(process.execPath, [...process.execArgv, script as string, ...workerArguments(args)], {
      env: { ...process.env, STEDI_JOIN_WORKER: `${index}/${count}` },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      detached: true,
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY }).on(
      "line",
      (line) => process.stdout.write(`${line}\n`),
    );
    createInterface({ input: child.stderr as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY }).on(
      "line",
      (line) => process.stderr.write(`${workerLine(index, line)}\n`),
    );
    const exited = new Promise<Exit>((resolve) => {
      child.once("exit", (code, signal) => resolve({ index, code, signal }));
      child.once("error", () => resolve({ index, code: 1, signal: null }));
    });
    workers.push({ index, child, exited });
  }
  reporter.info(
    `join: ${count} workers in one consumer group (pids ${workers.map((worker) => worker.child.pid).join(", ")})`,
  );
  // A second Ctrl-C exits this process at once: the workers go with it.
  const killAll = () => {
    for (const { child } of workers)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  let stopping = false;
  void lifecycle.stopped.then(() => {
    stopping = true;
    for (const { child } of workers)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  });
  let firstFailure: Exit | undefined;
  for (const worker of workers) {
    void worker.exited.then((exit) => {
      if (!isWorkerFailure(exit, stopping) || firstFailure !== undefined) return;
      firstFailure = exit;
      reporter.warn(
        `join: worker ${exit.index} exited (${exit.signal ?? `code ${exit.code}`}); stopping the others`,
      );
      lifecycle.stop({ kind: "failure", error: workerFailure(exit) });
    });
  }
  await Promise.all(workers.map((worker) => worker.exited));
  process.off("exit", killAll);
  // Stopped by a signal or idle, every worker ended cleanly: so does the command.
  if (firstFailure !== undefined) throw workerFailure(firstFailure);
}
