// The partitions this join instance owns and the task of each: taking over, retrying a take-over,
// replacing a task whose transaction failed, and dropping tasks whose partition moved away.

import type { BadCustomerRecord } from "../../core/join/join-steps.js";
import type { StediError } from "../../errors.js";
import type { PartitionTask } from "./partition-task.js";

export type TaskRegistryOptions = {
  /** Takes a partition over (fencing its previous owner); throws when it cannot. */
  start(partition: number): Promise<PartitionTask>;
  /** True once the command stops: no take-over starts after that. */
  isStopping(): boolean;
  /** A Kafka failure as a StediError (the port's classification). */
  classify(error: unknown): StediError;
  /** A take-over that became the partition's task. */
  started(task: PartitionTask): void;
  warn(message: string): void;
  /** Waits before the next take-over attempt. */
  sleep(ms: number): Promise<void>;
};

export class TaskRegistry {
  /** Tasks by partition; a promise while the partition is being taken over. */
  private readonly tasks = new Map<number, Promise<PartitionTask | undefined>>();
  /** The task each settled take-over gave, read synchronously. */
  private readonly startedTasks = new WeakMap<Promise<PartitionTask | undefined>, PartitionTask>();
  private assigned = new Set<number>();

  constructor(private readonly options: TaskRegistryOptions) {}

  get partitions(): ReadonlySet<number> {
    return this.assigned;
  }

  /** After a rebalance: drops the tasks of partitions that moved away, takes over the new ones. */
  assign(partitions: readonly number[]): number[] {
    this.assigned = new Set(partitions);
    const dropped = [...this.tasks.keys()].filter((partition) => !this.assigned.has(partition));
    for (const partition of dropped) void this.drop(partition);
    for (const partition of this.assigned) if (!this.tasks.has(partition)) void this.start(partition);
    return dropped;
  }

  /** The partition's task, taking the partition over when it has none. */
  taskFor(partition: number): Promise<PartitionTask | undefined> {
    return this.tasks.get(partition) ?? this.start(partition);
  }

  /** The task of a partition as it stands (undefined while none or while taking over). */
  current(partition: number): Promise<PartitionTask | undefined> | undefined {
    return this.tasks.get(partition);
  }

  /**
   * One take-over per partition at a time: a start that is no longer the partition's current one
   * gives up, and a task that failed is replaced only by whoever finds it still current.
   */
  private start(partition: number): Promise<PartitionTask | undefined> {
    const { options } = this;
    const starting: Promise<PartitionTask | undefined> = (async () => {
      // Lets the lines below record this start as the partition's current one before it is checked.
      await Promise.resolve();
      const current = () => this.tasks.get(partition) === starting && this.assigned.has(partition);
      for (let attempt = 1; !options.isStopping() && current(); attempt += 1) {
        try {
          const task = await options.start(partition);
          if (!current()) {
            await task.stop();
            return undefined;
          }
          options.started(task);
          return task;
        } catch (error) {
          if (attempt === 1 || attempt % 10 === 0) {
            options.warn(
              `join: taking over partition ${partition} failed (${options.classify(error).message}); retrying`,
            );
          }
          await options.sleep(Math.min(5000, 250 * attempt));
        }
      }
      return undefined;
    })();
    this.tasks.set(partition, starting);
    void starting.then((task) => {
      if (task) this.startedTasks.set(starting, task);
    });
    return starting;
  }

  private async drop(partition: number): Promise<void> {
    const pending = this.tasks.get(partition);
    this.tasks.delete(partition);
    await (await pending)?.stop();
  }

  /** A failed transaction leaves memory ahead of the commit: start the partition again from its changelog. */
  async recover(partition: number, failed: PartitionTask, error: unknown): Promise<void> {
    const pending = this.tasks.get(partition);
    const current = await pending;
    if (current !== failed || this.tasks.get(partition) !== pending) {
      // Already replaced (or dropped) by someone else.
      await failed.stop();
      return;
    }
    this.tasks.delete(partition);
    await failed.stop();
    const failure = this.options.classify(error);
    if (failure.code === "fenced") {
      this.options.warn(`join: partition ${partition} was taken over by another instance`);
      return;
    }
    this.options.warn(`join: partition ${partition}: ${failure.message}; restarting it from its last commit`);
    if (this.assigned.has(partition) && !this.tasks.has(partition)) void this.start(partition);
  }

  /** Runs `work` on every started task; a task whose work fails is recovered. */
  async eachTask(work: (task: PartitionTask) => Promise<unknown>): Promise<void> {
    await Promise.all(
      [...this.tasks.entries()].map(async ([partition, pending]) => {
        const task = await pending;
        if (!task || this.tasks.get(partition) !== pending) return;
        await work(task).catch((error: unknown) => this.recover(partition, task, error));
      }),
    );
  }

  /**
   * The periodic work: every task expires its overdue waiting events, and the owner of partition 0
   * dead-letters the customer topic's bad records. Returns the bad records now handled.
   */
  async maintain(now: number, badCustomers: readonly BadCustomerRecord[]): Promise<BadCustomerRecord[]> {
    await this.eachTask((task) => task.expire(now));
    if (badCustomers.length === 0) return [];
    const owner = await this.tasks.get(0);
    if (!owner) return [];
    return owner.deadLetterCustomers([...badCustomers]).catch((error: unknown) => {
      void this.recover(0, owner, error);
      return [];
    });
  }

  /** Whether any task may hold waiting events: a task still starting counts, as its restored events are not yet visible. */
  anyWaiting(): boolean {
    for (const pending of this.tasks.values()) {
      const task = this.startedTasks.get(pending);
      if (task === undefined || task.waiting > 0) return true;
    }
    return false;
  }

  /** Events waiting across the started tasks. */
  async waitingCount(): Promise<number> {
    let waiting = 0;
    for (const pending of this.tasks.values()) waiting += (await pending)?.waiting ?? 0;
    return waiting;
  }

  /** Lets every task finish its step and release its writer. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.tasks.values()].map(async (pending) => (await pending.catch(() => undefined))?.stop()),
    );
  }
}
