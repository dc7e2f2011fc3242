// The local stack under the bench: scripts/stack.sh starts the services that are not running, and the
// bench stops exactly those when it ends — the way the integration tests' global setup does.

import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";

export type StackService = "kafka" | "redis";

/**
 * The services among `wanted` that `stack.sh status` reports down. A service that is up, or still
 * starting (another stack.sh started it), belongs to someone else and is left alone.
 */
export function servicesDown(status: string, wanted: StackService[]): StackService[] {
  return wanted.filter((service) => !new RegExp(`^${service}\\s+(up|starting)\\b`, "m").test(status));
}

export type BenchStack = {
  /** What this run started (and so stops); empty when everything was already running. */
  readonly started: StackService[];
  /** Stops what this run started, once; later calls wait for the first. Resolves also when it fails. */
  stop(): Promise<void>;
  /** For a forced exit: stop() goes on in the background, detached, after this process has gone. */
  stopDetached(): void;
};

/**
 * Starts the `wanted` services that are not running (`stack.sh up`, waiting until they answer) and
 * returns how to stop them again. What to start is decided before `up` runs and handed to `onStarted`
 * first, so a start that fails or is interrupted half way is still stopped. Throws when `status` or
 * `up` fails.
 */
export function startStack(options: {
  projectRoot: string;
  wanted: StackService[];
  /** The environment stack.sh runs with (its ports: KAFKA_PORT, REDIS_PORT). */
  env: Record<string, string | undefined>;
  /** Leave what it starts running (--keep-stack). */
  keep: boolean;
  log: (line: string) => void;
  /** Called with the handle before `up` runs, so the caller can stop a start that fails. */
  onStarted: (stack: BenchStack) => void;
}): BenchStack {
  const script = join(options.projectRoot, "scripts", "stack.sh");
  const env = (services: StackService[]) => ({ ...options.env, STACK_SERVICES: services.join(" ") });
  const status = execFileSync("bash", [script, "status"], { encoding: "utf8", env: env(options.wanted) });
  const started = servicesDown(status, options.wanted);
  const names = started.join(" and ");
  let stopping: Promise<void> | undefined;
  const stack: BenchStack = {
    started,
    stop() {
      if (started.length === 0) return Promise.resolve();
      if (options.keep) {
        options.log(`leaving the ${names} it started running (--keep-stack); scripts/stack.sh down stops it`);
        return Promise.resolve();
      }
      stopping ??= new Promise<void>((resolve) => {
        options.log(`stopping the ${names} it started (scripts/stack.sh down)`);
        // Its own process group: a second Ctrl-C at the terminal does not cut the broker's shutdown short.
        const child = spawn("bash", [script, "down"], {
          env: env(started),
          stdio: ["ignore", "ignore", "inherit"],
          detached: true,
        });
        child.on("error", (error) => {
          options.log(`scripts/stack.sh down: ${error.message}`);
          resolve();
        });
        child.on("exit", (code) => {
          if (code !== 0) options.log(`scripts/stack.sh down exited with ${code}`);
          resolve();
        });
      });
      return stopping;
    },
    stopDetached() {
      if (started.length === 0 || options.keep) return;
      if (stopping) {
        options.log(`the ${names} it started goes on stopping in the background`);
        return;
      }
      options.log(`stopping the ${names} it started in the background (scripts/stack.sh down)`);
      spawn("bash", [script, "down"], { env: env(started), stdio: "ignore", detached: true }).unref();
    },
  };
  options.onStarted(stack);
  if (started.length === 0) {
    options.log(`using the running local stack (${options.wanted.join(", ")}); it is left running`);
    return stack;
  }
  options.log(
    `starting the local ${names} (scripts/stack.sh up); ${options.keep ? "left running afterwards (--keep-stack)" : "stopped again when the bench ends, also after Ctrl-C or a failure"}`,
  );
  execFileSync("bash", [script, "up"], { env: env(started), stdio: ["ignore", "ignore", "inherit"] });
  return stack;
}
