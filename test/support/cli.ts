// Runs the built `stedi` binary as a user would, and captures what it prints.

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach } from "vitest";
import { projectRoot } from "../data.js";

/** Every process a test started; whatever is still running when the test ends is killed. */
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
});

export type Finished = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
};

export type Running = {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  finished: Promise<Finished>;
  /** Resolves once stderr or stdout contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
};

export type StediOptions = {
  /** Added to the environment; a variable given as undefined is left out. */
  env?: Record<string, string | undefined>;
  /** Another `stedi` to run, e.g. an installed one, as the shell would (its own shebang). */
  executable?: string;
  /** The working directory; the checkout unless given. */
  cwd?: string;
};

export function startStedi(args: string[], options: StediOptions = {}): Running {
  const started = Date.now();
  const [command, argv] = options.executable
    ? [options.executable, args]
    : [process.execPath, [join(projectRoot, "bin", "stedi.js"), ...args]];
  const child = spawn(command, argv, {
    cwd: options.cwd ?? projectRoot,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    notify();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    notify();
  });
  const finished = new Promise<Finished>((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      // Let the pipes drain before reporting.
      setTimeout(() => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }), 20);
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    finished,
    waitFor(text, timeoutMs = 30_000) {
      const seen = () =>
        typeof text === "string" ? `${stdout}${stderr}`.includes(text) : text.test(`${stdout}${stderr}`);
      return new Promise((resolve, reject) => {
        if (seen()) return resolve();
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${String(text)}; stderr: ${stderr}`));
        }, timeoutMs);
        const check = () => {
          if (!seen()) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
      });
    },
  };
}

/** Runs stedi to completion (kills it after `timeoutMs`). */
export async function runStedi(args: string[], options: StediOptions & { timeoutMs?: number } = {}) {
  const running = startStedi(args, options);
  const timer = setTimeout(() => running.child.kill("SIGKILL"), options.timeoutMs ?? 45_000);
  const result = await running.finished;
  clearTimeout(timer);
  return result;
}
