// Child processes of the bench (the join under test, the copy) and their memory, from /proc.
// Every child is registered so that an interrupted or failed bench never leaves one behind.

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { copyScript, projectRoot } from "./paths.js";

const live = new Set<ChildProcess>();
let closed = false;

/** From now on spawnNode throws: the bench is on its way out and starts nothing new. */
export function refuseNewChildren(): void {
  closed = true;
}

export type Spawned = {
  child: ChildProcess;
  pid: number;
  /** Date.now() just before the spawn: the start of "time to first output". */
  startedAt: number;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
};

/** Spawns `node <args>` with stdout ignored and stderr passed through, registered for cleanup. */
export function spawnNode(args: string[], label: string): Spawned {
  if (closed) throw new Error("the bench is stopping");
  const startedAt = Date.now();
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  live.add(child);
  // The child's own messages go to the bench's stderr, prefixed so they can be told apart.
  let partial = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim() !== "") process.stderr.write(`  [${label}] ${line}\n`);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", (error) => {
      live.delete(child);
      reject(error);
    });
    child.once("exit", (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${label}`);
  return { child, pid: child.pid, startedAt, exited };
}

/** `node bin/stedi.js join …` exactly as users run it; without exitOnIdleMs it runs until stopped. */
export function spawnJoin(options: {
  projectRoot: string;
  brokers: string[];
  redisTopic: string;
  eventsTopic: string;
  outputTopic: string;
  dlqTopic: string;
  group: string;
  exitOnIdleMs?: number;
  /** Where the join keeps its customer checkpoint (--state-dir); none when absent. */
  stateDir?: string;
  nodeArgs: string[];
  /** `--workers`: this many join processes in one group (1: the usual single process). */
  workers?: number;
}): Spawned {
  return spawnNode(
    [
      ...options.nodeArgs,
      join(options.projectRoot, "bin", "stedi.js"),
      "join",
      "--brokers",
      options.brokers.join(","),
      "--redis-topic",
      options.redisTopic,
      "--events-topic",
      options.eventsTopic,
      "--output-topic",
      options.outputTopic,
      "--dlq-topic",
      options.dlqTopic,
      "--group",
      options.group,
      ...(options.exitOnIdleMs === undefined ? [] : ["--exit-on-idle", String(options.exitOnIdleMs)]),
      ...(options.stateDir === undefined ? [] : ["--state-dir", options.stateDir]),
      ...((options.workers ?? 1) > 1 ? ["--workers", String(options.workers)] : []),
      "--no-log",
    ],
    "stedi join",
  );
}

/** The compiled `copy.js`: the pipe limit, copying `from` to `to` until `expect` records are copied. */
export function spawnCopy(options: {
  brokers: string[];
  from: string;
  to: string;
  group: string;
  expect: number;
}): Spawned {
  return spawnNode(
    [
      copyScript,
      "--brokers",
      options.brokers.join(","),
      "--from",
      options.from,
      "--to",
      options.to,
      "--group",
      options.group,
      "--expect",
      String(options.expect),
    ],
    "copy",
  );
}

/**
 * Runs a peer's setup script (bench/<peer>/setup.sh: install or build on demand), its progress on stderr
 * going to `log`, and resolves with what it printed on stdout. Throws when it fails.
 */
export async function runSetupScript(script: string, log: (line: string) => void): Promise<string> {
  const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  createInterface({ input: child.stderr }).on("line", log);
  const code = await new Promise<number | null>((done) => child.on("close", done));
  if (code !== 0) {
    throw new Error(`${relative(projectRoot, script)} failed (exit ${code}); see its error above`);
  }
  return stdout;
}

/** Waits for a child to exit; SIGTERM after `timeoutMs`, SIGKILL 10 s later. Resolves with its code. */
export async function waitOrStop(spawned: Spawned, timeoutMs: number): Promise<number | null> {
  const timer = setTimeout(() => spawned.child.kill("SIGTERM"), timeoutMs);
  const killer = setTimeout(() => spawned.child.kill("SIGKILL"), timeoutMs + 10_000);
  try {
    return await spawned.exited;
  } finally {
    clearTimeout(timer);
    clearTimeout(killer);
  }
}

/** Whether a child is still running (a process killed by a signal has no exit code either). */
export const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Asks a child to stop (SIGTERM: finish the batch, commit, exit) and waits, killing it after graceMs. */
export async function stop(spawned: Spawned, graceMs = 15_000): Promise<number | null> {
  if (!isRunning(spawned.child)) return spawned.child.exitCode;
  spawned.child.kill("SIGTERM");
  return waitOrStop(spawned, graceMs);
}

/** Process groups of detached children (the Spark driver and its JVM), stopped as a whole. */
const groups = new Set<number>();

/** Signals a whole process group; false when it has gone (signal 0 only asks). */
export function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

/** Registers a detached child's process group for cleanup; returns the call that forgets it. */
export function trackGroup(group: number): () => void {
  groups.add(group);
  return () => groups.delete(group);
}

/** Signals every child and group still running; with SIGKILL it is final (used on the way out). */
export function signalAll(signal: NodeJS.Signals): number {
  for (const child of live) child.kill(signal);
  for (const group of groups) signalGroup(group, signal);
  return liveChildren();
}

export const liveChildren = (): number =>
  live.size + [...groups].filter((group) => signalGroup(group, 0)).length;

/** VmRSS and VmHWM of a process in MiB; undefined once it has gone. */
function readProcessMemory(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .split(" ")
      .filter((field) => field.trim() !== "")
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * A process's VmRSS and VmHWM; for a process with children (a join with --workers) the sum of
 * their VmRSS with its own, as both figures (the high-water marks of several processes do not add up).
 */
export function readMemory(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  const own = readProcessMemory(pid);
  const children = childPids(pid);
  if (own === undefined || children.length === 0) return own;
  const rssMiB = children.reduce((sum, child) => sum + (readProcessMemory(child)?.rssMiB ?? 0), own.rssMiB);
  return { rssMiB, peakMiB: rssMiB };
}

/** VmRSS and VmHWM from the text of /proc/<pid>/status, in MiB. */
export function parseProcStatus(status: string): { rssMiB: number; peakMiB: number } | undefined {
  const kib = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  };
  const rss = kib("VmRSS");
  const peak = kib("VmHWM");
  return rss === undefined || peak === undefined ? undefined : { rssMiB: rss, peakMiB: peak };
}

/** Samples a process's memory on an interval: the latest VmRSS, the largest VmRSS since a mark, VmHWM. */
export class MemorySampler {
  private timer: NodeJS.Timeout;
  latestMiB = 0;
  peakMiB = 0;
  private sinceMarkMiB = 0;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  sample(): void {
    const memory = readMemory(this.pid);
    if (!memory) return;
    this.latestMiB = memory.rssMiB;
    this.peakMiB = Math.max(this.peakMiB, memory.peakMiB, memory.rssMiB);
    this.sinceMarkMiB = Math.max(this.sinceMarkMiB, memory.rssMiB);
  }

  /** The largest VmRSS seen since the previous call (or the start), and a new mark. */
  takeMaxSinceMark(): number {
    this.sample();
    const max = this.sinceMarkMiB;
    this.sinceMarkMiB = this.latestMiB;
    return max;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
