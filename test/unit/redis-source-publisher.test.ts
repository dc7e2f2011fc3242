import { describe, expect, it } from "vitest";
import type { TopicRecords, TransactionalWriter } from "../../src/adapters/kafka/index.js";
import type { ReplicationPosition } from "../../src/adapters/replication.js";
import { encodePosition } from "../../src/core/connector/source-position.js";
import { StediError } from "../../src/errors.js";
import { createSourcePublisher } from "../../src/pipelines/redis-source-publisher.js";

/** A writer that records each committed transaction, or fails with `failWith`. */
function recordingWriter() {
  const commits: TopicRecords[][] = [];
  const writer = {
    transactionalId: "t",
    abortedAtStart: [],
    uncheckedAtStart: [],
    failWith: undefined as Error | undefined,
    begin: () => Promise.reject(new Error("not used")),
    async commit(records: TopicRecords[]) {
      if (writer.failWith) throw writer.failWith;
      commits.push(records);
    },
    close: () => Promise.resolve(),
  };
  return { writer: writer as TransactionalWriter & { failWith?: Error }, commits };
}

function setUp(stored?: ReplicationPosition) {
  const { writer, commits } = recordingWriter();
  let position: ReplicationPosition | undefined = { replid: "r", offset: 10 };
  const events: string[] = [];
  const failures: unknown[] = [];
  const publisher = createSourcePublisher({
    writer,
    topic: "redis-server",
    offsetsTopic: "offsets",
    key: "k",
    stored,
    position: () => position,
    isStopping: () => false,
    markActivity: () => undefined,
    pauseReading: () => events.push("pause"),
    resumeReading: () => events.push("resume"),
    published: (records) => events.push(`published ${records.length}`),
    fail: (error) => failures.push(error),
  });
  return {
    publisher,
    writer,
    commits,
    events,
    failures,
    moveTo: (offset: number) => {
      position = { replid: "r", offset };
    },
  };
}

const record = (index: number) => ({ key: "k", value: `{"n":${index}}` });

describe("createSourcePublisher", () => {
  it("commits the pending records and the position they end at in one transaction", async () => {
    const { publisher, commits, events, moveTo } = setUp();
    publisher.enqueue(record(1));
    publisher.enqueue(record(2));
    moveTo(42);
    expect(publisher.behind()).toBe(true);
    await publisher.flush();
    expect(commits).toEqual([
      [
        {
          topic: "redis-server",
          records: [
            { ...record(1), partition: 0 },
            { ...record(2), partition: 0 },
          ],
        },
        {
          topic: "offsets",
          records: [{ key: "k", value: encodePosition({ replid: "r", offset: 42 }), partition: 0 }],
        },
      ],
    ]);
    expect(publisher.committed).toEqual({ replid: "r", offset: 42 });
    expect(events).toEqual(["published 2"]);
    expect(publisher.behind()).toBe(false);
    expect(publisher.idle()).toBe(true);
  });

  it("commits a position that moved without records, and nothing when nothing moved", async () => {
    const { publisher, commits, moveTo } = setUp({ replid: "r", offset: 10 });
    expect(publisher.behind()).toBe(false);
    await publisher.flush();
    expect(commits).toHaveLength(0);
    moveTo(11);
    await publisher.flush();
    expect(commits).toHaveLength(1);
    expect(commits[0]?.[0]?.records).toEqual([]);
  });

  it("pauses reading at 50,000 pending records and resumes after a flush", async () => {
    const { publisher, events } = setUp();
    for (let index = 0; index < 50_000; index += 1) publisher.enqueue(record(index));
    expect(events).toContain("pause");
    await publisher.flush();
    expect(events.at(-1)).toBe("resume");
    expect(publisher.pendingCount).toBe(0);
  });

  it("keeps the committed position when a commit fails, and names a fenced writer", async () => {
    const { publisher, writer, moveTo } = setUp({ replid: "r", offset: 10 });
    publisher.enqueue(record(1));
    moveTo(20);
    writer.failWith = new StediError("fenced", "fenced");
    await expect(publisher.flush()).rejects.toThrow(/another redis-source took over this Redis and topic/);
    expect(publisher.committed).toEqual({ replid: "r", offset: 10 });
  });
});
