// When a command stops: on a signal, once idle for --exit-on-idle, or on a failure it cannot survive.

export type StopReason =
  | { kind: "signal"; signal: string }
  | { kind: "idle" }
  | { kind: "failure"; error: unknown };

export class Lifecycle {
  readonly stopped: Promise<StopReason>;
  private settle!: (reason: StopReason) => void;
  private lastActivity = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private done = false;

  constructor() {
    this.stopped = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get isStopping(): boolean {
    return this.done;
  }

  stop(reason: StopReason): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.idleTimer);
    this.settle(reason);
  }

  /** Something was read or written: the idle clock starts again. */
  markActivity(): void {
    this.lastActivity = Date.now();
  }

  /**
   * Stops with `idle` once nothing happened for `idleMs` and `isSettled()` holds (e.g. no event is
   * waiting for a customer that may still come). Call it once the consumers have joined.
   */
  watchIdle(idleMs: number | undefined, isSettled: () => boolean | Promise<boolean> = () => true): void {
    if (idleMs === undefined || this.idleTimer) return;
    this.lastActivity = Date.now();
    let checking = false;
    this.idleTimer = setInterval(
      () => {
        if (checking || Date.now() - this.lastActivity < idleMs) return;
        checking = true;
        void Promise.resolve()
          .then(isSettled)
          .then(
            (settled) => {
              if (settled && Date.now() - this.lastActivity >= idleMs) this.stop({ kind: "idle" });
            },
            () => undefined,
          )
          .finally(() => {
            checking = false;
          });
      },
      Math.min(100, idleMs),
    );
  }
}

/** Ctrl-C and SIGTERM stop the lifecycle gracefully; a second Ctrl-C exits at once. */
export function stopOnSignals(lifecycle: Lifecycle): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (lifecycle.isStopping) {
      process.stderr.write(`\n${signal} again: exiting without waiting\n`);
      process.exit(130);
    }
    lifecycle.stop({ kind: "signal", signal });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/** Runs a command body with a fresh lifecycle wired to the process's signals, and always unwires them. */
export async function withSignals<T>(run: (lifecycle: Lifecycle) => Promise<T>): Promise<T> {
  const lifecycle = new Lifecycle();
  const unwire = stopOnSignals(lifecycle);
  try {
    return await run(lifecycle);
  } finally {
    unwire();
  }
}
